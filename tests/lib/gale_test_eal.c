/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test EAL bootstrap: gale_eal_init's defaults (the same path a program takes with no EAL arguments), quiet,
 * with GALE_TEST_NO_HUGE=1 forcing the no-huge fallback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>

#include <gale/eal.h>

#include "gale_test_eal.h"

static bool eal_up;
static bool eal_huge;

int
gale_test_eal_init(const char *lcores, const char *const *vdevs)
{
	const char *force = getenv("GALE_TEST_NO_HUGE");
	struct gale_eal_defaults def = {
		.lcores = lcores,
		.vdevs = vdevs,
		.mem_mb = 512,
		.log_level = "lib.eal:error",
		.quiet = true,
		.no_huge = force != NULL && strcmp(force, "1") == 0,
	};
	struct gale_eal_info info;
	char *argv[] = { (char *)"gale-test", NULL };
	int ret;

	if (eal_up)
		return 0;
	ret = gale_eal_init(1, argv, &def, &info);
	if (ret < 0) {
		fprintf(stderr, "gale_test_eal_init: EAL init failed: %s\n", strerror(-ret));
		return ret;
	}
	eal_up = true;
	eal_huge = info.huge;
	return 0;
}

int
gale_test_eal_init_float(const char *name, unsigned int nb_lcores, const char *vdev)
{
	static char prog[64], prefix[96], lcores[64], vdev_arg[128];
	char *argv[] = { prog, (char *)"--no-pci", (char *)"--no-huge", (char *)"-m",
		         (char *)"512", prefix, lcores, (char *)"--log-level=lib.eal:error", vdev_arg,
		         NULL };
	struct gale_eal_defaults def = { .quiet = true };
	struct gale_eal_info info;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int argc = vdev != NULL ? 9 : 8, ret;

	if (eal_up)
		return 0;
	snprintf(prog, sizeof(prog), "%s", name);
	snprintf(prefix, sizeof(prefix), "--file-prefix=gale-%s-%d", name, (int)getpid());
	snprintf(lcores, sizeof(lcores), "--lcores=(0-%u)@(0-%ld)", nb_lcores - 1,
		 cpus > 1 ? cpus - 1 : 0);
	snprintf(vdev_arg, sizeof(vdev_arg), "--vdev=%s", vdev != NULL ? vdev : "");
	ret = gale_eal_init(argc, argv, &def, &info);
	if (ret < 0) {
		fprintf(stderr, "gale_test_eal_init_float: EAL init failed: %s\n", strerror(-ret));
		return ret;
	}
	eal_up = true;
	eal_huge = info.huge;
	return 0;
}

bool
gale_test_eal_huge(void)
{
	return eal_huge;
}

int
gale_test_telemetry_query(const char *cmd, char *out, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	char hello[1024];
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2", rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || read(fd, hello, sizeof(hello)) <= 0 ||
	    write(fd, cmd, strlen(cmd)) < 0) {
		close(fd);
		return -1;
	}
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return 0;
}
