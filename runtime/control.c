/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Control channel (gale/control.h): per-worker rings and the snapshot grace period.
 *
 * Rings: up is single-producer single-consumer; down is multi-producer single-consumer, because
 * gale_ctl_send may come from any thread (rpc_remote.c posts blocking calls there). The cost is a
 * compare-and-swap per enqueue on the control side, never on a worker (workers only dequeue).
 *
 * Ownership: every published snapshot sits on the control thread's `live` list, oldest first, until
 * it is freed; rings and the per-worker pending slots only borrow it. So a snapshot is freed
 * exactly once, whether by the grace period in gale_ctl_poll or by gale_ctl_free.
 *
 * Grace period: worker k stores the version it switched to in its acked word with release order,
 * after it has stopped reading the older snapshot (the contract: pointers into a snapshot die at
 * the next worker poll). The control thread loads every acked word with acquire order; if all are >
 * v, each worker's reads of v happened before its release store, which happened before our acquire
 * load, which happens before free(v). A snapshot still in a ring or pending slot has a version
 * above that worker's ack (FIFO ring, versions increasing), so it is never freed while deliverable.
 * The newest snapshot is never below every ack, so it stays.
 *
 * The per-worker state is split in two cache lines: one written by the worker (acked word, current
 * snapshot, counters) and one written by the control thread (pending slot), so neither side's
 * stores bounce the other's line. Counters that telemetry reads from another thread are written
 * with relaxed atomic stores by their one writer.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "gale/control.h"
#include "runtime_private.h"

#define GALE__CTL_BURST 32

struct gale__ctl_worker {
	struct rte_ring *down; /**< control -> worker. */
	struct rte_ring *up;   /**< worker -> control. */
	/* Written by the worker only. */
	/** Release by the worker, acquire by control. */
	alignas(RTE_CACHE_LINE_SIZE) _Atomic uint64_t acked;
	const struct gale_snapshot *cur; /**< the snapshot the worker uses. */
	uint64_t down_msgs;              /**< down messages taken. */
	uint64_t up_msgs;                /**< up messages sent. */
	uint64_t up_full;                /**< sends refused: up ring full. */
	/* Written by the control thread only. */
	/** Newest undelivered snapshot, or NULL. */
	alignas(RTE_CACHE_LINE_SIZE) struct gale_snapshot *pending;
	uint64_t down_full; /**< deliveries deferred: down ring full. */
};

struct gale_ctl {
	unsigned int nb_workers;
	uint64_t version;                /**< newest published. */
	uint64_t live_count;             /**< snapshots on the live list. */
	struct gale_snapshot *live_head; /**< oldest not yet freed. */
	struct gale_snapshot *live_tail; /**< newest. */
	struct gale__ctl_worker *w;      /**< nb_workers entries, cache aligned. */
};

struct gale_ctl *
gale_ctl_create(const struct gale_ctl_conf *conf)
{
	/* Down rings take messages from any thread (gale_ctl_send); up rings have one producer. */
	const unsigned int down_flags = RING_F_SC_DEQ | RING_F_EXACT_SZ;
	const unsigned int up_flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
	unsigned int size, k;
	struct gale_ctl *ctl;
	char name[RTE_RING_NAMESIZE];

	if (conf == NULL || conf->nb_workers == 0 || conf->name == NULL ||
	    strlen(conf->name) > 16) {
		errno = EINVAL;
		return NULL;
	}
	size = conf->ring_size != 0 ? conf->ring_size : 1024;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ctl->nb_workers = conf->nb_workers;
	ctl->w = rte_zmalloc_socket("gale_ctl", sizeof(*ctl->w) * conf->nb_workers,
	                            RTE_CACHE_LINE_SIZE, conf->socket_id);
	if (ctl->w == NULL) {
		free(ctl);
		errno = ENOMEM;
		return NULL;
	}
	for (k = 0; k < conf->nb_workers; k++) {
		atomic_init(&ctl->w[k].acked, 0);
		snprintf(name, sizeof(name), "%s_d%u", conf->name, k);
		ctl->w[k].down = rte_ring_create_elem(name, sizeof(struct gale_ctl_msg), size,
		                                      conf->socket_id, down_flags);
		snprintf(name, sizeof(name), "%s_u%u", conf->name, k);
		ctl->w[k].up = rte_ring_create_elem(name, sizeof(struct gale_ctl_msg), size,
		                                    conf->socket_id, up_flags);
		if (ctl->w[k].down == NULL || ctl->w[k].up == NULL) {
			errno = rte_errno != 0 ? rte_errno : ENOMEM;
			gale_ctl_free(ctl);
			return NULL;
		}
	}
	return ctl;
}

