/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control channel: how state moves between the control-plane thread and the workers.
 *
 * Per worker, two rte_rings of struct gale_ctl_msg (by value, no allocation): down (control ->
 * worker: snapshots, commands; multi-producer, so that other threads may post commands too, e.g.
 * the blocking calls of gale/rpc_remote.h) and up (worker -> control: events, counter deltas;
 * single-producer). Each has one consumer.
 *
 * Snapshots are versioned and immutable once published. The control thread owns every published
 * snapshot; a worker borrows the one it switched to until its next gale_ctl_worker_poll. When a
 * worker switches, it publishes the new version in its acked word (release); the control thread
 * frees snapshot v only once every worker has acked a version newer than v (an RCU-like grace
 * period carried by the rings). A worker whose down ring is full is not blocked on: the newest
 * snapshot waits in a per-worker slot and supersedes older undelivered ones, so a worker always
 * converges on the latest version and sees versions only in increasing order (maybe not all).
 * Commands and up messages are never dropped silently: a full ring returns -ENOBUFS and the sender
 * keeps the message and retries.
 *
 * Threads: gale_ctl_publish/poll/free on the one control thread; gale_ctl_send on any thread
 * (snapshots come only from the control thread, so they still reach a worker in version order);
 * gale_ctl_worker_* on worker k only.
 */
#ifndef GALE_CONTROL_H
#define GALE_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

struct gale_snapshot;
struct gale_ctl;

/** Frees a snapshot once no worker can see it; called on the control thread, exactly once per
 * snapshot. */
typedef void (*gale_snapshot_free_cb_t)(struct gale_snapshot *snap, void *arg);

/** Header embedded at the start of (or anywhere in) a snapshot object; the rest is the user's,
 * read-only. */
struct gale_snapshot {
	uint64_t version;                /**< set by gale_ctl_publish: 1, 2, 3, ... */
	gale_snapshot_free_cb_t free_cb; /**< releases the enclosing object; required. */
	void *free_arg;                  /**< passed to free_cb. */
	struct gale_snapshot *live_next; /**< control thread's list of unfreed snapshots. */
};

/** Message kinds. Users may define their own from GALE_CTL_USER on. */
enum gale_ctl_type {
	GALE_CTL_SNAPSHOT =
	        1,    /**< down: ptr is a struct gale_snapshot (handled by gale_ctl_worker_poll). */
	GALE_CTL_CMD, /**< down: a command (code, arg) for the worker. */
	GALE_CTL_EVENT,   /**< up: something happened on a worker (code, arg). */
	GALE_CTL_COUNTER, /**< up: counter `code` grew by `arg`. */
	GALE_CTL_USER = 64,
};

/** One message, copied into and out of the ring. */
struct gale_ctl_msg {
	uint32_t type; /**< enum gale_ctl_type or a user type. */
	uint32_t code; /**< command, event or counter id. */
	uint64_t arg;  /**< value, delta or sequence number. */
	void *ptr;     /**< payload pointer; who owns it is the message type's contract. */
};

/** How to create a control channel. */
struct gale_ctl_conf {
	const char *name; /**< ring-name prefix, unique in the process, at most 16 characters. */
	unsigned int nb_workers; /**< workers (>= 1). */
	unsigned int ring_size;  /**< messages per ring; 0 = 1024. */
	int socket_id;           /**< NUMA socket of the rings; SOCKET_ID_ANY (-1) is fine. */
};

/** Create the rings (needs the EAL). NULL with errno set on failure. */
struct gale_ctl *gale_ctl_create(const struct gale_ctl_conf *conf);

/**
 * Free the channel and every snapshot it still holds (each exactly once). Call only when no worker
 * polls any more. Messages left in the rings are discarded. Accepts NULL.
 */
void gale_ctl_free(struct gale_ctl *ctl);

/* --- control thread --- */

/**
 * Publish snap as the newest version (consumes snap: the channel frees it through snap->free_cb
 * after the grace period). Fills snap->version. Never blocks. Returns 0, or -EINVAL when snap has
 * no free_cb.
 */
int gale_ctl_publish(struct gale_ctl *ctl, struct gale_snapshot *snap);

/** Queue a command for one worker (copied); any thread. 0, -ENOBUFS when its down ring is full
 * (retry), -EINVAL. */
int gale_ctl_send(struct gale_ctl *ctl, unsigned int worker, const struct gale_ctl_msg *msg);

/** Called for each up message, in order per worker. */
typedef void (*gale_ctl_up_cb_t)(unsigned int worker, const struct gale_ctl_msg *msg, void *arg);

/**
 * Control-thread housekeeping: hand every up message to cb (NULL discards them), retry snapshot
 * deliveries that found a full ring, and free the snapshots whose grace period is over. Returns the
 * up messages handled.
 */
unsigned int gale_ctl_poll(struct gale_ctl *ctl, gale_ctl_up_cb_t cb, void *arg);

/** The newest published version (0 before the first publish). */
uint64_t gale_ctl_version(const struct gale_ctl *ctl);

/** The version worker last acked (0 = none yet). */
uint64_t gale_ctl_acked(const struct gale_ctl *ctl, unsigned int worker);

/** Snapshots published and not yet freed (the newest included). */
uint64_t gale_ctl_live(const struct gale_ctl *ctl);

/** Messages waiting in the worker's down and up rings right now. */
void gale_ctl_depths(const struct gale_ctl *ctl, unsigned int worker, unsigned int *down,
                     unsigned int *up);

/** Number of workers. */
unsigned int gale_ctl_nb_workers(const struct gale_ctl *ctl);

/* --- worker k --- */

/** Called by gale_ctl_worker_poll for each down message, after any snapshot switch it implies. */
typedef void (*gale_ctl_down_cb_t)(unsigned int worker, const struct gale_ctl_msg *msg, void *arg);

/**
 * At an iteration boundary: take up to a burst of down messages. Snapshot messages switch the
 * worker's current snapshot (the newest of the burst wins) and ack it; cb (may be NULL) sees every
 * message, snapshots included. Any pointer into the previous snapshot is invalid once this returns.
 * Returns messages taken.
 */
unsigned int gale_ctl_worker_poll(struct gale_ctl *ctl, unsigned int worker, gale_ctl_down_cb_t cb,
                                  void *arg);

/** The snapshot worker uses now (NULL before the first one); valid until its next
 * gale_ctl_worker_poll. */
const struct gale_snapshot *gale_ctl_worker_snapshot(const struct gale_ctl *ctl,
                                                     unsigned int worker);

/** Send a message up (copied). 0, or -ENOBUFS when the up ring is full: keep it and retry later. */
int gale_ctl_worker_send(struct gale_ctl *ctl, unsigned int worker, const struct gale_ctl_msg *msg);

#endif /* GALE_CONTROL_H */
