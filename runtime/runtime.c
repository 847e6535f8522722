/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runtime lifecycle and the control-plane thread (gale/runtime.h).
 *
 * The control thread is the main lcore, inside gale_runtime_run. Each period it drains the up
 * rings, runs the user's control callback, and moves the lifecycle forward: RUNNING -> (stop
 * requested) DRAINING: DRAIN to every worker, deadline armed -> (all drained, or deadline)
 * STOPPING: STOP to every worker -> wait for the lcores -> STOPPED. Commands travel on the same
 * down rings as snapshots; a full ring means "try again next period", so nothing is lost and the
 * control thread never blocks on a worker.
 *
 * Stop requests come from any thread or from a signal handler, so they are one atomic flag (release
 * store, acquire load in the control loop). The signal handler counts signals in a lock-free
 * atomic; the second one calls _exit, the only thing a handler may do that ends the process at
 * once.
 *
 * The control thread sleeps between periods (it is not a data path: nanosleep is fine here).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <gale/port.h>
#include <gale/timer.h>

#include "runtime_private.h"

static _Atomic(struct gale_runtime *) gale__sig_rt;
static atomic_uint gale__sig_count;
static struct sigaction gale__sig_old_int, gale__sig_old_term;
static bool gale__sig_installed;

struct gale_runtime *
gale_runtime_create(const struct gale_runtime_conf *conf)
{
	struct gale_runtime *rt;
	struct gale_ctl_conf cc;
	unsigned int lcore, k;
	struct gale_worker *w;
	uint16_t p;
	char name[24];
	int ret;

	if (conf == NULL || conf->nb_ports > GALE_RUNTIME_MAX_PORTS ||
	    (conf->name != NULL && strlen(conf->name) > 12)) {
		errno = EINVAL;
		return NULL;
	}
	rt = calloc(1, sizeof(*rt));
	if (rt == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rt->conf = *conf;
	rt->conf.name = NULL;
	rt->conf.ports = NULL;
	rt->conf.steers = NULL;
	rt->conf.stacks = NULL;
	snprintf(rt->name, sizeof(rt->name), "%s", conf->name != NULL ? conf->name : "gale");
	if (rt->conf.idle.idle_iters == 0)
		rt->conf.idle.idle_iters = 256;
	if (rt->conf.idle.pause_count == 0)
		rt->conf.idle.pause_count = 32;
	if (rt->conf.idle.sleep_us == 0)
		rt->conf.idle.sleep_us = 100;
	if (rt->conf.drain_ms == 0)
		rt->conf.drain_ms = 5000;
	if (rt->conf.ctl_period_us == 0)
		rt->conf.ctl_period_us = 1000;
	rt->nb_workers = conf->nb_workers != 0 ? conf->nb_workers : rte_lcore_count() - 1;
	if (rt->nb_workers == 0 || rt->nb_workers > rte_lcore_count() - 1) {
		free(rt);
		errno = EINVAL;
		return NULL;
	}
	rt->nb_ports = conf->nb_ports;
	for (p = 0; p < conf->nb_ports; p++) {
		rt->ports[p] = conf->ports[p];
		rt->port_ids[p] = conf->ports[p]->port_id;
		rt->steers[p] = conf->steers != NULL ? conf->steers[p] : NULL;
		if (conf->ports[p]->nb_queues < rt->nb_workers) {
			free(rt);
			errno = EINVAL;
			return NULL;
		}
	}
	atomic_init(&rt->stop_req, false);
	atomic_init(&rt->phase, GALE_RUNTIME_CREATED);
	rt->workers = rte_zmalloc("gale_workers", sizeof(*rt->workers) * rt->nb_workers,
	                          RTE_CACHE_LINE_SIZE);
	if (rt->workers == NULL) {
		free(rt);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(name, sizeof(name), "%s", conf->name != NULL ? conf->name : "gale");
	cc = (struct gale_ctl_conf){ .name = name,
		                     .nb_workers = rt->nb_workers,
		                     .ring_size = conf->ctl_ring_size,
		                     .socket_id = SOCKET_ID_ANY };
	rt->ctl = gale_ctl_create(&cc);
	if (rt->ctl == NULL) {
		int err = errno;

		rte_free(rt->workers);
		free(rt);
		errno = err;
		return NULL;
	}
	k = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (k == rt->nb_workers)
			break;
		w = &rt->workers[k];
		w->rt = rt;
		w->id = k;
		w->lcore = lcore;
		atomic_init(&w->exited, false);
		w->wheel = gale_timer_wheel_create(gale_timer_now_us());
		if (w->wheel == NULL) {
			rt->nb_workers = k; /* free what was made */
			gale_runtime_free(rt);
			errno = ENOMEM;
			return NULL;
		}
		k++;
	}
	ret = gale__stacks_setup(rt, conf);
	if (ret != 0) {
		gale_runtime_free(rt);
		errno = -ret;
		return NULL;
	}
	if (conf->telemetry)
		gale__telemetry_attach(rt);
	return rt;
}

void
gale_runtime_stop(struct gale_runtime *rt)
{
	/* Release: pairs with the acquire load in the control loop. */
	atomic_store_explicit(&rt->stop_req, true, memory_order_release);
}

static void
gale__signal(int sig)
{
	struct gale_runtime *rt;
	static const char msg[] = "gale: second signal, exiting now\n";

	if (atomic_fetch_add_explicit(&gale__sig_count, 1, memory_order_relaxed) >= 1) {
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nothing else to do in a handler */
		}
		_exit(128 + sig);
	}
	rt = atomic_load_explicit(&gale__sig_rt, memory_order_acquire);
	if (rt != NULL)
		gale_runtime_stop(rt);
}

