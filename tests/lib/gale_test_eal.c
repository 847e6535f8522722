/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test EAL bootstrap: gale_eal_init's defaults (the same path a program takes with no EAL arguments), quiet,
 * with GALE_TEST_NO_HUGE=1 forcing the no-huge fallback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool
gale_test_eal_huge(void)
{
	return eal_huge;
}
