/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-worker TCP/IP stacks in the runtime (gale_runtime_conf.stacks) with the native backend of
 * gale/conn.h on the workers, over a crossed net_ring pair: port A is the runtime's (two workers,
 * one queue each, software steering), port B is a peer stack the control callback drives by hand,
 * transmitting on B's queue 0 only.
 *
 * So everything the peer sends arrives on A's queue 0 (worker 0): flows worker 1 owns reach it
 * only through software steering; ARP answers reach only worker 0, and worker 1's ARP requests
 * (which arrive on B's queue 1) are dropped by the test, so worker 1 can talk to the peer only
 * with the mapping worker 0's stack learned and shared. Checked: the peer's 8 connections to the
 * workers' listeners (spread over both by the steering hash) are echoed, each worker's own
 * connection to the peer (source port picked so the replies steer back to it) is echoed, ARP
 * mappings were shared, every worker's stack was made and freed with no connection left, and the
 * pool is full afterwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <gale/conn.h>
#include <gale/eal.h>
#include <gale/port.h>
#include <gale/runtime.h>
#include <gale/steer.h>
#include <gale/tcp.h>
#include <gale/tcpstack.h>
#include <gale/timer.h>
#include <gale/worker.h>

#include "gale_test_eal.h"

#define NW        2
#define NPEER     8
#define IP_A      0xc6120201u /* 198.18.2.1: the runtime's stacks */
#define IP_B      0xc6120202u /* 198.18.2.2: the hand-driven peer */
#define SRV_PORT  7000
#define PEER_PORT 8000

/* Worker side (each worker writes only its own entry; the control thread reads after the run or
 * with relaxed loads). */
struct wstate {
	struct gale_conn_backend *be;
	struct gale_conn *out; /**< the worker's connection to the peer */
	size_t out_got;
	int out_done; /**< echo of its greeting came back */
	int stack_ok; /**< gale_worker_stack was there at init */
	int errors;
	char greet[16];
};

static struct {
	struct gale_port a, b;
	struct wstate ws[NW];
	/* the peer (control thread only) */
	struct gale_stack *peer;
	struct gale_timer_wheel *wheel;
	struct gale_tcp_conn *pc[NPEER];
	size_t pgot[NPEER];
	int peer_done;
	int peer_failed;
	int peer_accepted;
	unsigned int arp_dropped;           /**< worker 1's ARP requests the peer never saw */
	char tel_all[16384], tel_one[8192]; /**< /gale/stacks and /gale/stacks,1 while running */
	int tel_ret;
	bool stopping;
	uint64_t deadline_us;
	unsigned int in_use_a, in_use_b;
} T;

/* ---- workers: native backend ---- */

static void
srv_readable(struct gale_conn *c, void *arg)
{
	struct gale_codec_seg segs[8];
	size_t len;
	unsigned int n;

	(void)arg;
	n = gale_conn_recv_peek(c, segs, 8, &len);
	if (n != 0 && gale_conn_send(c, segs, n) == 0)
		gale_conn_consume(c, len);
	if (gale_conn_eof(c))
		gale_conn_close(c);
}

static const struct gale_conn_callbacks srv_cbs = { .readable = srv_readable };

static int
srv_accept(void *arg, struct gale_conn *c)
{
	(void)arg;
	gale_conn_set_callbacks(c, &srv_cbs, NULL);
	return 0;
}

static void
out_connected(struct gale_conn *c, void *arg)
{
	struct wstate *s = arg;
	struct gale_codec_seg seg = { (const uint8_t *)s->greet, strlen(s->greet) };

	if (gale_conn_send(c, &seg, 1) != 0)
		s->errors++;
}

static void
out_readable(struct gale_conn *c, void *arg)
{
	struct wstate *s = arg;
	struct gale_codec_seg segs[8];
	size_t len;

	gale_conn_recv_peek(c, segs, 8, &len);
	if (len >= strlen(s->greet)) {
		if (memcmp(segs[0].base, s->greet,
		           segs[0].len < strlen(s->greet) ? segs[0].len : strlen(s->greet)))
			s->errors++;
		gale_conn_consume(c, len);
		__atomic_store_n(&s->out_done, 1, __ATOMIC_RELEASE);
	}
}

static void
out_error(struct gale_conn *c, void *arg, int err)
{
	struct wstate *s = arg;

	(void)c;
	(void)err;
	s->errors++;
}

static void
out_closed(struct gale_conn *c, void *arg)
{
	struct wstate *s = arg;

	(void)c;
	s->out = NULL;
}

static const struct gale_conn_callbacks out_cbs = {
	.connected = out_connected,
	.readable = out_readable,
	.error = out_error,
	.closed = out_closed,
};

static int
w_init(struct gale_worker *w, void *arg)
{
	struct wstate *s = &T.ws[gale_worker_id(w)];
	struct gale_conn_conf cc;
	int ret;

	(void)arg;
	memset(&cc, 0, sizeof(cc));
	cc.kind = GALE_CONN_NATIVE;
	cc.stack = gale_worker_stack(w, 0);
	s->stack_ok = cc.stack != NULL && gale_worker_stack_port(w) == 0 &&
	              gale_worker_stack(w, 1) == NULL;
	s->be = gale_conn_backend_create(&cc);
	if (s->be == NULL)
		return -errno;
	ret = gale_conn_listen(s->be, NULL, SRV_PORT, srv_accept, NULL);
	if (ret != 0)
		return ret;
	snprintf(s->greet, sizeof(s->greet), "from w%u", gale_worker_id(w));
	return gale_conn_connect(s->be, "198.18.2.2", PEER_PORT, &out_cbs, s, &s->out);
}

static unsigned int
w_work(struct gale_worker *w, void *arg)
{
	(void)arg;
	return gale_conn_poll(T.ws[gale_worker_id(w)].be);
}

static void
w_fini(struct gale_worker *w, void *arg)
{
	struct wstate *s = &T.ws[gale_worker_id(w)];

	(void)arg;
	gale_conn_backend_free(s->be);
	s->be = NULL;
}

/* ---- the peer: a stack on B's queue 0, driven from the control thread ---- */

static uint16_t
peer_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	(void)ctx;
	return gale_port_tx_burst(&T.b, 0, pkts, n);
}

