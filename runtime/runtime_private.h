/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What runtime/'s files share and users do not see: single-writer statistics helpers, the runtime
 * and worker structures, and the telemetry hooks.
 *
 * Statistics are written by exactly one thread (their worker) and read by others (the control
 * thread, telemetry). They are plain uint64_t words accessed with relaxed __atomic loads and
 * stores, which on x86-64 are ordinary moves: no lock prefix, no fence, and no data race in the C11
 * sense. Nothing is ordered by them.
 */
#ifndef GALE_RUNTIME_PRIVATE_H
#define GALE_RUNTIME_PRIVATE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "gale/runtime.h"
#include "gale/worker.h"

struct gale_ctl;
struct gale_stack;
struct gale_stack_conf;
struct rte_mbuf;
struct rte_ring;

static inline void
gale__stat_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline uint64_t
gale__stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/** A worker's side of its control channel, for telemetry. */
struct gale__ctl_stats {
	uint64_t down_msgs;
	uint64_t up_msgs;
	uint64_t up_full;
	uint64_t acked;
};

void gale__ctl_worker_stats(const struct gale_ctl *ctl, unsigned int worker,
                            struct gale__ctl_stats *st);

/* Runtime-internal commands (down, type GALE_CTL_CMD) and events (up, type GALE_CTL_EVENT). */
#define GALE__CMD_DRAIN   0xffff0001u /**< stop accepting, finish in-flight work, report drained. */
#define GALE__CMD_STOP    0xffff0002u /**< leave the loop now. */
/** A blocking call from a non-worker thread (ptr: its slot, rpc_remote.c); any thread posts it. */
#define GALE__CMD_REMOTE_CALL 0xffff0003u
#define GALE__EVT_DRAINED 0xffff0001u

/** A worker's tx queue for one port: pkts[head .. head+n) wait for rte_eth_tx_burst. */
struct gale__txq {
	uint16_t head;
	uint16_t n;
	struct rte_mbuf *pkts[GALE_WORKER_TXQ];
};

/** A worker's TCP/IP stack on one port (worker_stack.c); the stack's tx and port-pick context. */
struct gale__wstack {
	struct gale_worker *w;
	struct gale_stack *stack; /**< NULL: no stack on this port. */
	uint16_t port;            /**< index in the runtime's port list. */
	uint16_t sport_next;      /**< where the next source-port search starts. */
};

/** One worker; an array of them, cache aligned, written only by its own lcore (stats read by
 * others). */
/** What a worker calls before it flushes its stacks (a native backend's held output). */
struct gale__flush_hook {
	void (*fn)(void *arg);
	void *arg;
};

#define GALE__WORKER_FLUSH_HOOKS 8

struct gale_worker {
	struct gale_runtime *rt;
	unsigned int id;    /**< index, and queue id on every port. */
	unsigned int lcore; /**< EAL lcore. */
	struct gale_timer_wheel *wheel;
	void *user;              /**< the protocol layer's pointer. */
	uint64_t now_us;         /**< wheel time at the start of the iteration. */
	unsigned int idle_iters; /**< consecutive idle iterations. */
	bool draining;           /**< DRAIN received. */
	bool stop;               /**< STOP received. */
	bool drained_sent;       /**< DRAINED event delivered up. */
	_Atomic bool exited; /**< release when the lcore function returns; acquire by control. */
	int init_ret;        /**< the init callback's result. */
	struct gale_worker_stats st; /**< single writer: this worker (gale__stat_*). */
	struct gale__txq txq[GALE_RUNTIME_MAX_PORTS];
	struct gale__wstack stacks[GALE_RUNTIME_MAX_PORTS];
	struct rte_ring *arp_ring; /**< ARP mappings other workers learned (MP/SC); NULL = none. */
	struct gale_rpc_remote *remotes; /**< blocking-call handles served here (rpc_remote.c);
	                                  * set only while the runtime is not running. */
	unsigned int nflush_hooks;
	struct gale__flush_hook flush_hooks[GALE__WORKER_FLUSH_HOOKS];
} __rte_cache_aligned;

/** The runtime: configuration, workers, control channel, lifecycle state. */
struct gale_runtime {
	struct gale_runtime_conf conf;
	struct gale_port *ports[GALE_RUNTIME_MAX_PORTS];
	uint16_t port_ids[GALE_RUNTIME_MAX_PORTS];
	/** Per port; NULL = no software steering on the port. */
	struct gale_steer *steers[GALE_RUNTIME_MAX_PORTS];
	uint16_t nb_ports;
	unsigned int nb_workers;
	struct gale_worker *workers; /**< nb_workers, rte_zmalloc'd, cache aligned. */
	struct gale_ctl *ctl;
	_Atomic bool stop_req; /**< release by gale_runtime_stop (any thread, signal handler);
	                          acquire by control. */
	_Atomic int phase;     /**< enum gale_runtime_phase; written by the control thread, read by
	                          telemetry. */
	uint64_t drain_start_us;
	uint64_t drain_us; /**< how long the last drain took. */
	bool drain_timed_out;
	bool running;
	uint64_t counters[GALE_RUNTIME_COUNTERS]; /**< sums of GALE_CTL_COUNTER deltas; control
	                                             thread writes. */
	/** Per port: the stack template (heap copy), NULL = no stack. */
	struct gale_stack_conf *stack_tmpl[GALE_RUNTIME_MAX_PORTS];
	char name[16]; /**< ring-name prefix. */
};

int gale__worker_main(void *arg);

/* worker_stack.c: per-worker TCP/IP stacks. */
int gale__stacks_setup(struct gale_runtime *rt, const struct gale_runtime_conf *conf);
void gale__stacks_teardown(struct gale_runtime *rt);
int gale__worker_stacks_start(struct gale_worker *w);
void gale__worker_stacks_stop(struct gale_worker *w);
unsigned int gale__worker_stacks_flush(struct gale_worker *w);
/* On the worker: fn(arg) runs at the start of every gale__worker_stacks_flush. 0, or -ENOSPC. */
int gale__worker_flush_hook_add(struct gale_worker *w, void (*fn)(void *arg), void *arg);
void gale__worker_flush_hook_del(struct gale_worker *w, void (*fn)(void *arg), void *arg);
/** Stack work the drain waits for: queued frames and closes not yet acknowledged. */
unsigned int gale__worker_stacks_pending(const struct gale_worker *w);
unsigned int gale__worker_arp_drain(struct gale_worker *w);

void gale__telemetry_attach(struct gale_runtime *rt);

void gale__telemetry_detach(struct gale_runtime *rt);

struct gale_rpc_server;
struct gale_rpc_client;
struct gale_rpc_remote;

/* rpc_remote.c, from the worker loop: make the handles' clients (after the stacks start), poll
 * them each iteration, start a posted call (GALE__CMD_REMOTE_CALL), and at the end of the loop
 * cancel what waits and free the clients (before the stacks stop). */
void gale__rpc_remote_worker_start(struct gale_worker *w);
unsigned int gale__rpc_remote_poll(struct gale_worker *w);
void gale__rpc_remote_start(struct gale_worker *w, void *slot);
void gale__rpc_remote_worker_stop(struct gale_worker *w);

/* RPC servers and clients listed by /gale/rpc/server and /gale/rpc/client from create to free
 * (the telemetry lock keeps one from being freed under a query). */
void gale__telemetry_rpc_server(struct gale_rpc_server *srv, bool add);
void gale__telemetry_rpc_client(struct gale_rpc_client *cl, bool add);
void gale__telemetry_rpc_remote(struct gale_rpc_remote *rm, bool add);

#endif /* GALE_RUNTIME_PRIVATE_H */