void
gale_ctl_free(struct gale_ctl *ctl)
{
	struct gale_snapshot *s, *next;
	unsigned int k;

	if (ctl == NULL)
		return;
	for (k = 0; k < ctl->nb_workers; k++) {
		rte_ring_free(ctl->w[k].down);
		rte_ring_free(ctl->w[k].up);
	}
	for (s = ctl->live_head; s != NULL; s = next) {
		next = s->live_next;
		s->free_cb(s, s->free_arg);
	}
	rte_free(ctl->w);
	free(ctl);
}

/* Try to put snap on worker k's down ring. */
static bool
gale__deliver(struct gale__ctl_worker *w, struct gale_snapshot *snap)
{
	struct gale_ctl_msg msg = { .type = GALE_CTL_SNAPSHOT, .arg = snap->version, .ptr = snap };

	return rte_ring_mp_enqueue_elem(w->down, &msg, sizeof(msg)) == 0;
}

int
gale_ctl_publish(struct gale_ctl *ctl, struct gale_snapshot *snap)
{
	struct gale__ctl_worker *w;
	unsigned int k;

	if (snap == NULL || snap->free_cb == NULL)
		return -EINVAL;
	/* version and live_count have one writer (this thread); telemetry reads them with relaxed
	 * loads. */
	gale__stat_add(&ctl->version, 1);
	snap->version = ctl->version;
	snap->live_next = NULL;
	if (ctl->live_tail != NULL)
		ctl->live_tail->live_next = snap;
	else
		ctl->live_head = snap;
	ctl->live_tail = snap;
	gale__stat_add(&ctl->live_count, 1);
	for (k = 0; k < ctl->nb_workers; k++) {
		w = &ctl->w[k];
		/* An older snapshot still waiting means the ring was full: this one replaces it,
		 * never overtakes it. */
		if (w->pending != NULL || !gale__deliver(w, snap)) {
			w->pending = snap;
			w->down_full++;
		}
	}
	return 0;
}

int
gale_ctl_send(struct gale_ctl *ctl, unsigned int worker, const struct gale_ctl_msg *msg)
{
	struct gale_ctl_msg copy;

	if (worker >= ctl->nb_workers || msg == NULL)
		return -EINVAL;
	copy = *msg; /* rte_ring's enqueue takes a non-const pointer */
	return rte_ring_mp_enqueue_elem(ctl->w[worker].down, &copy, sizeof(copy)) == 0 ? 0
	                                                                               : -ENOBUFS;
}

/* Free every snapshot older than the oldest version any worker still may use. */
static void
gale__reclaim(struct gale_ctl *ctl)
{
	uint64_t min = UINT64_MAX, acked;
	struct gale_snapshot *s;
	unsigned int k;

	for (k = 0; k < ctl->nb_workers; k++) {
		/* Acquire: pairs with the worker's release store in gale_ctl_worker_poll. */
		acked = atomic_load_explicit(&ctl->w[k].acked, memory_order_acquire);
		if (acked < min)
			min = acked;
	}
	while (ctl->live_head != NULL && ctl->live_head->version < min) {
		s = ctl->live_head;
		ctl->live_head = s->live_next;
		if (ctl->live_head == NULL)
			ctl->live_tail = NULL;
		gale__stat_add(&ctl->live_count, UINT64_MAX); /* minus one */
		s->free_cb(s, s->free_arg);
	}
}

unsigned int
gale_ctl_poll(struct gale_ctl *ctl, gale_ctl_up_cb_t cb, void *arg)
{
	struct gale_ctl_msg msgs[GALE__CTL_BURST];
	struct gale__ctl_worker *w;
	unsigned int k, n, i, total = 0;

	for (k = 0; k < ctl->nb_workers; k++) {
		w = &ctl->w[k];
		if (w->pending != NULL && gale__deliver(w, w->pending))
			w->pending = NULL;
		/* One ring's worth at most, so a chatty worker cannot keep the control thread here.
		 */
		for (unsigned int round = 0; round < rte_ring_get_size(w->up) / GALE__CTL_BURST + 1;
		     round++) {
			n = rte_ring_sc_dequeue_burst_elem(w->up, msgs, sizeof(msgs[0]),
			                                   GALE__CTL_BURST, NULL);
			for (i = 0; i < n; i++) {
				if (cb != NULL)
					cb(k, &msgs[i], arg);
			}
			total += n;
			if (n < GALE__CTL_BURST)
				break;
		}
	}
	gale__reclaim(ctl);
	return total;
}