static struct rte_mbuf *
copy_chain(const struct rte_mbuf *src, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(T.b.pool);
	const void *q;
	uint8_t *p;

	if (m == NULL || len > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	q = rte_pktmbuf_read(src, 0, len, p);
	if (q != p)
		memcpy(p, q, len);
	return m;
}

/* Echo what arrives on connections accepted from the workers. */
static void
pl_readable(struct gale_tcp_conn *c, void *arg)
{
	const struct rte_mbuf *rc;
	struct rte_mbuf *m;
	uint32_t len;

	(void)arg;
	rc = gale_tcp_recv_peek(c, &len);
	if (rc != NULL && len != 0 && (m = copy_chain(rc, len)) != NULL) {
		if (gale_tcp_send(c, m) == 0)
			gale_tcp_consume(c, len);
		else
			rte_pktmbuf_free(m);
	}
}

static const struct gale_tcp_callbacks pl_cbs = { .readable = pl_readable };

static int
pl_accept(void *arg, struct gale_tcp_conn *c)
{
	(void)arg;
	T.peer_accepted++;
	gale_tcp_set_callbacks(c, &pl_cbs, NULL);
	return 0;
}

/* The peer's own connections to the workers' listeners: send "peer k", wait for the echo. */
static void
pc_connected(struct gale_tcp_conn *c, void *arg)
{
	char msg[16];
	struct rte_mbuf *m = rte_pktmbuf_alloc(T.b.pool);
	int len = snprintf(msg, sizeof(msg), "peer %u", (unsigned int)(uintptr_t)arg);

	if (m == NULL) {
		T.peer_failed++;
		return;
	}
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), msg, (size_t)len);
	if (gale_tcp_send(c, m) != 0) {
		rte_pktmbuf_free(m);
		T.peer_failed++;
	}
}

static void
pc_readable(struct gale_tcp_conn *c, void *arg)
{
	unsigned int k = (unsigned int)(uintptr_t)arg;
	uint32_t len;

	gale_tcp_recv_peek(c, &len);
	if (len != 0) {
		gale_tcp_consume(c, len);
		T.pgot[k] += len;
		if (T.pgot[k] == strlen("peer 0"))
			T.peer_done++;
	}
}

static void
pc_error(struct gale_tcp_conn *c, void *arg, int err)
{
	(void)c;
	(void)arg;
	(void)err;
	if (!T.stopping) /* after the stop the workers' backends reset everything: expected */
		T.peer_failed++;
}