int
gale_runtime_signals_install(struct gale_runtime *rt)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gale__signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	atomic_store_explicit(&gale__sig_count, 0, memory_order_relaxed);
	/* Release: the handler's acquire load sees a fully built runtime. */
	atomic_store_explicit(&gale__sig_rt, rt, memory_order_release);
	if (!gale__sig_installed) {
		if (sigaction(SIGINT, &sa, &gale__sig_old_int) != 0 ||
		    sigaction(SIGTERM, &sa, &gale__sig_old_term) != 0)
			return -errno;
		gale__sig_installed = true;
	}
	return 0;
}

static void
gale__signals_remove(struct gale_runtime *rt)
{
	struct gale_runtime *expected = rt;

	if (!atomic_compare_exchange_strong(&gale__sig_rt, &expected, NULL))
		return;
	if (gale__sig_installed) {
		sigaction(SIGINT, &gale__sig_old_int, NULL);
		sigaction(SIGTERM, &gale__sig_old_term, NULL);
		gale__sig_installed = false;
	}
}

/* Up messages: the runtime's DRAINED events, everything else to the user. */
struct gale__up_state {
	struct gale_runtime *rt;
	bool *drained;
};

static void
gale__up(unsigned int worker, const struct gale_ctl_msg *msg, void *arg)
{
	struct gale__up_state *us = arg;

	if (msg->type == GALE_CTL_EVENT && msg->code == GALE__EVT_DRAINED) {
		us->drained[worker] = true;
		return;
	}
	if (msg->type == GALE_CTL_COUNTER && msg->code < GALE_RUNTIME_COUNTERS)
		gale__stat_add(&us->rt->counters[msg->code], msg->arg);
	if (us->rt->conf.up_cb != NULL)
		us->rt->conf.up_cb(worker, msg, us->rt->conf.control_arg);
}

/* Queue cmd to every worker that has not got it yet; true when all have. */
static bool
gale__send_all(struct gale_runtime *rt, uint32_t code, bool *sent)
{
	struct gale_ctl_msg msg = { .type = GALE_CTL_CMD, .code = code };
	bool all = true;

	for (unsigned int k = 0; k < rt->nb_workers; k++) {
		if (sent[k])
			continue;
		if (gale_ctl_send(rt->ctl, k, &msg) == 0)
			sent[k] = true;
		else
			all = false;
	}
	return all;
}

