/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker-to-worker requests over rings (gale/xworker.h).
 *
 * Layout: one rte_zmalloc'd block holds every ring, each at a cache-line aligned offset, built with
 * rte_ring_init (SP enqueue, SC dequeue, exact size) instead of rte_ring_create, so that n workers
 * use no memzone and no global ring name: 2 * n * (n - 1) rings would exhaust RTE_MAX_MEMZONE at
 * a few dozen workers. Ring (a, b) is the request ring a -> b; its answer ring b -> a sits right
 * after it. The per-worker state (overflow lists, counters) is an array of cache-aligned entries
 * written only by their worker.
 *
 * Invariant that keeps answers from ever being dropped: a worker dequeues from the request ring
 * a -> self at most as many messages as the answer ring self -> a has free slots. Only self
 * produces into that answer ring, so its free count can only grow while self serves, and the bulk
 * enqueue of the answers cannot fail.
 *
 * Overflow lists keep per-pair order: once one post to dst is queued, later posts to dst queue
 * behind it until gale_xw_poll has moved the list onto the ring.
 *
 * Telemetry: rte_telemetry commands cannot be unregistered or take an argument in DPDK 22.11, so
 * /gale/xworker is registered once per process and shows the last mesh created with telemetry on,
 * until it is freed; a mutex (telemetry thread, create and free only: never the data path) keeps
 * it from being freed under a query. Counters are single-writer words read with relaxed loads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include <gale/xworker.h>

#include "runtime_private.h"

#define GALE__XW_MAX_WORKERS 64

/* One worker's side: what only it writes. */
struct gale__xw_worker {
	struct gale_xw_msg *ovf_head[GALE__XW_MAX_WORKERS]; /**< per destination, FIFO */
	struct gale_xw_msg *ovf_tail[GALE__XW_MAX_WORKERS];
	struct gale_xw_stats st; /**< single writer (gale__stat_*) */
} __rte_cache_aligned;

struct gale_xw {
	struct gale_xw_conf conf;
	unsigned int n;
	size_t ring_mem;            /**< bytes per ring, cache-line multiple */
	uint8_t *rings;             /**< 2 * n * n slots (the a == b ones unused) */
	struct gale__xw_worker *wk; /**< n entries */
};

/* The request ring src -> dst. */
static inline struct rte_ring *
gale__xw_req(const struct gale_xw *xw, unsigned int src, unsigned int dst)
{
	return (struct rte_ring *)(void *)(xw->rings +
	                                   (size_t)(2 * (src * xw->n + dst)) * xw->ring_mem);
}

/* The answer ring for the pair src -> dst (dst produces, src consumes). */
static inline struct rte_ring *
gale__xw_rep(const struct gale_xw *xw, unsigned int src, unsigned int dst)
{
	return (struct rte_ring *)(void *)(xw->rings +
	                                   (size_t)(2 * (src * xw->n + dst) + 1) * xw->ring_mem);
}

static pthread_mutex_t gale__xw_tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gale_xw *gale__xw_tel;
static bool gale__xw_tel_registered;

