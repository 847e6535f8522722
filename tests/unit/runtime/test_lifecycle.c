/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lifecycle under real signals, one child process per case (forked before any EAL exists in the
 * parent).
 *
 * The child brings up the EAL, a net_ring port and a one-worker runtime whose packets circulate
 * without end, installs the runtime's SIGINT/SIGTERM handlers and runs. It tells the parent through
 * a pipe once traffic flows; after gale_runtime_run returns it checks the pool is full (no mbuf
 * leaked or left in a ring), frees everything and exits 0 only if all of that held.
 *
 *   clean:  SIGTERM during traffic -> the child exits 0, well within the drain deadline.
 *   sigint: the same with SIGINT.
 *   force:  the worker never drains (always something in flight, 60 s deadline): after the
 *           first SIGTERM the child is still draining, alive; the second makes it exit at once
 *           with status 128 + SIGTERM.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <gale/eal.h>
#include <gale/port.h>
#include <gale/runtime.h>
#include <gale/worker.h>

enum child_mode { C_CLEAN, C_FORCE };

static struct {
	enum child_mode mode;
	int ready_fd;
	bool told;
	struct gale_port port;
	uint64_t rx;
	bool injected;
} C;

static void
c_rx(struct gale_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	(void)arg;
	__atomic_store_n(&C.rx, C.rx + n, __ATOMIC_RELAXED);
	if (gale_worker_draining(w))
		rte_pktmbuf_free_bulk(pkts, n); /* stop accepting: the circulation ends */
	else
		gale_worker_tx(w, port, pkts, n);
}

static unsigned int
c_work(struct gale_worker *w, void *arg)
{
	struct rte_mbuf *pkts[64];

	(void)arg;
	if (C.injected)
		return 0;
	C.injected = true;
	if (rte_pktmbuf_alloc_bulk(C.port.pool, pkts, 64) != 0)
		return 0;
	for (unsigned int i = 0; i < 64; i++)
		rte_pktmbuf_append(pkts[i], 60);
	return gale_worker_tx(w, 0, pkts, 64);
}

static uint64_t
c_inflight(struct gale_worker *w, void *arg)
{
	(void)w;
	(void)arg;
	return C.mode == C_FORCE ? 1 : 0;
}

static void
c_control(struct gale_runtime *rt, void *arg)
{
	(void)rt;
	(void)arg;
	if (!C.told && __atomic_load_n(&C.rx, __ATOMIC_RELAXED) >= 1000) {
		C.told = true;
		if (write(C.ready_fd, "R", 1) != 1)
			_exit(20);
	}
}

