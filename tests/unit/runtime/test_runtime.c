/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker loop and lifecycle (gale/runtime.h, gale/worker.h) driven end to end on a net_ring
 * port, whose tx queue k feeds its rx queue k: what worker k sends comes back to worker k.
 *
 * Two workers plus the control thread on the main lcore, mapped onto the machine's CPUs with
 * --lcores (the machine may have two cores for three threads, so workers use the sleeping idle
 * policy). Each case builds a runtime, runs it until its control callback decides to stop (or a
 * deadline), and checks the per-worker counts, the loop statistics, and that the port's pool is
 * full again afterwards (no mbuf leaked, none left in a ring). Telemetry is queried through its
 * real socket (the EAL's runtime directory), as dpdk-telemetry.py would.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <gale/eal.h>
#include <gale/port.h>
#include <gale/runtime.h>
#include <gale/steer.h>
#include <gale/timer.h>
#include <gale/worker.h>

#include "gale_test_eal.h"

#define MAGIC 0x6a1e5eedu
/* RTE_IPV4 shifts an int by 24 (undefined for 198 << 24, UBSan says so): the same, unsigned. */
#define IP4(a, b, c, d)                                                                            \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define NW 2

enum mode {
	M_LOOP,
	M_TXTAIL,
	M_TIMERS,
	M_DRAIN,
	M_DRAIN_TIMEOUT,
	M_SIGNAL,
	M_INITFAIL,
	M_SNAP,
	M_STEER
};

struct payload {
	uint32_t magic;
	uint16_t worker;
	uint16_t hops;
};

/* Per-worker test state: written by its worker (relaxed atomics where the control thread reads). */
struct tw {
	uint64_t rx;
	uint64_t bad;
	uint64_t calls;
	uint64_t accepted;    /* TXTAIL: packets gale_worker_tx queued */
	uint64_t dropped;     /* TXTAIL: the rest */
	uint64_t queued_seen; /* TXTAIL: tx_queued seen on the next iteration */
	uint64_t fired;
	uint64_t early;
	uint64_t periodic;
	bool injected;
	bool inited;
	bool finied;
	bool fired_draining; /* DRAIN: the in-flight work completed while draining */
	unsigned int stash_at_fini;
	uint64_t snap_last; /* SNAP: newest version used */
	uint64_t snap_switches;
	uint64_t snap_unreported;
	uint64_t cmds; /* SNAP: user commands received, in order */
	struct gale_timer timers[16];
	uint64_t expire[16];
	struct gale_timer periodic_timer;
	struct gale_timer stash_timer;
	struct rte_mbuf *stash[256];
	unsigned int stash_n;
} __rte_cache_aligned;

static struct {
	enum mode mode;
	struct gale_port port;
	struct tw w[NW];
	double deadline;
	bool raised;
	bool tel_done;
	char tel_workers[8192];
	char tel_ports[4096];
	char tel_rings[4096];
	char tel_runtime[1024];
	char tel_one[2048];
	char tel_counters[1024];
	unsigned int published;
	unsigned int cmds_sent[NW];
	uint8_t snap_freed[64];
	struct gale_steer *steer;
} T;

enum { STEER_N = 200 };

enum { SNAPS = 50, CMDS = 20, CTR_SWITCH = 1 };

struct tsnap {
	struct gale_snapshot hdr;
	uint64_t v;
	uint64_t words[8];
};

static void
tsnap_free(struct gale_snapshot *snap, void *arg)
{
	struct tsnap *s = (struct tsnap *)snap;

	(void)arg;
	assert_true(s->v >= 1 && s->v <= SNAPS);
	T.snap_freed[s->v]++;
	memset(s, 0xdb, sizeof(*s));
	free(s);
}

enum { INJECT = 100, HOPS = 50, TAIL_N = 3000 };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
wr(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static unsigned int
inject(struct gale_worker *w, unsigned int n, uint16_t hops)
{
	struct rte_mbuf *pkts[INJECT];
	struct payload *pl;
	unsigned int i;
	char *data;

	assert_true(n <= INJECT);
	if (rte_pktmbuf_alloc_bulk(T.port.pool, pkts, n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		data = rte_pktmbuf_append(pkts[i], 64);
		assert_non_null(data);
		pl = (struct payload *)data;
		pl->magic = MAGIC;
		pl->worker = (uint16_t)gale_worker_id(w);
		pl->hops = hops;
	}
	return gale_worker_tx(w, 0, pkts, (uint16_t)n);
}

static void
stash_timer_cb(struct gale_timer *t, void *arg)
{
	struct gale_worker *w = arg;
	struct tw *s = &T.w[gale_worker_id(w)];

	(void)t;
	/* The in-flight work completes: what was held goes out. */
	if (gale_worker_draining(w))
		s->fired_draining = true;
	gale_worker_tx(w, 0, s->stash, (uint16_t)s->stash_n);
	wr(&s->fired, s->fired + 1);
	s->stash_n = 0;
}

static void
rx_cb(struct gale_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	struct tw *s = &T.w[gale_worker_id(w)];
	struct payload *pl;

	(void)arg;
	assert_int_equal(port, 0);
	if (T.mode == M_STEER) {
		for (uint16_t i = 0; i < n; i++) {
			if (gale_steer_owner_mbuf(T.steer, pkts[i]) != gale_worker_id(w))
				wr(&s->bad, s->bad + 1);
		}
		wr(&s->rx, s->rx + n);
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		pl = rte_pktmbuf_mtod(pkts[i], struct payload *);
		if (pl->magic != MAGIC || pl->worker != gale_worker_id(w))
			wr(&s->bad, s->bad + 1);
		wr(&s->rx, s->rx + 1);
		if ((T.mode == M_DRAIN || T.mode == M_DRAIN_TIMEOUT) && !gale_worker_draining(w) &&
		    s->stash_n < RTE_DIM(s->stash)) {
			s->stash[s->stash_n++] = pkts[i];
			if (!gale_timer_pending(&s->stash_timer)) {
				gale_timer_init(&s->stash_timer, stash_timer_cb, w);
				gale_timer_arm(gale_worker_timers(w), &s->stash_timer,
				               gale_worker_now_us(w) +
				                       (T.mode == M_DRAIN ? 50000 : 60000000));
			}
			continue;
		}
		if (T.mode == M_LOOP || T.mode == M_SIGNAL) {
			if (--pl->hops > 0 && !gale_worker_draining(w)) {
				gale_worker_tx(w, 0, &pkts[i], 1);
				continue;
			}
		}
		rte_pktmbuf_free(pkts[i]);
	}
}

static void
timer_cb(struct gale_timer *t, void *arg)
{
	struct gale_worker *w = arg;
	struct tw *s = &T.w[gale_worker_id(w)];
	unsigned int i = (unsigned int)(t - s->timers);

	if (gale_timer_now_us() < s->expire[i])
		wr(&s->early, s->early + 1);
	wr(&s->fired, s->fired + 1);
}

static void
periodic_cb(struct gale_timer *t, void *arg)
{
	struct gale_worker *w = arg;
	struct tw *s = &T.w[gale_worker_id(w)];

	wr(&s->periodic, s->periodic + 1);
	if (s->periodic < 10)
		gale_timer_arm(gale_worker_timers(w), t, gale_worker_now_us(w) + 100);
}

/* 198.18.0.1:sport -> 198.18.0.2:80, TCP, no payload. */
static void
tcp_frame(struct rte_mbuf *m, uint16_t sport)
{
	char *data =
	        rte_pktmbuf_append(m, sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
	                                      sizeof(struct rte_tcp_hdr));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)data;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

	assert_non_null(data);
	memset(eth, 0, sizeof(*eth));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*tcp));
	ip->src_addr = rte_cpu_to_be_32(IP4(198, 18, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(IP4(198, 18, 0, 2));
	memset(tcp, 0, sizeof(*tcp));
	tcp->src_port = rte_cpu_to_be_16(sport);
	tcp->dst_port = rte_cpu_to_be_16(80);
	tcp->data_off = 5 << 4;
}

static unsigned int
work_cb(struct gale_worker *w, void *arg)
{
	unsigned int k = gale_worker_id(w), n, i;
	struct tw *s = &T.w[k];
	struct gale_worker_stats st;
	struct rte_mbuf *pkts[100];

	(void)arg;
	s->calls++;
	if (T.mode == M_SNAP) {
		const struct tsnap *cur = (const struct tsnap *)gale_worker_snapshot(w);
		struct gale_ctl_msg up = { .type = GALE_CTL_COUNTER, .code = CTR_SWITCH };

		if (cur == NULL)
			return 0;
		for (i = 0; i < 8; i++) {
			if (cur->words[i] != cur->v * 31 + i || cur->hdr.version != cur->v)
				wr(&s->bad, s->bad + 1);
		}
		if (cur->v < s->snap_last)
			wr(&s->bad, s->bad + 1);
		if (cur->v > s->snap_last) {
			wr(&s->snap_last, cur->v);
			wr(&s->snap_switches, s->snap_switches + 1);
			s->snap_unreported++;
		}
		if (s->snap_unreported != 0) {
			up.arg = s->snap_unreported;
			if (gale_worker_send_up(w, &up) == 0)
				s->snap_unreported = 0;
		}
		return 0;
	}
	if (s->injected) {
		if (T.mode == M_TXTAIL && k == 0 && s->calls == 2) {
			gale_worker_stats_get(w, &st);
			wr(&s->queued_seen, st.tx_queued);
		}
		return 0;
	}
	s->injected = true;
	switch (T.mode) {
	case M_LOOP:
	case M_SIGNAL:
		return inject(w, INJECT, HOPS);
	case M_DRAIN:
	case M_DRAIN_TIMEOUT:
		return inject(w, 20, 1);
	case M_TXTAIL:
		if (k != 0)
			return 0;
		for (i = 0; i < TAIL_N; i += 100) {
			assert_int_equal(rte_pktmbuf_alloc_bulk(T.port.pool, pkts, 100), 0);
			for (unsigned int j = 0; j < 100; j++) {
				struct payload *pl =
				        (struct payload *)rte_pktmbuf_append(pkts[j], 64);

				pl->magic = MAGIC;
				pl->worker = 0;
				pl->hops = 1;
			}
			n = gale_worker_tx(w, 0, pkts, 100);
			wr(&s->accepted, s->accepted + n);
			wr(&s->dropped, s->dropped + 100 - n);
		}
		return TAIL_N;
	case M_STEER:
		if (k != 0)
			return 0;
		for (i = 0; i < STEER_N; i += 100) {
			assert_int_equal(rte_pktmbuf_alloc_bulk(T.port.pool, pkts, 100), 0);
			for (unsigned int j = 0; j < 100; j++)
				tcp_frame(pkts[j], (uint16_t)(1000 + i + j));
			n = gale_worker_tx(w, 0, pkts, 100);
			assert_int_equal(n, 100);
		}
		return STEER_N;
	case M_TIMERS:
		for (i = 0; i < 16; i++) {
			gale_timer_init(&s->timers[i], timer_cb, w);
			s->expire[i] = gale_worker_now_us(w) + (i + 1) * 500;
			gale_timer_arm(gale_worker_timers(w), &s->timers[i], s->expire[i]);
		}
		gale_timer_init(&s->periodic_timer, periodic_cb, w);
		gale_timer_arm(gale_worker_timers(w), &s->periodic_timer,
		               gale_worker_now_us(w) + 100);
		return 1;
	default:
		return 0;
	}
}

static void
wctl_cb(struct gale_worker *w, const struct gale_ctl_msg *msg, void *arg)
{
	struct tw *s = &T.w[gale_worker_id(w)];

	(void)arg;
	if (msg->type == GALE_CTL_CMD) {
		if (msg->code != 7 || msg->arg != s->cmds)
			wr(&s->bad, s->bad + 1);
		wr(&s->cmds, s->cmds + 1);
	}
}

static int
init_cb(struct gale_worker *w, void *arg)
{
	(void)arg;
	T.w[gale_worker_id(w)].inited = true;
	assert_int_equal(rte_lcore_id(), gale_worker_lcore(w));
	assert_int_equal(gale_worker_nb_ports(w), 1);
	assert_ptr_equal(gale_worker_port(w, 0), &T.port);
	assert_null(gale_worker_port(w, 1));
	assert_ptr_equal(gale_runtime_worker(gale_worker_runtime(w), gale_worker_id(w)), w);
	gale_worker_set_user(w, &T.w[gale_worker_id(w)]);
	if (T.mode == M_INITFAIL && gale_worker_id(w) == 1)
		return -EIO;
	return 0;
}

static void
fini_cb(struct gale_worker *w, void *arg)
{
	struct tw *s = gale_worker_user(w);

	(void)arg;
	assert_ptr_equal(s, &T.w[gale_worker_id(w)]);
	s->finied = true;
	s->stash_at_fini = s->stash_n;
	/* Whatever is still held is released here, as the lifecycle contract says. */
	gale_timer_cancel(gale_worker_timers(w), &s->stash_timer);
	rte_pktmbuf_free_bulk(s->stash, s->stash_n);
	s->stash_n = 0;
}

static uint64_t
inflight_cb(struct gale_worker *w, void *arg)
{
	(void)arg;
	return T.w[gale_worker_id(w)].stash_n;
}

static void
control_cb(struct gale_runtime *rt, void *arg)
{
	bool done = true;

	(void)arg;
	for (unsigned int k = 0; k < NW; k++) {
		switch (T.mode) {
		case M_LOOP:
		case M_SIGNAL:
			done = done && rd(&T.w[k].rx) >= (uint64_t)INJECT * HOPS;
			break;
		case M_TXTAIL:
			done = done && (k != 0 || (rd(&T.w[0].accepted) != 0 &&
			                           rd(&T.w[0].rx) >= rd(&T.w[0].accepted)));
			break;
		case M_TIMERS:
			done = done && rd(&T.w[k].fired) >= 16 && rd(&T.w[k].periodic) >= 10;
			break;
		case M_DRAIN:
		case M_DRAIN_TIMEOUT:
			done = done && rd(&T.w[k].rx) >= 20;
			break;
		case M_SNAP:
			done = done && gale_ctl_acked(gale_runtime_ctl(rt), k) == SNAPS &&
			       rd(&T.w[k].cmds) == CMDS;
			break;
		case M_STEER:
			done = done && rd(&T.w[0].rx) + rd(&T.w[1].rx) >= STEER_N;
			break;
		default:
			break;
		}
	}
	if (now_s() > T.deadline) {
		gale_runtime_stop(rt); /* the checks after run will say what was missing */
		return;
	}
	if (T.mode == M_SNAP && T.published < SNAPS) {
		struct tsnap *sn = malloc(sizeof(*sn));
		struct gale_ctl_msg cmd = { .type = GALE_CTL_CMD, .code = 7 };

		assert_non_null(sn);
		sn->hdr.free_cb = tsnap_free;
		sn->v = ++T.published;
		for (unsigned int i = 0; i < 8; i++)
			sn->words[i] = sn->v * 31 + i;
		assert_int_equal(gale_ctl_publish(gale_runtime_ctl(rt), &sn->hdr), 0);
		assert_int_equal(sn->hdr.version, sn->v);
		for (unsigned int k = 0; k < NW; k++) {
			cmd.arg = T.cmds_sent[k];
			if (T.cmds_sent[k] < CMDS &&
			    gale_ctl_send(gale_runtime_ctl(rt), k, &cmd) == 0)
				T.cmds_sent[k]++;
		}
		return;
	}
	if (!done || gale_runtime_phase(rt) != GALE_RUNTIME_RUNNING)
		return;
	if (T.mode == M_LOOP && !T.tel_done) {
		T.tel_done = true;
		assert_int_equal(gale_test_telemetry_query("/gale/workers", T.tel_workers, sizeof(T.tel_workers)),
		                 0);
		assert_int_equal(gale_test_telemetry_query("/gale/workers,1", T.tel_one, sizeof(T.tel_one)), 0);
		assert_int_equal(gale_test_telemetry_query("/gale/ports", T.tel_ports, sizeof(T.tel_ports)), 0);
		assert_int_equal(gale_test_telemetry_query("/gale/rings", T.tel_rings, sizeof(T.tel_rings)), 0);
		assert_int_equal(gale_test_telemetry_query("/gale/runtime", T.tel_runtime, sizeof(T.tel_runtime)),
		                 0);
	}
	if (T.mode == M_STEER && !T.tel_done) {
		T.tel_done = true;
		assert_int_equal(gale_test_telemetry_query("/gale/rings", T.tel_rings, sizeof(T.tel_rings)), 0);
	}
	if (T.mode == M_SIGNAL) {
		if (!T.raised) {
			T.raised = true;
			raise(SIGTERM); /* the handler asks for the stop */
		}
		return;
	}
	gale_runtime_stop(rt);
}

static struct gale_runtime *
make_idle(enum mode mode, unsigned int drain_ms, enum gale_idle_mode idle)
{
	struct gale_port *ports[] = { &T.port };
	struct gale_steer *steers[] = { T.steer };
	struct gale_runtime_conf conf = {
		.name = "trt",
		.ports = ports,
		.nb_ports = 1,
		.steers = mode == M_STEER ? steers : NULL,
		.nb_workers = NW,
		.rx_cb = rx_cb,
		.work_cb = work_cb,
		.ctl_cb = wctl_cb,
		.init_cb = init_cb,
		.fini_cb = fini_cb,
		.inflight_cb = inflight_cb,
		.control_cb = control_cb,
		.idle = { .mode = idle, .idle_iters = 16, .sleep_us = 200 },
		.drain_ms = drain_ms,
		.telemetry = true,
	};
	struct gale_runtime *rt;

	memset(T.w, 0, sizeof(T.w));
	T.mode = mode;
	T.deadline = now_s() + 30;
	T.raised = false;
	T.published = 0;
	memset(T.cmds_sent, 0, sizeof(T.cmds_sent));
	memset(T.snap_freed, 0, sizeof(T.snap_freed));
	rt = gale_runtime_create(&conf);
	assert_non_null(rt);
	assert_int_equal(gale_runtime_nb_workers(rt), NW);
	assert_int_equal(gale_runtime_phase(rt), GALE_RUNTIME_CREATED);
	return rt;
}

static struct gale_runtime *
make(enum mode mode, unsigned int drain_ms)
{
	return make_idle(mode, drain_ms, GALE_IDLE_SLEEP);
}

static void
check_pool_full(void)
{
	assert_int_equal(rte_mempool_avail_count(T.port.pool), T.port.pool->size);
}

static void
test_loop(void **state)
{
	struct gale_runtime *rt = make(M_LOOP, 0);
	struct gale_worker_stats st;

	(void)state;
	T.tel_done = false;
	assert_int_equal(gale_runtime_run(rt), 0);
	assert_int_equal(gale_runtime_phase(rt), GALE_RUNTIME_STOPPED);
	for (unsigned int k = 0; k < NW; k++) {
		assert_true(T.w[k].inited);
		assert_true(T.w[k].finied);
		assert_int_equal(T.w[k].bad, 0);
		assert_int_equal(T.w[k].rx, (uint64_t)INJECT * HOPS);
		gale_worker_stats_get(gale_runtime_worker(rt, k), &st);
		assert_int_equal(st.rx_pkts, (uint64_t)INJECT * HOPS);
		assert_int_equal(st.tx_pkts, (uint64_t)INJECT * HOPS);
		assert_int_equal(st.tx_dropped, 0);
		assert_int_equal(st.tx_queued, 0);
		assert_true(st.rx_bursts > 0 && st.rx_bursts <= st.rx_pkts);
		assert_true(st.iterations > 0);
		assert_true(st.busy_cycles > 0);
		assert_true(st.idle_cycles > 0);
		assert_true(st.ctl_msgs >= 2); /* DRAIN and STOP */
		assert_int_equal(st.work_units, INJECT);
	}
	assert_null(gale_runtime_worker(rt, NW));
	check_pool_full();
	/* Telemetry answered through the socket with per-worker, port, ring and runtime data. */
	assert_true(T.tel_done);
	assert_non_null(strstr(T.tel_workers, "\"/gale/workers\""));
	assert_non_null(strstr(T.tel_workers, "\"0\""));
	assert_non_null(strstr(T.tel_workers, "\"1\""));
	assert_non_null(strstr(T.tel_workers, "\"rx_pkts\":5000"));
	assert_non_null(strstr(T.tel_workers, "\"busy_cycles\""));
	assert_non_null(strstr(T.tel_one, "\"iterations\""));
	assert_null(strstr(T.tel_one, "\"0\""));
	assert_non_null(strstr(T.tel_ports, "\"net_ring0\""));
	assert_non_null(strstr(T.tel_ports, "\"opackets\":10000"));
	assert_non_null(strstr(T.tel_rings, "\"ctl_down\""));
	assert_non_null(strstr(T.tel_runtime, "\"phase\":\"running\""));
	assert_non_null(strstr(T.tel_runtime, "\"workers\":2"));
	gale_runtime_free(rt);
}

static void
test_tx_tail(void **state)
{
	struct gale_runtime *rt = make(M_TXTAIL, 0);
	struct gale_worker_stats st;

	(void)state;
	assert_int_equal(gale_runtime_run(rt), 0);
	gale_worker_stats_get(gale_runtime_worker(rt, 0), &st);
	fprintf(stderr,
	        "tx tail: %llu accepted, %llu dropped, %llu queued after the first iteration\n",
	        (unsigned long long)T.w[0].accepted, (unsigned long long)T.w[0].dropped,
	        (unsigned long long)T.w[0].queued_seen);
	assert_int_equal(T.w[0].accepted + T.w[0].dropped, TAIL_N);
	/* The device took less than a burst's worth of everything: a tail was kept, the excess
	 * dropped. */
	assert_true(T.w[0].queued_seen > 0);
	assert_true(T.w[0].dropped > 0);
	assert_int_equal(st.tx_dropped, T.w[0].dropped);
	assert_int_equal(st.tx_pkts, T.w[0].accepted);
	assert_int_equal(T.w[0].rx, T.w[0].accepted);
	assert_int_equal(st.tx_queued, 0);
	assert_int_equal(T.w[0].bad, 0);
	check_pool_full();
	gale_runtime_free(rt);
}

static void
test_timers(void **state)
{
	struct gale_runtime *rt = make(M_TIMERS, 0);
	struct gale_worker_stats st;

	(void)state;
	assert_int_equal(gale_runtime_run(rt), 0);
	for (unsigned int k = 0; k < NW; k++) {
		assert_int_equal(T.w[k].fired, 16);
		assert_int_equal(T.w[k].early, 0);
		assert_int_equal(T.w[k].periodic, 10);
		gale_worker_stats_get(gale_runtime_worker(rt, k), &st);
		assert_int_equal(st.timers_run, 26);
		assert_true(st.sleeps > 0); /* the idle policy slept between timers */
	}
	gale_runtime_free(rt);
}

/* The other idle policies: timers still fire on time, and nobody sleeps. */
static void
test_idle_poll_pause(void **state)
{
	static const enum gale_idle_mode modes[] = { GALE_IDLE_PAUSE, GALE_IDLE_POLL };
	struct gale_worker_stats st;
	struct gale_runtime *rt;

	(void)state;
	for (unsigned int m = 0; m < 2; m++) {
		rt = make_idle(M_TIMERS, 0, modes[m]);
		assert_int_equal(gale_runtime_run(rt), 0);
		for (unsigned int k = 0; k < NW; k++) {
			assert_int_equal(T.w[k].fired, 16);
			assert_int_equal(T.w[k].early, 0);
			assert_int_equal(T.w[k].periodic, 10);
			gale_worker_stats_get(gale_runtime_worker(rt, k), &st);
			assert_int_equal(st.sleeps, 0);
			assert_true(st.idle_cycles > 0);
		}
		gale_runtime_free(rt);
	}
}

/* Snapshots and commands reach the workers inside the loop; counter deltas come back up and are
 * summed. */
static void
test_snapshots(void **state)
{
	struct gale_runtime *rt = make(M_SNAP, 0);
	uint64_t switches = 0, unreported = 0;

	(void)state;
	assert_int_equal(gale_runtime_run(rt), 0);
	for (unsigned int k = 0; k < NW; k++) {
		assert_int_equal(T.w[k].bad, 0);
		assert_int_equal(T.w[k].snap_last, SNAPS);
		assert_int_equal(T.w[k].cmds, CMDS);
		assert_true(T.w[k].snap_switches >= 1);
		switches += T.w[k].snap_switches;
		unreported += T.w[k].snap_unreported;
	}
	assert_int_equal(gale_runtime_counter(rt, CTR_SWITCH) + unreported, switches);
	assert_int_equal(gale_runtime_counter(rt, GALE_RUNTIME_COUNTERS), 0);
	assert_int_equal(gale_test_telemetry_query("/gale/counters", T.tel_counters, sizeof(T.tel_counters)), 0);
	assert_non_null(strstr(T.tel_counters, "\"/gale/counters\""));
	/* All but the newest were freed by grace periods while running; free releases the last. */
	assert_int_equal(gale_ctl_live(gale_runtime_ctl(rt)), 1);
	gale_runtime_free(rt);
	for (unsigned int v = 1; v <= SNAPS; v++)
		assert_int_equal(T.snap_freed[v], 1);
}

/* Software steering in the loop: everything arrives on worker 0's queue; each flow ends at its
 * owner. */
static void
test_steering(void **state)
{
	const struct gale_steer_conf sc = { .nb_workers = NW, .name = "tst", .socket = -1 };
	struct gale_worker_stats st[NW];
	uint64_t expect[NW] = { 0 };
	struct gale_runtime *rt;
	uint32_t h;

	(void)state;
	T.steer = gale_steer_create(&sc);
	assert_non_null(T.steer);
	for (unsigned int i = 0; i < STEER_N; i++) {
		h = gale_steer_hash_v4(T.steer, IP4(198, 18, 0, 1), IP4(198, 18, 0, 2),
		                       (uint16_t)(1000 + i), 80);
		expect[gale_steer_owner_hash(T.steer, h)]++;
	}
	assert_true(expect[0] > 0 && expect[1] > 0); /* 200 ports spread over both */
	rt = make(M_STEER, 0);
	T.tel_done = false;
	assert_int_equal(gale_runtime_run(rt), 0);
	assert_true(T.tel_done);
	assert_non_null(strstr(T.tel_rings, "\"steer_forwarded\""));
	assert_non_null(strstr(T.tel_rings, "\"steer_pending\""));
	for (unsigned int k = 0; k < NW; k++) {
		gale_worker_stats_get(gale_runtime_worker(rt, k), &st[k]);
		assert_int_equal(T.w[k].bad, 0);
		assert_int_equal(T.w[k].rx, expect[k]);
	}
	assert_int_equal(st[0].rx_pkts, STEER_N);
	assert_int_equal(st[1].rx_pkts, 0);
	assert_int_equal(st[0].rx_steered, 0);
	assert_int_equal(st[1].rx_steered, expect[1]);
	gale_runtime_free(rt);
	gale_steer_free(T.steer);
	T.steer = NULL;
	check_pool_full();
}

static void
test_drain(void **state)
{
	struct gale_runtime *rt = make(M_DRAIN, 5000);

	(void)state;
	assert_int_equal(gale_runtime_run(rt), 0);
	for (unsigned int k = 0; k < NW; k++) {
		/* Stop came while 20 packets were held; the drain waited for their timer, which
		 * sent them. */
		assert_true(T.w[k].fired_draining);
		assert_int_equal(T.w[k].stash_at_fini, 0);
		assert_int_equal(T.w[k].rx,
		                 40); /* 20 in, 20 back after the timer, freed as drain traffic */
	}
	assert_true(gale_runtime_drain_us(rt) > 0);
	check_pool_full();
	gale_runtime_free(rt);
}

static void
test_drain_timeout(void **state)
{
	struct gale_runtime *rt = make(M_DRAIN_TIMEOUT, 200);
	double t0 = now_s();

	(void)state;
	assert_int_equal(gale_runtime_run(rt), -ETIMEDOUT);
	assert_true(now_s() - t0 < 10);
	assert_true(gale_runtime_drain_us(rt) >= 200000);
	for (unsigned int k = 0; k < NW; k++) {
		assert_int_equal(T.w[k].fired, 0);
		assert_int_equal(T.w[k].stash_at_fini, 20); /* released by fini, not by the timer */
	}
	check_pool_full();
	gale_runtime_free(rt);
}

static void
test_signal(void **state)
{
	struct gale_runtime *rt = make(M_SIGNAL, 0);
	struct sigaction sa;

	(void)state;
	assert_int_equal(gale_runtime_signals_install(rt), 0);
	assert_int_equal(gale_runtime_run(rt), 0);
	assert_true(T.raised);
	for (unsigned int k = 0; k < NW; k++)
		assert_int_equal(T.w[k].rx, (uint64_t)INJECT * HOPS);
	check_pool_full();
	gale_runtime_free(rt);
	/* Handlers are restored. */
	assert_int_equal(sigaction(SIGTERM, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_DFL);
}

static void
test_init_fail(void **state)
{
	struct gale_runtime *rt = make(M_INITFAIL, 0);

	(void)state;
	assert_int_equal(gale_runtime_run(rt), -EIO);
	assert_true(T.w[0].finied);
	assert_false(T.w[1].finied);
	check_pool_full();
	gale_runtime_free(rt);
}

static void
test_bad_conf(void **state)
{
	struct gale_port *ports[] = { &T.port };
	struct gale_runtime_conf conf = { .ports = ports, .nb_ports = 1, .nb_workers = 3 };

	(void)state;
	errno = 0;
	assert_null(gale_runtime_create(&conf)); /* only two worker lcores */
	assert_int_equal(errno, EINVAL);
	conf.nb_workers = 0;
	conf.name = "much-too-long-name";
	assert_null(gale_runtime_create(&conf));
	gale_runtime_free(NULL);
}

static int
setup(void **state)
{
	const struct gale_port_conf pc = {
		.nb_queues = NW, .nb_rxd = 1024, .nb_txd = 1024, .nb_mbufs = 8191
	};
	uint16_t id;

	(void)state;
	/* Three lcores (control + 2 workers) floating over the CPUs we have. */
	if (gale_test_eal_init_float("trt", 3, "net_ring0") < 0)
		return -1;
	if (gale_port_lookup("net_ring0", &id) != 0 || gale_port_setup(&T.port, id, &pc) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	gale_port_close(&T.port);
	return gale_eal_cleanup();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_conf),        cmocka_unit_test(test_loop),
		cmocka_unit_test(test_tx_tail),         cmocka_unit_test(test_timers),
		cmocka_unit_test(test_idle_poll_pause), cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_steering),        cmocka_unit_test(test_drain),
		cmocka_unit_test(test_drain_timeout),   cmocka_unit_test(test_signal),
		cmocka_unit_test(test_init_fail),
	};

	return cmocka_run_group_tests_name("runtime", tests, setup, teardown);
}
