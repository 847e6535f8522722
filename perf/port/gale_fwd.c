/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-fwd: io forwarding through the runtime's own worker loop (runtime/worker.c), for perf/port/run: every
 * packet received on the worker's queue goes back out of the same queue with gale_worker_tx, which keeps a
 * partial burst's tail for the next iteration, as a protocol layer's replies would. This is the loop every gale
 * service runs (rx burst, rx callback, work, tx flush, timers, control ring), so its rate against dpdk-testpmd's
 * io forwarding is the cost of gale's loop itself. gale-port-test --mode fwd (a bare rx/tx loop) is measured
 * beside it.
 *
 *   gale-fwd [EAL args] -- [--duration SEC]      prints "pps: rx N tx N" once a second
 *
 * One worker on the first port, one queue pair; the control thread (the main lcore) prints the rate. Idle policy:
 * pure polling.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <gale/eal.h>
#include <gale/port.h>
#include <gale/runtime.h>
#include <gale/worker.h>

/* Written by the worker only; the control thread reads them with relaxed loads. */
static struct {
	uint64_t rx;
	uint64_t tx;
} counters __attribute__((aligned(64)));

struct fwd_ctl {
	uint64_t end_ns;
	uint64_t next_ns;
	uint64_t last_rx;
	uint64_t last_tx;
	uint64_t last_ns;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Consumes pkts: each goes back out (or is freed and counted by gale_worker_tx). */
static void
fwd_rx(struct gale_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	uint16_t sent;

	(void)arg;
	sent = gale_worker_tx(w, port, pkts, n);
	__atomic_store_n(&counters.rx, counters.rx + n, __ATOMIC_RELAXED);
	__atomic_store_n(&counters.tx, counters.tx + sent, __ATOMIC_RELAXED);
}

static void
fwd_control(struct gale_runtime *rt, void *arg)
{
	struct fwd_ctl *c = arg;
	const uint64_t t = now_ns();
	uint64_t rx, tx;
	double secs;

	if (t >= c->next_ns) {
		rx = __atomic_load_n(&counters.rx, __ATOMIC_RELAXED);
		tx = __atomic_load_n(&counters.tx, __ATOMIC_RELAXED);
		secs = (double)(t - c->last_ns) / 1e9;
		printf("pps: rx %.0f tx %.0f\n", (double)(rx - c->last_rx) / secs, (double)(tx - c->last_tx) / secs);
		fflush(stdout);
		c->last_rx = rx;
		c->last_tx = tx;
		c->last_ns = t;
		c->next_ns += 1000000000ull;
	}
	if (t >= c->end_ns)
		gale_runtime_stop(rt);
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct gale_port_conf pc = { .nb_queues = 1 };
	struct gale_runtime_conf rc;
	struct gale_port port, *ports[1] = { &port };
	struct fwd_ctl ctl;
	struct gale_runtime *rt;
	double duration = 10;
	int ret, c;

	ret = gale_eal_init(argc, argv, NULL, NULL);
	if (ret < 0) {
		fprintf(stderr, "gale-fwd: EAL: %s\n", strerror(-ret));
		return 1;
	}
	argc -= ret;
	argv += ret;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'd' && (duration = strtod(optarg, NULL)) > 0)
			continue;
		printf("usage: gale-fwd [EAL args] -- [--duration SEC]\n");
		return c == 'h' ? 0 : 2;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "gale-fwd: no port (give --vdev=...)\n");
		return 1;
	}
	ret = gale_port_setup(&port, 0, &pc);
	if (ret != 0) {
		fprintf(stderr, "gale-fwd: port setup: %s\n", strerror(-ret));
		return 1;
	}
	memset(&rc, 0, sizeof(rc));
	rc.name = "fwd";
	rc.ports = ports;
	rc.nb_ports = 1;
	rc.close_ports = true;
	rc.nb_workers = 1;
	rc.rx_cb = fwd_rx;
	rc.idle.mode = GALE_IDLE_POLL;
	rc.control_cb = fwd_control;
	rc.control_arg = &ctl;
	rc.drain_ms = 500;
	memset(&ctl, 0, sizeof(ctl));
	ctl.last_ns = now_ns();
	ctl.next_ns = ctl.last_ns + 1000000000ull;
	ctl.end_ns = ctl.last_ns + (uint64_t)(duration * 1e9);
	rt = gale_runtime_create(&rc);
	if (rt == NULL) {
		fprintf(stderr, "gale-fwd: runtime: %s (needs a main lcore and a worker lcore)\n", strerror(errno));
		gale_port_close(&port);
		return 1;
	}
	gale_runtime_signals_install(rt);
	ret = gale_runtime_run(rt);
	printf("gale-fwd: %" PRIu64 " packets forwarded\n", counters.tx);
	gale_runtime_free(rt);
	gale_eal_cleanup();
	return ret == 0 || ret == -ETIMEDOUT ? 0 : 1;
}
