/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/rpc_remote.h: blocking RPC calls from threads that are not workers, on either backend.
 *
 * On the native backend the TCP stack and the DPDK port belong to the workers, so a plain thread
 * (the program's main thread, a CLI handler, a legacy thread pool) cannot own a client of its own
 * as it can on the kernel backend (gale_rpc_client_create with no worker). A remote handle gives
 * such threads a client that lives on a worker: the handle is made before the runtime runs, for
 * worker k and a client configuration; worker k creates that client when it starts (its stack,
 * its connections, its timer wheel) and polls it every iteration. A thread calls
 * gale_rpc_remote_call (or a generated blocking stub, P_Svc_fn_call, on the channel of
 * gale_rpc_caller_channel): the call's arguments are encoded on the calling thread into one of the
 * handle's call slots, the slot is posted to worker k through the runtime's control ring
 * (gale/control.h: its down rings take messages from any thread), the worker starts an
 * asynchronous call on its client, copies the reply's result bytes into the slot when it comes,
 * and wakes the caller (a condition variable per slot: no spin, no sleep loop), which decodes them
 * into its result on its own thread, strings and lists in the arena it gave (the worker's views
 * into its receive buffer die with the callback, so nothing of the worker's is lent out). The
 * worker touches only slot memory, never the caller's, so a caller that gives up early can never
 * be written to afterwards.
 *
 * Results of a call: 0 (result filled; valid until the caller resets its arena), -EREMOTEIO (a
 * TApplicationException: its type and message in the gale_rpc_caller), -ETIMEDOUT (the client's
 * rpc_timeout_ms passed on the worker's timer wheel; or, should the worker stall, the caller's
 * own bound of rpc_timeout_ms + wait_slack_ms), -ECONNREFUSED, -ECONNRESET... (the client's
 * errors), -EBUSY (max_calls calls are outstanding, or the control ring is full: nothing was
 * sent), -ECANCELED (the runtime is stopping or stopped: calls refused from the start of the drain,
 * calls still waiting when the worker stops fail then, never hang), -ENOMEM (the arena cannot hold
 * the reply), -EMSGSIZE (the arguments do not encode within the frame limit), or a codec error
 * (-1/-2) from decoding the result. Declared exceptions are results: 0 with the exception's field
 * set, as with the other channels.
 *
 * Threads and lifetime: create and free when the runtime is not running (before gale_runtime_run
 * or after it returned, before gale_runtime_free); calls from any thread that is not a worker
 * (a worker must use its own client's asynchronous calls: a blocking call would stall its loop),
 * each thread with its own struct gale_rpc_caller. Calls made before the runtime runs wait in the
 * control ring until worker k starts; their wait bound runs from the call. gale_rpc_remote_free
 * fails the calls still waiting with -ECANCELED and waits until every caller has left.
 *
 * Telemetry: /gale/rpc/remote lists every handle with struct gale_rpc_remote_stats; the client on
 * the worker is listed under /gale/rpc/client like any other.
 */
#ifndef GALE_RPC_REMOTE_H
#define GALE_RPC_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include <gale/arena.h>
#include <gale/rpc.h>

struct gale_runtime;
struct gale_rpc_remote;
struct gale_tc_call;
struct gale_tc_channel;

/** Handle settings; zero fields take the defaults named. */
struct gale_rpc_remote_conf {
	unsigned int max_calls;   /**< calls outstanding at once (beyond: -EBUSY); 0 = 64. */
	uint32_t wait_slack_ms;   /**< a caller waits at most the client's rpc_timeout_ms plus
	                           * this for the worker (a stalled worker); 0 = 1000. */
};

/** A handle's counters (sums since create). */
struct gale_rpc_remote_stats {
	uint64_t started;   /**< calls posted to the worker. */
	uint64_t completed; /**< calls that returned 0 to the caller's thread. */
	uint64_t failed;    /**< calls posted that returned an error (cancelled ones included). */
	uint64_t refused;   /**< calls refused before posting (-EBUSY, -ECANCELED, -EMSGSIZE). */
	uint64_t cancelled; /**< calls failed with -ECANCELED after posting (runtime stopping). */
	uint64_t wait_expired; /**< callers whose own bound ran out (the worker never answered). */
	uint64_t in_flight;    /**< gauge: calls posted and not yet returned. */
};

/**
 * Create a handle for worker `worker` of rt (before gale_runtime_run) with the client conf cc
 * (copied: endpoints too; middleware and headers are borrowed for the handle's life). The worker
 * creates the client on its lcore when it starts; should that fail (e.g. GALE_CONN_NATIVE on a
 * worker without a stack), every call fails with the reason. NULL with errno set (EINVAL: bad
 * argument, runtime running; ENOMEM).
 */
struct gale_rpc_remote *gale_rpc_remote_create(struct gale_runtime *rt, unsigned int worker,
                                               const struct gale_rpc_client_conf *cc,
                                               const struct gale_rpc_remote_conf *conf);

/**
 * Free the handle (while the runtime is not running, before gale_runtime_free): calls still
 * waiting fail with -ECANCELED, and this returns once every caller has left. NULL is fine.
 */
void gale_rpc_remote_free(struct gale_rpc_remote *rm);

/** Copy the counters (any thread). */
void gale_rpc_remote_stats_get(const struct gale_rpc_remote *rm, struct gale_rpc_remote_stats *st);

/** The client on the worker, or NULL before the worker made it or after it stopped (worker only).
 */
struct gale_rpc_client *gale_rpc_remote_client(const struct gale_rpc_remote *rm);

/** One calling thread's state: the handle, where results go, the last exception. */
struct gale_rpc_caller {
	struct gale_rpc_remote *remote; /**< the handle (borrowed). */
	struct gale_arena *arena;       /**< results' strings, lists... (borrowed; the caller resets
	                                 * it when it no longer needs the results). */
	int32_t appex_type;             /**< the last TApplicationException's type (-EREMOTEIO). */
	char appex_msg[128];            /**< and its message, NUL-terminated (cut to fit). */
};

/** Fill c for calls through rm with results in arena. */
void gale_rpc_caller_init(struct gale_rpc_caller *c, struct gale_rpc_remote *rm,
                          struct gale_arena *arena);

/**
 * Make the call described by `call` (as a generated stub fills it: args borrowed for the call,
 * result filled on success) and wait for its outcome (see above). Any non-worker thread; blocks.
 */
int gale_rpc_remote_call(struct gale_rpc_caller *c, const struct gale_tc_call *call);

/**
 * The channel for the generated stubs (<gale/thriftc.h>): P_Svc_fn_call(&ch, ...) is
 * gale_rpc_remote_call with c; the asynchronous stubs return -ENOTSUP (use a worker's client).
 */
void gale_rpc_caller_channel(struct gale_rpc_caller *c, struct gale_tc_channel *ch);

#endif /* GALE_RPC_REMOTE_H */
