/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/xworker.h: requests from one worker to another, and their answers, over rings.
 *
 * For state that cannot be per connection (a shard of a key-value store, a cache, a counter that
 * one core owns): the worker that holds a request posts a message to the worker that owns the
 * state; the owner runs it (the serve callback) and the same message travels back; the sender gets
 * it in its done callback, on its own lcore, and completes whatever waited (typically a deferred
 * RPC reply, gale/rpc.h). No table is shared and no lock is taken: every piece of state is touched
 * only by its owner, as DESIGN.md asks.
 *
 * Rings: for every ordered pair of workers (a, b), a != b, two single-producer single-consumer
 * rte_rings of message pointers: requests a -> b (a enqueues, b dequeues) and their answers
 * b -> a (b enqueues, a dequeues). 2 * n * (n - 1) rings in one allocation; no memzone names are
 * used up. rte_ring's enqueue is a release and its dequeue an acquire on the ring's tail, so every
 * write to a message before it is posted (or answered) is visible to the worker that dequeues it.
 *
 * Ownership of a message (struct gale_xw_msg, embedded by the caller in its own object):
 *   - the sender allocates it (from its own memory, e.g. a per-worker pool) and fills it;
 *   - from gale_xw_post until its done callback the message and everything it points to is lent:
 *     the sender must not touch it, and the receiver may read and write it only inside its serve
 *     callback (results go into the sender's buffers the message points to, never into memory the
 *     receiver would have to free);
 *   - in the done callback, on the sender's lcore, it is the sender's again, to reuse or free.
 * So memory is always freed by the core that allocated it, and nothing crosses the rings but
 * pointers. gale_xw_free never frees a message.
 *
 * Back-pressure: a post that finds its request ring full is not refused and not lost: it is queued
 * on the sender's own overflow list for that destination (intrusive, no allocation) and enqueued by
 * a later gale_xw_poll, in order; the ring_full counter says how often. The number of messages in
 * flight is therefore bounded by the sender's own pool, not by the ring. Answers can never find
 * their ring full: a worker takes from a request ring at most as many requests as its answer ring
 * has room for (it is the only producer of that ring, so the room cannot shrink meanwhile).
 *
 * Order: per ordered pair, requests are served in the order posted and answers come back in that
 * order. Between different pairs there is no order.
 *
 * Telemetry (conf.telemetry): /gale/xworker on the EAL's telemetry socket, per worker its counters
 * (struct gale_xw_stats) and the requests and answers waiting in its inbound rings now.
 *
 * Threads: gale_xw_post and gale_xw_poll for worker k on worker k only (any thread acting as k in
 * tests); gale_xw_stats_get from any thread; create and free with no worker running.
 */
#ifndef GALE_XWORKER_H
#define GALE_XWORKER_H

#include <stdbool.h>
#include <stdint.h>

struct gale_xw;

/** Messages served or completed per peer and per gale_xw_poll at most. */
#define GALE_XW_BURST 32

/** A message between workers; embed it in your own object (container_of to get back). */
struct gale_xw_msg {
	struct gale_xw_msg *next; /**< the sender's overflow list while queued (gale_xw's). */
	uint16_t src;             /**< the sender (set by gale_xw_post). */
	uint16_t dst;             /**< the receiver (set by gale_xw_post). */
	uint32_t op;              /**< the caller's operation code. */
	int32_t status;           /**< the serve callback's result (0 or a negative errno). */
	uint32_t len;             /**< the caller's: e.g. bytes used in the buffer below. */
	uint32_t cap;             /**< the caller's: the buffer's size. */
	void *buf; /**< the caller's: a buffer of the sender's (lent with the msg). */
	void *arg; /**< the caller's: e.g. what waits for the answer. */
};

/**
 * On the receiver (self), for each request: run the operation m->op, put the outcome in
 * m->status and any result in the sender's buffers. Must not block, keep m or post m elsewhere;
 * the message goes back to its sender when this returns.
 */
typedef void (*gale_xw_serve_cb_t)(unsigned int self, struct gale_xw_msg *m, void *arg);

/** On the sender (self), for each answer: m is the sender's again. */
typedef void (*gale_xw_done_cb_t)(unsigned int self, struct gale_xw_msg *m, void *arg);

/** How to create the rings; zero fields take the defaults named. */
struct gale_xw_conf {
	unsigned int nb_workers;  /**< workers (1 .. 64). */
	unsigned int ring_size;   /**< messages per ring (exact, any count >= 1); 0 = 1024. */
	int socket_id;            /**< NUMA socket of the rings; SOCKET_ID_ANY (-1) is fine. */
	gale_xw_serve_cb_t serve; /**< required. */
	gale_xw_done_cb_t done;   /**< required. */
	void *arg;                /**< passed to serve and done. */
	bool telemetry;           /**< show these rings as /gale/xworker (the last created). */
};

/** Per-worker counters (written by that worker only; read with relaxed loads). */
struct gale_xw_stats {
	uint64_t posted;    /**< messages this worker posted. */
	uint64_t ring_full; /**< posts that could not go on the ring at once (ring full, or earlier
	                     * ones still queued): kept on the overflow list and retried. */
	uint64_t served;    /**< requests from other workers this worker served. */
	uint64_t completed; /**< its own messages back (done callbacks run). */
	uint64_t queued;    /**< its own messages on its overflow lists now. */
};

/** Create the rings (needs the EAL's memory). NULL with errno set (EINVAL, ENOMEM). */
struct gale_xw *gale_xw_create(const struct gale_xw_conf *conf);

/**
 * Free the rings (no worker may post or poll any more). Messages still in a ring or an overflow
 * list are forgotten, not freed: they are their senders' memory. NULL is fine.
 */
void gale_xw_free(struct gale_xw *xw);

/** Number of workers. */
unsigned int gale_xw_nb_workers(const struct gale_xw *xw);

/**
 * On worker self: send m (m->op and the caller's fields filled) to worker dst. Lends m until its
 * done callback. 0 when it is on the ring, 1 when the ring was full and it waits on self's overflow
 * list (gale_xw_poll retries it), -EINVAL when dst or self is out of range or dst == self.
 */
int gale_xw_post(struct gale_xw *xw, unsigned int self, unsigned int dst, struct gale_xw_msg *m);

/**
 * On worker self, each iteration: run done for answers that came back, move queued posts onto
 * rings that have room, serve the requests other workers sent (at most GALE_XW_BURST per peer).
 * Returns the messages handled (0 = idle).
 */
unsigned int gale_xw_poll(struct gale_xw *xw, unsigned int self);

/** Messages worker self posted whose done callback has not run yet (on worker self). */
uint64_t gale_xw_pending(const struct gale_xw *xw, unsigned int self);

/** Copy worker's counters (any thread; zeros for an unknown worker). */
void gale_xw_stats_get(const struct gale_xw *xw, unsigned int worker, struct gale_xw_stats *st);

#endif /* GALE_XWORKER_H */