uint64_t
gale_ctl_version(const struct gale_ctl *ctl)
{
	return gale__stat_read(&ctl->version);
}

uint64_t
gale_ctl_acked(const struct gale_ctl *ctl, unsigned int worker)
{
	if (worker >= ctl->nb_workers)
		return 0;
	/* Acquire: pairs with the worker's release store; a caller seeing version v may free or
	 * reuse older state. */
	return atomic_load_explicit(&ctl->w[worker].acked, memory_order_acquire);
}

uint64_t
gale_ctl_live(const struct gale_ctl *ctl)
{
	return gale__stat_read(&ctl->live_count);
}

void
gale_ctl_depths(const struct gale_ctl *ctl, unsigned int worker, unsigned int *down,
                unsigned int *up)
{
	*down = worker < ctl->nb_workers ? rte_ring_count(ctl->w[worker].down) : 0;
	*up = worker < ctl->nb_workers ? rte_ring_count(ctl->w[worker].up) : 0;
}

unsigned int
gale_ctl_nb_workers(const struct gale_ctl *ctl)
{
	return ctl->nb_workers;
}

void
gale__ctl_worker_stats(const struct gale_ctl *ctl, unsigned int worker, struct gale__ctl_stats *st)
{
	const struct gale__ctl_worker *w = &ctl->w[worker];

	st->down_msgs = gale__stat_read(&w->down_msgs);
	st->up_msgs = gale__stat_read(&w->up_msgs);
	st->up_full = gale__stat_read(&w->up_full);
	st->acked = atomic_load_explicit(&w->acked, memory_order_relaxed);
}

unsigned int
gale_ctl_worker_poll(struct gale_ctl *ctl, unsigned int worker, gale_ctl_down_cb_t cb, void *arg)
{
	struct gale__ctl_worker *w = &ctl->w[worker];
	struct gale_ctl_msg msgs[GALE__CTL_BURST];
	const struct gale_snapshot *snap;
	unsigned int n, i;

	n = rte_ring_sc_dequeue_burst_elem(w->down, msgs, sizeof(msgs[0]), GALE__CTL_BURST, NULL);
	if (n == 0)
		return 0;
	gale__stat_add(&w->down_msgs, n);
	for (i = 0; i < n; i++) {
		if (msgs[i].type == GALE_CTL_SNAPSHOT) {
			snap = msgs[i].ptr;
			/* Versions only grow on a ring; the guard keeps a stale one from ever
			 * winning. */
			if (w->cur == NULL || snap->version > w->cur->version)
				w->cur = snap;
		}
	}
	/* The callback may look at any snapshot of the burst: they all stay alive until the ack
	 * below. */
	if (cb != NULL) {
		for (i = 0; i < n; i++)
			cb(worker, &msgs[i], arg);
	}
	if (w->cur != NULL &&
	    w->cur->version > atomic_load_explicit(&w->acked, memory_order_relaxed)) {
		/*
		 * Release: every read of an older snapshot this worker made (it holds none past
		 * this poll) happens before the control thread's acquire load in gale__reclaim that
		 * lets it free that snapshot.
		 */
		atomic_store_explicit(&w->acked, w->cur->version, memory_order_release);
	}
	return n;
}

const struct gale_snapshot *
gale_ctl_worker_snapshot(const struct gale_ctl *ctl, unsigned int worker)
{
	return ctl->w[worker].cur;
}

int
gale_ctl_worker_send(struct gale_ctl *ctl, unsigned int worker, const struct gale_ctl_msg *msg)
{
	struct gale__ctl_worker *w = &ctl->w[worker];
	struct gale_ctl_msg copy = *msg; /* rte_ring's enqueue takes a non-const pointer */

	if (rte_ring_sp_enqueue_elem(w->up, &copy, sizeof(copy)) != 0) {
		gale__stat_add(&w->up_full, 1);
		return -ENOBUFS;
	}
	gale__stat_add(&w->up_msgs, 1);
	return 0;
}