/* /gale/xworker: per worker, its counters and what waits in its inbound rings. */
static int
gale__xw_tel_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gale_xw_stats st;
	struct gale_xw *xw;
	unsigned int k, p, reqs, answers;
	char key[16];

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&gale__xw_tel_lock);
	xw = gale__xw_tel;
	if (xw == NULL) {
		pthread_mutex_unlock(&gale__xw_tel_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (k = 0; k < xw->n; k++) {
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			break;
		reqs = answers = 0;
		for (p = 0; p < xw->n; p++) {
			if (p == k)
				continue;
			reqs += rte_ring_count(gale__xw_req(xw, p, k));
			answers += rte_ring_count(gale__xw_rep(xw, k, p));
		}
		gale_xw_stats_get(xw, k, &st);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "posted", st.posted);
		rte_tel_data_add_dict_u64(c, "ring_full", st.ring_full);
		rte_tel_data_add_dict_u64(c, "served", st.served);
		rte_tel_data_add_dict_u64(c, "completed", st.completed);
		rte_tel_data_add_dict_u64(c, "queued", st.queued);
		rte_tel_data_add_dict_u64(c, "requests_waiting", reqs);
		rte_tel_data_add_dict_u64(c, "answers_waiting", answers);
		snprintf(key, sizeof(key), "%u", k);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	pthread_mutex_unlock(&gale__xw_tel_lock);
	return 0;
}

static void
gale__xw_tel_attach(struct gale_xw *xw)
{
	pthread_mutex_lock(&gale__xw_tel_lock);
	if (!gale__xw_tel_registered)
		gale__xw_tel_registered =
		        rte_telemetry_register_cmd(
		                "/gale/xworker", gale__xw_tel_cb,
		                "Worker-to-worker rings: per worker, counters and "
		                "messages waiting") == 0;
	gale__xw_tel = xw;
	pthread_mutex_unlock(&gale__xw_tel_lock);
}

struct gale_xw *
gale_xw_create(const struct gale_xw_conf *conf)
{
	struct gale_xw *xw;
	unsigned int a, b, size;
	char name[RTE_RING_NAMESIZE];
	ssize_t mem;
	int socket;

	if (conf == NULL || conf->nb_workers == 0 || conf->nb_workers > GALE__XW_MAX_WORKERS ||
	    conf->serve == NULL || conf->done == NULL ||
	    (conf->ring_size != 0 && conf->ring_size > RTE_RING_SZ_MASK / 2)) {
		errno = EINVAL;
		return NULL;
	}
	xw = calloc(1, sizeof(*xw));
	if (xw == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	xw->conf = *conf;
	if (xw->conf.ring_size == 0)
		xw->conf.ring_size = 1024;
	xw->n = conf->nb_workers;
	size = xw->conf.ring_size;
	/* RING_F_EXACT_SZ: the ring's slots are the next power of two above the count. */
	mem = rte_ring_get_memsize(rte_align32pow2(size + 1));
	if (mem < 0) {
		free(xw);
		errno = EINVAL;
		return NULL;
	}
	xw->ring_mem = RTE_ALIGN_CEIL((size_t)mem, RTE_CACHE_LINE_SIZE);
	socket = conf->socket_id;
	xw->wk = rte_zmalloc_socket("gale_xw_workers", sizeof(*xw->wk) * xw->n, RTE_CACHE_LINE_SIZE,
	                            socket);
	xw->rings = rte_zmalloc_socket("gale_xw_rings", 2 * (size_t)xw->n * xw->n * xw->ring_mem,
	                               RTE_CACHE_LINE_SIZE, socket);
	if (xw->wk == NULL || xw->rings == NULL) {
		gale_xw_free(xw);
		errno = ENOMEM;
		return NULL;
	}
	for (a = 0; a < xw->n; a++) {
		for (b = 0; b < xw->n; b++) {
			if (a == b)
				continue;
			snprintf(name, sizeof(name), "xw%u-%u", a, b);
			if (rte_ring_init(gale__xw_req(xw, a, b), name, size,
			                  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ) != 0 ||
			    rte_ring_init(gale__xw_rep(xw, a, b), name, size,
			                  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ) != 0) {
				gale_xw_free(xw);
				errno = EINVAL;
				return NULL;
			}
		}
	}
	if (conf->telemetry)
		gale__xw_tel_attach(xw);
	return xw;
}

void
gale_xw_free(struct gale_xw *xw)
{
	if (xw == NULL)
		return;
	pthread_mutex_lock(&gale__xw_tel_lock);
	if (gale__xw_tel == xw)
		gale__xw_tel = NULL;
	pthread_mutex_unlock(&gale__xw_tel_lock);
	rte_free(xw->rings);
	rte_free(xw->wk);
	free(xw);
}

unsigned int
gale_xw_nb_workers(const struct gale_xw *xw)
{
	return xw->n;
}

int
gale_xw_post(struct gale_xw *xw, unsigned int self, unsigned int dst, struct gale_xw_msg *m)
{
	struct gale__xw_worker *wk;

	if (self >= xw->n || dst >= xw->n || dst == self)
		return -EINVAL;
	wk = &xw->wk[self];
	m->src = (uint16_t)self;
	m->dst = (uint16_t)dst;
	m->next = NULL;
	gale__stat_add(&wk->st.posted, 1);
	if (wk->ovf_head[dst] == NULL && rte_ring_sp_enqueue(gale__xw_req(xw, self, dst), m) == 0)
		return 0;
	/* Full (or earlier posts still wait): queue behind them, in order. */
	if (wk->ovf_head[dst] == NULL)
		wk->ovf_head[dst] = m;
	else
		wk->ovf_tail[dst]->next = m;
	wk->ovf_tail[dst] = m;
	gale__stat_add(&wk->st.ring_full, 1);
	gale__stat_add(&wk->st.queued, 1);
	return 1;
}

/* Move self's queued posts to dst onto the ring while it has room. Returns how many moved. */
static unsigned int
gale__xw_flush(struct gale_xw *xw, struct gale__xw_worker *wk, unsigned int self, unsigned int dst)
{
	struct rte_ring *r = gale__xw_req(xw, self, dst);
	unsigned int moved = 0;
	struct gale_xw_msg *m;

	while ((m = wk->ovf_head[dst]) != NULL) {
		if (rte_ring_sp_enqueue(r, m) != 0)
			break;
		wk->ovf_head[dst] = m->next;
		moved++;
	}
	if (wk->ovf_head[dst] == NULL)
		wk->ovf_tail[dst] = NULL;
	if (moved != 0)
		gale__stat_add(&wk->st.queued, 0 - (uint64_t)moved);
	return moved;
}

unsigned int
gale_xw_poll(struct gale_xw *xw, unsigned int self)
{
	struct gale__xw_worker *wk = &xw->wk[self];
	void *objs[GALE_XW_BURST];
	unsigned int peer, i, n, room, work = 0;
	struct rte_ring *rep;

	for (peer = 0; peer < xw->n; peer++) {
		if (peer == self)
			continue;
		/* Answers to our requests: ours again from here on. */
		n = rte_ring_sc_dequeue_burst(gale__xw_rep(xw, self, peer), objs, GALE_XW_BURST,
		                              NULL);
		if (n != 0) {
			gale__stat_add(&wk->st.completed, n);
			for (i = 0; i < n; i++)
				xw->conf.done(self, objs[i], xw->conf.arg);
			work += n;
		}
		if (wk->ovf_head[peer] != NULL)
			work += gale__xw_flush(xw, wk, self, peer);
		/* Requests from peer, no more than its answer ring can take back. */
		rep = gale__xw_rep(xw, peer, self);
		room = rte_ring_free_count(rep);
		n = rte_ring_sc_dequeue_burst(gale__xw_req(xw, peer, self), objs,
		                              RTE_MIN(room, (unsigned int)GALE_XW_BURST), NULL);
		if (n == 0)
			continue;
		for (i = 0; i < n; i++)
			xw->conf.serve(self, objs[i], xw->conf.arg);
		gale__stat_add(&wk->st.served, n);
		/* Cannot fail: room was counted above and only we produce into rep. */
		(void)rte_ring_sp_enqueue_bulk(rep, objs, n, NULL);
		work += n;
	}
	return work;
}

uint64_t
gale_xw_pending(const struct gale_xw *xw, unsigned int self)
{
	const struct gale__xw_worker *wk;

	if (self >= xw->n)
		return 0;
	wk = &xw->wk[self];
	return gale__stat_read(&wk->st.posted) - gale__stat_read(&wk->st.completed);
}

void
gale_xw_stats_get(const struct gale_xw *xw, unsigned int worker, struct gale_xw_stats *st)
{
	const struct gale__xw_worker *wk;

	memset(st, 0, sizeof(*st));
	if (worker >= xw->n)
		return;
	wk = &xw->wk[worker];
	st->posted = gale__stat_read(&wk->st.posted);
	st->ring_full = gale__stat_read(&wk->st.ring_full);
	st->served = gale__stat_read(&wk->st.served);
	st->completed = gale__stat_read(&wk->st.completed);
	st->queued = gale__stat_read(&wk->st.queued);
}