static void
gale__nap(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

int
gale_runtime_run(struct gale_runtime *rt)
{
	bool drained[RTE_MAX_LCORE] = { false }, sent_drain[RTE_MAX_LCORE] = { false };
	bool sent_stop[RTE_MAX_LCORE] = { false }, launched[RTE_MAX_LCORE] = { false };
	struct gale__up_state us = { .rt = rt, .drained = drained };
	uint64_t deadline = 0, now;
	int ret = 0, phase;
	unsigned int k, done;
	struct gale_worker *w;

	if (rt->running || rte_lcore_id() != rte_get_main_lcore())
		return -EINVAL;
	rt->running = true;
	rt->drain_timed_out = false;
	atomic_store_explicit(&rt->phase, GALE_RUNTIME_RUNNING, memory_order_relaxed);
	for (k = 0; k < rt->nb_workers; k++) {
		w = &rt->workers[k];
		w->stop = w->draining = w->drained_sent = false;
		atomic_store_explicit(&w->exited, false, memory_order_relaxed);
		ret = rte_eal_remote_launch(gale__worker_main, w, w->lcore);
		if (ret != 0) {
			gale_runtime_stop(rt);
			break;
		}
		launched[k] = true;
	}
	phase = GALE_RUNTIME_RUNNING;
	for (;;) {
		gale_ctl_poll(rt->ctl, gale__up, &us);
		if (rt->conf.control_cb != NULL)
			rt->conf.control_cb(rt, rt->conf.control_arg);
		now = gale_timer_now_us();
		done = 0;
		for (k = 0; k < rt->nb_workers; k++) {
			w = &rt->workers[k];
			/* Acquire: pairs with the worker's release store as its lcore function
			 * returns. */
			if (!launched[k] ||
			    atomic_load_explicit(&w->exited, memory_order_acquire)) {
				drained[k] = true;
				done++;
				if (launched[k] && w->init_ret != 0 && ret == 0) {
					ret = w->init_ret;
					gale_runtime_stop(rt);
				}
			}
		}
		/* Acquire: pairs with gale_runtime_stop's release store. */
		if (phase == GALE_RUNTIME_RUNNING &&
		    atomic_load_explicit(&rt->stop_req, memory_order_acquire)) {
			phase = GALE_RUNTIME_DRAINING;
			rt->drain_start_us = now;
			deadline = now + (uint64_t)rt->conf.drain_ms * 1000;
		}
		if (phase == GALE_RUNTIME_DRAINING) {
			gale__send_all(rt, GALE__CMD_DRAIN, sent_drain);
			bool all = true;
			for (k = 0; k < rt->nb_workers; k++)
				all = all && drained[k];
			if (all || (int64_t)(now - deadline) >= 0) {
				rt->drain_timed_out = !all;
				rt->drain_us = now - rt->drain_start_us;
				phase = GALE_RUNTIME_STOPPING;
			}
		}
		if (phase == GALE_RUNTIME_STOPPING) {
			if (done == rt->nb_workers)
				break;
			gale__send_all(rt, GALE__CMD_STOP, sent_stop);
		}
		atomic_store_explicit(&rt->phase, phase, memory_order_relaxed);
		gale__nap(rt->conf.ctl_period_us);
	}
	atomic_store_explicit(&rt->phase, GALE_RUNTIME_STOPPING, memory_order_relaxed);
	for (k = 0; k < rt->nb_workers; k++) {
		if (launched[k])
			rte_eal_wait_lcore(rt->workers[k].lcore);
	}
	gale_ctl_poll(rt->ctl, gale__up, &us); /* the workers' last messages */
	atomic_store_explicit(&rt->stop_req, false, memory_order_relaxed);
	atomic_store_explicit(&rt->phase, GALE_RUNTIME_STOPPED, memory_order_relaxed);
	rt->running = false;
	if (ret != 0)
		return ret;
	return rt->drain_timed_out ? -ETIMEDOUT : 0;
}

void
gale_runtime_free(struct gale_runtime *rt)
{
	unsigned int k;
	uint16_t p;

	if (rt == NULL)
		return;
	gale__signals_remove(rt);
	gale__telemetry_detach(rt);
	gale__stacks_teardown(rt);
	for (k = 0; k < rt->nb_workers; k++)
		gale_timer_wheel_free(rt->workers[k].wheel);
	gale_ctl_free(rt->ctl);
	rte_free(rt->workers);
	if (rt->conf.close_ports) {
		for (p = 0; p < rt->nb_ports; p++)
			gale_port_close(rt->ports[p]);
	}
	free(rt);
}

unsigned int
gale_runtime_nb_workers(const struct gale_runtime *rt)
{
	return rt->nb_workers;
}

struct gale_worker *
gale_runtime_worker(struct gale_runtime *rt, unsigned int k)
{
	return k < rt->nb_workers ? &rt->workers[k] : NULL;
}

struct gale_ctl *
gale_runtime_ctl(struct gale_runtime *rt)
{
	return rt->ctl;
}

enum gale_runtime_phase
gale_runtime_phase(const struct gale_runtime *rt)
{
	return (enum gale_runtime_phase)atomic_load_explicit(&rt->phase, memory_order_relaxed);
}

uint64_t
gale_runtime_counter(const struct gale_runtime *rt, unsigned int code)
{
	return code < GALE_RUNTIME_COUNTERS ? gale__stat_read(&rt->counters[code]) : 0;
}

uint64_t
gale_runtime_drain_us(const struct gale_runtime *rt)
{
	return rt->drain_us;
}
