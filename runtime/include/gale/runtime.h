/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime: workers on the EAL's worker lcores, the control plane on the main lcore, and the
 * lifecycle.
 *
 * Use (ports set up first with gale_port_setup, one queue pair per worker):
 *
 *   rt = gale_runtime_create(&conf);
 *   gale_runtime_signals_install(rt);  first SIGINT/SIGTERM: drain, stop; second: exit at once
 *   ret = gale_runtime_run(rt);        after the stop: 0 clean, -ETIMEDOUT drain deadline hit
 *   gale_runtime_free(rt);             closes the ports (if asked), frees everything
 *
 * Stop: gale_runtime_stop (any thread, or the signal handler) asks the control thread to drain:
 * each worker gets a DRAIN command, stops accepting (gale_worker_draining), finishes in-flight work
 * (the inflight callback reaches 0, its tx queues are empty) and reports drained; when all have, or
 * the drain deadline passes, each gets STOP, leaves its loop, runs its fini callback, drops what it
 * still queues and empties its rx queues, so a pool is full again once the runtime has returned.
 *
 * Steering: with a gale_steer for a port (gale/steer.h), each rx burst first goes through
 * gale_steer_rx_burst (packets of flows another worker owns go to that worker's ring) and the
 * worker then takes what others forwarded to it with gale_steer_drain; the rx callback sees only
 * packets this worker owns, whichever queue they arrived on. At stop each worker empties its
 * inbound steering rings; what another worker forwards after that is freed by gale_steer_free (the
 * caller's, after gale_runtime_free).
 *
 * TCP/IP stacks: with a gale_stack_conf template for a port (conf.stacks), each worker creates its
 * own stack (gale/tcpstack.h) on that port at start, on its lcore, before the init callback: the
 * template's addresses, limits and TCP settings, with the port's MAC and pool, the worker's timer
 * wheel and queue filled in by the runtime (and, when the port steers, a source-port picker so that
 * the replies of connections the worker opens come back to it). Every frame the worker owns on that
 * port goes to its stack instead of the rx callback; the stack's queued frames go out after the
 * work callback and again after the timers, every iteration. A mapping one worker's stack learns
 * from ARP is handed to the other workers' stacks through a small ring each (gale_stack_arp_add).
 * gale_worker_stack gives a worker its stack (gale/conn.h's native backend runs on it); the
 * stack is freed after the fini callback, so a protocol layer closes its connections there.
 * Telemetry: /gale/stacks (each stack's counters, non-zero ones, keyed WORKER_PORT; a worker id
 * as parameter for one worker).
 *
 * Counters: a worker sends GALE_CTL_COUNTER messages (code = counter id, arg = delta) with
 * gale_worker_send_up; the control thread sums them (gale_runtime_counter), so no counter is ever
 * shared between cores.
 *
 * Telemetry (rte_telemetry, e.g. `dpdk-telemetry.py -f <file-prefix>`): /gale/runtime,
 * /gale/workers (per-worker loop stats; a worker id as parameter for one), /gale/ports (ethdev
 * stats), /gale/rings (control ring and tx queue depths), /gale/counters (the aggregated counters
 * that are not zero). One runtime at a time is visible there.
 */
#ifndef GALE_RUNTIME_H
#define GALE_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include <gale/control.h>
#include <gale/worker.h>

struct gale_port;
struct gale_runtime;
struct gale_stack_conf;
struct gale_steer;

/** Ports one runtime polls at most. */
#define GALE_RUNTIME_MAX_PORTS 8
/** Counter ids the control thread aggregates from GALE_CTL_COUNTER messages (code < this). */
#define GALE_RUNTIME_COUNTERS 64

/** What an idle worker does (an iteration with no rx, work, timers or control messages is idle). */
enum gale_idle_mode {
	GALE_IDLE_POLL = 0, /**< keep polling: lowest latency, one core at 100 % (the default). */
	GALE_IDLE_PAUSE,    /**< after idle_iters idle iterations, pause_count rte_pause() each. */
	GALE_IDLE_SLEEP,    /**< after idle_iters idle iterations, sleep <= sleep_us, <= a timer. */
};

/** The idle policy; zero fields take the defaults named. */
struct gale_idle_conf {
	enum gale_idle_mode mode;
	unsigned int idle_iters;  /**< idle iterations before pausing or sleeping; 0 = 256. */
	unsigned int pause_count; /**< rte_pause() calls per idle iteration (PAUSE); 0 = 32. */
	unsigned int sleep_us;    /**< longest idle sleep (SLEEP); 0 = 100. */
};

/** Lifecycle phases (telemetry shows them). */
enum gale_runtime_phase {
	GALE_RUNTIME_CREATED = 0,
	GALE_RUNTIME_RUNNING,
	GALE_RUNTIME_DRAINING,
	GALE_RUNTIME_STOPPING,
	GALE_RUNTIME_STOPPED,
};

/** Called by the control thread each period (publish snapshots, aggregate, decide to stop...). */
typedef void (*gale_runtime_ctl_cb_t)(struct gale_runtime *rt, void *arg);

/** How to build a runtime; zero fields take the defaults named. */
struct gale_runtime_conf {
	const char *name; /**< ring-name prefix, at most 12 characters; NULL = "gale". */
	/** Ports (borrowed), each with >= nb_workers queue pairs. */
	struct gale_port *const *ports;
	uint16_t nb_ports; /**< 0 .. GALE_RUNTIME_MAX_PORTS. */
	bool close_ports;  /**< gale_runtime_free closes the ports (gale_port_close). */
	struct gale_steer *const *steers; /**< per port (borrowed; NULL or NULL entries = none):
	                                   * software steering, see below. */
	/** Per port (copied by create; NULL or NULL entries = none): a TCP/IP stack template, see
	 * above. ip must be set; mac, pool, wheel, tx_burst, port_pick, arp_learn and worker_id are
	 * the runtime's. */
	const struct gale_stack_conf *const *stacks;
	unsigned int nb_workers;          /**< 0 = one per EAL worker lcore. */
	gale_worker_rx_cb_t rx_cb;        /**< NULL = free what arrives. */
	gale_worker_work_cb_t work_cb;    /**< may be NULL. */
	gale_worker_ctl_cb_t ctl_cb;      /**< worker side of control messages; may be NULL. */
	gale_worker_init_cb_t init_cb;    /**< may be NULL. */
	gale_worker_fini_cb_t fini_cb;    /**< may be NULL. */
	/** NULL = nothing is ever in flight beyond the tx queues. */
	gale_worker_inflight_cb_t inflight_cb;
	void *worker_arg;                 /**< passed to every worker callback. */
	gale_runtime_ctl_cb_t control_cb; /**< control thread, each period; may be NULL. */
	gale_ctl_up_cb_t up_cb; /**< control thread, each up message from a worker; may be NULL. */
	void *control_arg;      /**< passed to control_cb and up_cb. */
	struct gale_idle_conf idle;
	unsigned int drain_ms;      /**< drain deadline; 0 = 5000. */
	unsigned int ctl_period_us; /**< control thread period; 0 = 1000. */
	unsigned int ctl_ring_size; /**< control ring size; 0 = 1024. */
	bool telemetry;             /**< expose this runtime under /gale/... */
};

/**
 * Create a runtime on an initialised EAL (workers on the first nb_workers worker lcores). NULL with
 * errno set: EINVAL (bad conf, too few lcores or queues), ENOMEM, or what creating the rings
 * returned.
 */
struct gale_runtime *gale_runtime_create(const struct gale_runtime_conf *conf);

/**
 * On the main lcore: launch the workers and run the control plane until stopped, then wait for the
 * workers. Returns 0 after a clean drain, -ETIMEDOUT when the drain deadline cut it short (the stop
 * still completed), or a negative errno when a worker's init callback failed (the others were
 * stopped) or launching failed.
 */
int gale_runtime_run(struct gale_runtime *rt);

/** Ask the runtime to drain and stop. Any thread; async-signal-safe (one atomic store). */
void gale_runtime_stop(struct gale_runtime *rt);

/**
 * Install SIGINT and SIGTERM handlers for rt: the first signal calls gale_runtime_stop, a second
 * one exits the process at once with status 128 + signal number. Undone by gale_runtime_free. 0 or
 * a negative errno.
 */
int gale_runtime_signals_install(struct gale_runtime *rt);

/** Free the runtime (not while running): wheels, rings, snapshots, and the ports if close_ports.
 * NULL is fine. */
void gale_runtime_free(struct gale_runtime *rt);

/** Number of workers. */
unsigned int gale_runtime_nb_workers(const struct gale_runtime *rt);

/** Worker k (NULL if out of range). */
struct gale_worker *gale_runtime_worker(struct gale_runtime *rt, unsigned int k);

/** The control channel: publish snapshots and send commands from control_cb (control thread only).
 */
struct gale_ctl *gale_runtime_ctl(struct gale_runtime *rt);

/** The current phase (any thread). */
enum gale_runtime_phase gale_runtime_phase(const struct gale_runtime *rt);

/**
 * The sum of every GALE_CTL_COUNTER delta workers sent up for counter `code` (0 for code >=
 * GALE_RUNTIME_COUNTERS). Any thread; up to date as of the control thread's last period. Counter
 * messages also reach up_cb.
 */
uint64_t gale_runtime_counter(const struct gale_runtime *rt, unsigned int code);

/** How long the last drain took, in microseconds. */
uint64_t gale_runtime_drain_us(const struct gale_runtime *rt);

#endif /* GALE_RUNTIME_H */