static int
child_main(enum child_mode mode, int ready_fd)
{
	char prefix[64], lcores[64];
	char *argv[] = { (char *)"test_lifecycle",
		         (char *)"--no-pci",
		         (char *)"--no-huge",
		         (char *)"-m",
		         (char *)"256",
		         prefix,
		         lcores,
		         (char *)"--vdev=net_ring0",
		         (char *)"--log-level=lib.eal:error",
		         (char *)"--no-telemetry",
		         NULL };
	const struct gale_port_conf pc = {
		.nb_queues = 1, .nb_rxd = 512, .nb_txd = 512, .nb_mbufs = 2047
	};
	struct gale_eal_defaults def = { .quiet = true };
	struct gale_port *ports[] = { &C.port };
	struct gale_runtime_conf conf = {
		.name = "tlc",
		.ports = ports,
		.nb_ports = 1,
		.close_ports = true,
		.nb_workers = 1,
		.rx_cb = c_rx,
		.work_cb = c_work,
		.inflight_cb = c_inflight,
		.control_cb = c_control,
		.idle = { .mode = GALE_IDLE_SLEEP, .idle_iters = 16, .sleep_us = 200 },
		.drain_ms = mode == C_FORCE ? 60000 : 5000,
	};
	struct gale_eal_info info;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct gale_runtime *rt;
	unsigned int avail, size;
	uint16_t id;
	int ret;

	C.mode = mode;
	C.ready_fd = ready_fd;
	snprintf(prefix, sizeof(prefix), "--file-prefix=gale-tlc-%d", (int)getpid());
	snprintf(lcores, sizeof(lcores), "--lcores=(0-1)@(0-%ld)", cpus > 1 ? cpus - 1 : 0);
	if (gale_eal_init(10, argv, &def, &info) < 0)
		return 11;
	if (gale_port_lookup("net_ring0", &id) != 0 || gale_port_setup(&C.port, id, &pc) != 0)
		return 12;
	rt = gale_runtime_create(&conf);
	if (rt == NULL)
		return 13;
	if (gale_runtime_signals_install(rt) != 0)
		return 14;
	ret = gale_runtime_run(rt);
	avail = rte_mempool_avail_count(C.port.pool);
	size = C.port.pool->size;
	gale_runtime_free(rt); /* closes the port */
	gale_eal_cleanup();
	if (ret != 0) {
		fprintf(stderr, "child: gale_runtime_run: %s\n", strerror(-ret));
		return 15;
	}
	if (avail != size) {
		fprintf(stderr, "child: pool %u of %u after stop\n", avail, size);
		return 16;
	}
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fork a child in mode and wait (bounded) until its traffic flows. */
static pid_t
spawn(enum child_mode mode)
{
	struct pollfd pfd;
	int fds[2];
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(child_main(mode, fds[1]));
	}
	close(fds[1]);
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	if (poll(&pfd, 1, 30000) != 1 || read(fds[0], &c, 1) != 1 || c != 'R') {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("child never reported traffic");
	}
	close(fds[0]);
	return pid;
}

/* Wait up to seconds for pid to exit; true and *status when it did. */
static bool
wait_exit(pid_t pid, double seconds, int *status)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	double end = now_s() + seconds;
	pid_t r;

	do {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		assert_int_equal(r, 0);
		nanosleep(&tick, NULL);
	} while (now_s() < end);
	return false;
}

static void
run_clean(int sig)
{
	pid_t pid = spawn(C_CLEAN);
	double t0;
	int status = -1;

	assert_int_equal(kill(pid, sig), 0);
	t0 = now_s();
	if (!wait_exit(pid, 10, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("child did not exit within 10 s of the signal");
	}
	fprintf(stderr, "signal %d: child exited in %.3f s, status 0x%x\n", sig, now_s() - t0,
	        status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(now_s() - t0 < 5.0); /* the drain deadline */
}

static void
test_sigterm_clean(void **state)
{
	(void)state;
	run_clean(SIGTERM);
}

static void
test_sigint_clean(void **state)
{
	(void)state;
	run_clean(SIGINT);
}

/* A forced exit skips gale_eal_cleanup: remove the child's EAL runtime directory ourselves. */
static void
remove_runtime_dir(pid_t pid)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[512], path[1024];
	struct dirent *de;
	DIR *d;

	if (getuid() == 0 || xdg == NULL)
		snprintf(dir, sizeof(dir), "/var/run/dpdk/gale-tlc-%d", (int)pid);
	else
		snprintf(dir, sizeof(dir), "%s/dpdk/gale-tlc-%d", xdg, (int)pid);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_second_signal_forces(void **state)
{
	pid_t pid = spawn(C_FORCE);
	int status = -1;

	(void)state;
	assert_int_equal(kill(pid, SIGTERM), 0);
	/* Draining with work that never finishes: it must still be there after a while. */
	if (wait_exit(pid, 0.5, &status))
		fail_msg("child exited on the first signal (status 0x%x) though its drain cannot "
		         "finish",
		         status);
	assert_int_equal(kill(pid, SIGTERM), 0);
	if (!wait_exit(pid, 5, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("second signal did not force an exit");
	}
	remove_runtime_dir(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_clean),
		cmocka_unit_test(test_sigint_clean),
		cmocka_unit_test(test_second_signal_forces),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
