/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A worker: one EAL lcore running the poll loop, and what the protocol layer (tcpstack, RPC) may
 * call on it.
 *
 * Each iteration, in order: rx_burst on the worker's queue of every port -> rx callback (the
 * protocol layer) -> the work callback (ready work) -> flush tx (a partial burst's tail stays
 * queued for the next iteration) -> advance the timer wheel from the TSC -> take control messages
 * (snapshot switch, commands). Cycles of iterations that did something count as busy, the others as
 * idle; an idle worker polls, pauses or sleeps according to the runtime's idle policy
 * (gale/runtime.h).
 *
 * Everything here is called on the worker's own lcore only (from its callbacks), except
 * gale_worker_stats_get, which any thread may call.
 */
#ifndef GALE_WORKER_H
#define GALE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct gale_ctl_msg;
struct gale_port;
struct gale_runtime;
struct gale_snapshot;
struct gale_stack;
struct gale_timer_wheel;
struct gale_worker;
struct rte_mbuf;

/** Burst size of rx and tx. */
#define GALE_WORKER_BURST 32
/** Packets a worker may hold queued for tx per port; beyond it gale_worker_tx drops (and counts).
 */
#define GALE_WORKER_TXQ 512

/**
 * Packets for this worker from port index `port` (an index into the runtime's port list): received
 * on its queue, or forwarded by another worker when the port uses software steering. Consumes
 * pkts[0..n): each mbuf must be freed, sent (gale_worker_tx) or kept by the protocol layer.
 */
typedef void (*gale_worker_rx_cb_t)(struct gale_worker *w, uint16_t port, struct rte_mbuf **pkts,
                                    uint16_t n, void *arg);

/** Run ready work (no blocking); return how many units were done (0 = nothing to do: the iteration
 * is idle). */
typedef unsigned int (*gale_worker_work_cb_t)(struct gale_worker *w, void *arg);

/** A control message for this worker: commands, and snapshot switches (see gale/control.h). */
typedef void (*gale_worker_ctl_cb_t)(struct gale_worker *w, const struct gale_ctl_msg *msg,
                                     void *arg);

/** Per-worker set-up on its lcore before the first iteration; a negative errno aborts the start. */
typedef int (*gale_worker_init_cb_t)(struct gale_worker *w, void *arg);

/**
 * Per-worker teardown on its lcore after the last iteration and before ports close: release every
 * mbuf and timer the protocol layer still holds.
 */
typedef void (*gale_worker_fini_cb_t)(struct gale_worker *w, void *arg);

/** Work still in flight on this worker (open requests, unsent data); the drain waits for 0. */
typedef uint64_t (*gale_worker_inflight_cb_t)(struct gale_worker *w, void *arg);

/** Loop statistics of one worker (a consistent-enough copy; each field is read atomically). */
struct gale_worker_stats {
	uint64_t iterations;  /**< loop iterations. */
	uint64_t busy_cycles; /**< TSC cycles in iterations that did some work. */
	uint64_t idle_cycles; /**< TSC cycles in iterations that did none (sleeping included). */
	uint64_t rx_pkts;     /**< packets received from the worker's queues. */
	uint64_t rx_bursts;   /**< non-empty rx bursts. */
	uint64_t rx_steered;  /**< packets other workers forwarded here (software steering). */
	uint64_t tx_pkts;     /**< packets the ports accepted. */
	uint64_t tx_dropped;  /**< packets dropped: tx queue full, or still queued at stop. */
	uint64_t tx_queued;   /**< packets queued for tx now (partial-burst tails). */
	uint64_t timers_run;  /**< timer callbacks run. */
	uint64_t ctl_msgs;    /**< control messages taken. */
	uint64_t work_units;  /**< units reported by the work callback. */
	uint64_t sleeps;      /**< idle sleeps (sleep policy). */
	uint64_t arp_shared;  /**< ARP mappings handed to the other workers' stacks. */
	uint64_t arp_share_dropped; /**< ARP mappings not handed on: a worker's ring was full. */
	uint64_t stack_conns_left;  /**< connections its stacks still had open (TIME_WAIT aside)
	                             * when they were freed at stop. */
};

/** The worker's index, 0 .. nb_workers-1: its queue on every port. */
unsigned int gale_worker_id(const struct gale_worker *w);

/** The EAL lcore the worker runs on. */
unsigned int gale_worker_lcore(const struct gale_worker *w);

/** The runtime the worker belongs to. */
struct gale_runtime *gale_worker_runtime(const struct gale_worker *w);

/** The port at index `port` of the runtime's port list (its MAC, pool, queues), or NULL. */
const struct gale_port *gale_worker_port(const struct gale_worker *w, uint16_t port);

/** Number of ports the worker polls. */
uint16_t gale_worker_nb_ports(const struct gale_worker *w);

/** The worker's timer wheel (advanced by the loop each iteration; arm timers from the worker only).
 */
struct gale_timer_wheel *gale_worker_timers(struct gale_worker *w);

/** Wheel time (us, from the TSC) taken at the start of the current iteration. */
uint64_t gale_worker_now_us(const struct gale_worker *w);

/**
 * Queue packets for tx on the worker's queue of port index `port`. Consumes pkts[0..n): what does
 * not fit in the worker's tx queue is freed and counted in tx_dropped. Full bursts go out at once;
 * the rest at the end of the iteration. Returns how many were queued (n minus the drops).
 */
uint16_t gale_worker_tx(struct gale_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n);

/** Send everything queued for tx now (a partial tail stays queued). Returns packets still queued.
 */
unsigned int gale_worker_flush(struct gale_worker *w);

/** True once the runtime is stopping: accept nothing new, finish what is in flight. */
bool gale_worker_draining(const struct gale_worker *w);

/** The governance snapshot this worker uses (NULL before the first); valid until the next
 * iteration. */
const struct gale_snapshot *gale_worker_snapshot(const struct gale_worker *w);

/** Send a message to the control thread. 0, or -ENOBUFS when the up ring is full (keep it, retry
 * later). */
int gale_worker_send_up(struct gale_worker *w, const struct gale_ctl_msg *msg);

/** The protocol layer's per-worker pointer (e.g. its stack instance); NULL until set. */
void *gale_worker_user(const struct gale_worker *w);

/** Set the per-worker pointer (typically from the init callback). */
void gale_worker_set_user(struct gale_worker *w, void *user);

/**
 * The worker's TCP/IP stack on port index `port` (the runtime made it from the port's template in
 * gale_runtime_conf.stacks), or NULL when the port has none. Valid from before the init callback
 * until after the fini callback.
 */
struct gale_stack *gale_worker_stack(const struct gale_worker *w, uint16_t port);

/** The first port index with a stack (gale_worker_stack), or -ENOENT. */
int gale_worker_stack_port(const struct gale_worker *w);

/** Copy the worker's statistics; any thread. */
void gale_worker_stats_get(const struct gale_worker *w, struct gale_worker_stats *st);

#endif /* GALE_WORKER_H */