static void
pc_closed(struct gale_tcp_conn *c, void *arg)
{
	(void)c;
	T.pc[(uintptr_t)arg] = NULL;
}

static const struct gale_tcp_callbacks pc_cbs = {
	.connected = pc_connected,
	.readable = pc_readable,
	.error = pc_error,
	.closed = pc_closed,
};

static void
peer_poll(void)
{
	struct rte_mbuf *pkts[32];
	uint16_t n, q;

	gale_timer_wheel_advance(T.wheel, gale_timer_now_us());
	n = gale_port_rx_burst(&T.b, 0, pkts, 32);
	if (n != 0)
		gale_stack_input(T.peer, pkts, n);
	/* What worker 1 sends arrives on queue 1: its TCP segments are taken, its ARP requests are
	 * not (dropped, counted), so only a mapping shared by worker 0 lets it reach the peer. */
	for (q = 1; q < NW; q++) {
		uint16_t i, k = 0;

		n = gale_port_rx_burst(&T.b, q, pkts, 32);
		for (i = 0; i < n; i++) {
			const struct rte_ether_hdr *eh =
			        rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);

			if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
				rte_pktmbuf_free(pkts[i]);
				T.arp_dropped++;
			} else {
				pkts[k++] = pkts[i];
			}
		}
		if (k != 0)
			gale_stack_input(T.peer, pkts, k);
	}
	gale_stack_flush(T.peer);
}

static void
control(struct gale_runtime *rt, void *arg)
{
	static int started;
	int done;

	(void)arg;
	if (!started) {
		started = 1;
		for (unsigned int k = 0; k < NPEER; k++)
			if (gale_tcp_connect(T.peer, IP_A, SRV_PORT, &pc_cbs, (void *)(uintptr_t)k,
			                     &T.pc[k]) != 0)
				T.peer_failed++;
	}
	peer_poll();
	done = T.peer_done == NPEER;
	for (unsigned int k = 0; k < NW; k++)
		done = done && __atomic_load_n(&T.ws[k].out_done, __ATOMIC_ACQUIRE);
	if (!T.stopping && (done || gale_timer_now_us() > T.deadline_us)) {
		T.stopping = true;
		/* The stacks' counters as telemetry shows them, while they run. */
		T.tel_ret =
		        gale_test_telemetry_query("/gale/stacks", T.tel_all, sizeof(T.tel_all)) |
		        gale_test_telemetry_query("/gale/stacks,1", T.tel_one, sizeof(T.tel_one));
		gale_runtime_stop(rt);
	}
}

static void
test_stacks_steering_arp(void **state)
{
	const struct gale_stack_conf *stacks[1];
	struct gale_port *ports[1] = { &T.a };
	struct gale_steer *steers[1];
	struct gale_stack_conf tmpl, pcf;
	struct gale_runtime_conf rc;
	struct gale_worker_stats st[NW];
	struct gale_runtime *rt;
	uint64_t shared = 0;

	(void)state;
	steers[0] = gale_port_steer_create(&T.a, 0);
	assert_non_null(steers[0]);
	assert_false(gale_steer_is_rss(steers[0]));
	gale_stack_conf_init(&tmpl);
	tmpl.ip = IP_A;
	stacks[0] = &tmpl;
	/* The peer. */
	T.wheel = gale_timer_wheel_create(gale_timer_now_us());
	assert_non_null(T.wheel);
	gale_stack_conf_init(&pcf);
	pcf.ip = IP_B;
	pcf.mac = T.b.mac;
	pcf.pool = T.b.pool;
	pcf.wheel = T.wheel;
	pcf.tx_burst = peer_tx;
	T.peer = gale_stack_create(&pcf);
	assert_non_null(T.peer);
	assert_int_equal(gale_tcp_listen(T.peer, PEER_PORT, 0, pl_accept, NULL), 0);

	memset(&rc, 0, sizeof(rc));
	rc.name = "rstk";
	rc.ports = ports;
	rc.nb_ports = 1;
	rc.steers = steers;
	rc.stacks = stacks;
	rc.nb_workers = NW;
	rc.init_cb = w_init;
	rc.work_cb = w_work;
	rc.fini_cb = w_fini;
	rc.control_cb = control;
	rc.ctl_period_us = 200;
	rc.idle.mode = GALE_IDLE_SLEEP;
	rc.idle.idle_iters = 16;
	rc.idle.sleep_us = 200;
	rc.telemetry = true;
	rt = gale_runtime_create(&rc);
	assert_non_null(rt);
	T.deadline_us = gale_timer_now_us() + 20 * 1000 * 1000;
	assert_int_equal(gale_runtime_run(rt), 0);

	assert_int_equal(T.peer_failed, 0);
	assert_int_equal(T.peer_done, NPEER);
	for (unsigned int k = 0; k < NW; k++) {
		assert_true(T.ws[k].stack_ok);
		assert_int_equal(T.ws[k].errors, 0);
		assert_int_equal(T.ws[k].out_done, 1);
		gale_worker_stats_get(gale_runtime_worker(rt, k), &st[k]);
		shared += st[k].arp_shared;
		assert_int_equal(st[k].stack_conns_left, 0);
	}
	/* Worker 1 heard the peer only through steering, and its MAC only from worker 0. */
	assert_true(st[1].rx_steered > 0);
	assert_int_equal(st[1].rx_pkts, 0);
	assert_true(shared >= 1);
	assert_true(T.arp_dropped >= 1);
	assert_int_equal(T.peer_accepted, NW);
	/* Telemetry: each worker's stack by WORKER_PORT, counters by name; one worker on request.
	 */
	assert_int_equal(T.tel_ret, 0);
	assert_non_null(strstr(T.tel_all, "\"0_0\""));
	assert_non_null(strstr(T.tel_all, "\"1_0\""));
	assert_non_null(strstr(T.tel_all, "tcp_conn_established"));
	assert_non_null(strstr(T.tel_one, "\"1_0\""));
	assert_null(strstr(T.tel_one, "\"0_0\""));
	gale_runtime_free(rt);
	gale_steer_free(steers[0]);
	/* The peer's connections got RSTs as the workers' backends went; finish and free it. */
	for (int i = 0; i < 50; i++)
		peer_poll();
	gale_stack_free(T.peer);
	gale_timer_wheel_free(T.wheel);
	/* Every buffer is home: what the rx rings held at start they may hold now, nothing more. */
	assert_true(rte_mempool_in_use_count(T.a.pool) <= T.in_use_a);
	assert_true(rte_mempool_in_use_count(T.b.pool) <= T.in_use_b);
}

/* A template without an address is refused at create. */
static void
test_template_needs_ip(void **state)
{
	const struct gale_stack_conf *stacks[1];
	struct gale_port *ports[1] = { &T.a };
	struct gale_stack_conf tmpl;
	struct gale_runtime_conf rc;

	(void)state;
	gale_stack_conf_init(&tmpl);
	stacks[0] = &tmpl;
	memset(&rc, 0, sizeof(rc));
	rc.ports = ports;
	rc.nb_ports = 1;
	rc.stacks = stacks;
	rc.nb_workers = NW;
	assert_null(gale_runtime_create(&rc));
	assert_int_equal(errno, EINVAL);
}

static int
setup(void **state)
{
	const struct gale_port_conf pc = { .nb_queues = NW,
		                           .nb_mbufs = 8191,
		                           .steer = GALE_STEER_SW };
	uint16_t a, b;

	(void)state;
	/* Three lcores (control + 2 workers) floating over the CPUs we have. */
	if (gale_test_eal_init_float("trs", 3, NULL) < 0)
		return -1;
	if (gale_port_ring_pair("rstk", NW, 0, SOCKET_ID_ANY, &a, &b) != 0 ||
	    gale_port_setup(&T.a, a, &pc) != 0 || gale_port_setup(&T.b, b, &pc) != 0)
		return -1;
	/* net_ring ports have no MAC of their own (all zero): give each side one (nothing filters).
	 */
	T.a.mac = (struct rte_ether_addr){ .addr_bytes = { 0x02, 0, 0, 0, 2, 0x0a } };
	T.b.mac = (struct rte_ether_addr){ .addr_bytes = { 0x02, 0, 0, 0, 2, 0x0b } };
	T.in_use_a = rte_mempool_in_use_count(T.a.pool);
	T.in_use_b = rte_mempool_in_use_count(T.b.pool);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	gale_port_close(&T.a);
	gale_port_close(&T.b);
	return gale_eal_cleanup();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_needs_ip),
		cmocka_unit_test(test_stacks_steering_arp),
	};

	return cmocka_run_group_tests_name("runtime_stack", tests, setup, teardown);
}
