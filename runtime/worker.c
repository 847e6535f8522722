/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker loop (gale/worker.h): run to completion, one lcore, no locks.
 *
 * One iteration: rx bursts of 32 on the worker's queue of each port (through software steering when
 * the port has it: foreign flows to their owner's ring, then what other workers forwarded to us) ->
 * rx callback -> work callback -> tx flush -> timer wheel -> control messages, then busy/idle
 * accounting and the idle policy. The order puts tx right after everything that produces packets in
 * the iteration, and timers after tx so a retransmission armed by this iteration's input never
 * fires before its data left.
 *
 * Tx queue per port: a flat array with a moving head, pkts[head .. head+n). Appends compact it only
 * when they would run off the end, so a partial tx_burst costs a head move, not a memmove per
 * iteration. What does not fit (GALE_WORKER_TXQ per port) is freed and counted, never blocked on.
 *
 * All state is the worker's own; statistics are single-writer words read by telemetry with relaxed
 * loads (runtime_private.h). The only cross-core traffic is the control channel's rings and acked
 * word.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include <gale/control.h>
#include <gale/steer.h>
#include <gale/tcpstack.h>
#include <gale/timer.h>

#include "runtime_private.h"

unsigned int
gale_worker_id(const struct gale_worker *w)
{
	return w->id;
}

unsigned int
gale_worker_lcore(const struct gale_worker *w)
{
	return w->lcore;
}

struct gale_runtime *
gale_worker_runtime(const struct gale_worker *w)
{
	return w->rt;
}

const struct gale_port *
gale_worker_port(const struct gale_worker *w, uint16_t port)
{
	return port < w->rt->nb_ports ? w->rt->ports[port] : NULL;
}

uint16_t
gale_worker_nb_ports(const struct gale_worker *w)
{
	return w->rt->nb_ports;
}

struct gale_timer_wheel *
gale_worker_timers(struct gale_worker *w)
{
	return w->wheel;
}

uint64_t
gale_worker_now_us(const struct gale_worker *w)
{
	return w->now_us;
}

bool
gale_worker_draining(const struct gale_worker *w)
{
	return w->draining;
}

const struct gale_snapshot *
gale_worker_snapshot(const struct gale_worker *w)
{
	return gale_ctl_worker_snapshot(w->rt->ctl, w->id);
}

int
gale_worker_send_up(struct gale_worker *w, const struct gale_ctl_msg *msg)
{
	return gale_ctl_worker_send(w->rt->ctl, w->id, msg);
}

void *
gale_worker_user(const struct gale_worker *w)
{
	return w->user;
}

void
gale_worker_set_user(struct gale_worker *w, void *user)
{
	w->user = user;
}

void
gale_worker_stats_get(const struct gale_worker *w, struct gale_worker_stats *st)
{
	st->iterations = gale__stat_read(&w->st.iterations);
	st->busy_cycles = gale__stat_read(&w->st.busy_cycles);
	st->idle_cycles = gale__stat_read(&w->st.idle_cycles);
	st->rx_pkts = gale__stat_read(&w->st.rx_pkts);
	st->rx_bursts = gale__stat_read(&w->st.rx_bursts);
	st->rx_steered = gale__stat_read(&w->st.rx_steered);
	st->tx_pkts = gale__stat_read(&w->st.tx_pkts);
	st->tx_dropped = gale__stat_read(&w->st.tx_dropped);
	st->tx_queued = gale__stat_read(&w->st.tx_queued);
	st->timers_run = gale__stat_read(&w->st.timers_run);
	st->ctl_msgs = gale__stat_read(&w->st.ctl_msgs);
	st->work_units = gale__stat_read(&w->st.work_units);
	st->sleeps = gale__stat_read(&w->st.sleeps);
	st->arp_shared = gale__stat_read(&w->st.arp_shared);
	st->arp_share_dropped = gale__stat_read(&w->st.arp_share_dropped);
	st->stack_conns_left = gale__stat_read(&w->st.stack_conns_left);
}

/* One tx_burst of everything queued on q; the unsent tail stays. Returns packets sent. */
static uint16_t
gale__txq_send(struct gale_worker *w, uint16_t port, struct gale__txq *q)
{
	uint16_t sent;

	if (q->n == 0)
		return 0;
	sent = rte_eth_tx_burst(w->rt->port_ids[port], (uint16_t)w->id, &q->pkts[q->head], q->n);
	q->head = (uint16_t)(q->head + sent);
	q->n = (uint16_t)(q->n - sent);
	if (q->n == 0)
		q->head = 0;
	if (sent != 0) {
		gale__stat_add(&w->st.tx_pkts, sent);
		gale__stat_add(&w->st.tx_queued, 0 - (uint64_t)sent);
	}
	return sent;
}

uint16_t
gale_worker_tx(struct gale_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct gale__txq *q;
	uint16_t take;

	if (port >= w->rt->nb_ports) {
		rte_pktmbuf_free_bulk(pkts, n);
		gale__stat_add(&w->st.tx_dropped, n);
		return 0;
	}
	q = &w->txq[port];
	take = RTE_MIN(n, (uint16_t)(GALE_WORKER_TXQ - q->n));
	if (q->head + q->n + take > GALE_WORKER_TXQ) {
		memmove(&q->pkts[0], &q->pkts[q->head], q->n * sizeof(q->pkts[0]));
		q->head = 0;
	}
	memcpy(&q->pkts[q->head + q->n], pkts, take * sizeof(pkts[0]));
	q->n = (uint16_t)(q->n + take);
	gale__stat_add(&w->st.tx_queued, take);
	if (take < n) {
		rte_pktmbuf_free_bulk(&pkts[take], n - take);
		gale__stat_add(&w->st.tx_dropped, n - take);
	}
	if (q->n >= GALE_WORKER_BURST)
		gale__txq_send(w, port, q);
	return take;
}

unsigned int
gale_worker_flush(struct gale_worker *w)
{
	unsigned int left = 0;
	uint16_t p;

	for (p = 0; p < w->rt->nb_ports; p++) {
		gale__txq_send(w, p, &w->txq[p]);
		left += w->txq[p].n;
	}
	return left;
}

/* Control messages for this worker: the runtime's own commands, the rest to the user's callback. */
static void
gale__worker_ctl(unsigned int worker, const struct gale_ctl_msg *msg, void *arg)
{
	struct gale_worker *w = arg;

	(void)worker;
	if (msg->type == GALE_CTL_CMD && msg->code == GALE__CMD_DRAIN) {
		w->draining = true;
		return;
	}
	if (msg->type == GALE_CTL_CMD && msg->code == GALE__CMD_STOP) {
		w->stop = true;
		return;
	}
	if (msg->type == GALE_CTL_CMD && msg->code == GALE__CMD_REMOTE_CALL) {
		gale__rpc_remote_start(w, msg->ptr);
		return;
	}
	if (w->rt->conf.ctl_cb != NULL)
		w->rt->conf.ctl_cb(w, msg, w->rt->conf.worker_arg);
}

/* While draining: report once nothing is in flight and nothing waits for tx. */
static void
gale__worker_drain_check(struct gale_worker *w)
{
	const struct gale_runtime_conf *c = &w->rt->conf;
	struct gale_ctl_msg ev = { .type = GALE_CTL_EVENT, .code = GALE__EVT_DRAINED };
	uint16_t p;

	if (w->drained_sent)
		return;
	if (c->inflight_cb != NULL && c->inflight_cb(w, c->worker_arg) != 0)
		return;
	for (p = 0; p < w->rt->nb_ports; p++) {
		if (w->txq[p].n != 0)
			return;
	}
	if (gale__worker_stacks_pending(w) != 0)
		return;
	ev.arg = w->id;
	if (gale_ctl_worker_send(w->rt->ctl, w->id, &ev) == 0)
		w->drained_sent = true;
}

static void
gale__worker_idle(struct gale_worker *w)
{
	const struct gale_idle_conf *idle = &w->rt->conf.idle;
	uint64_t next, now, sleep_us;
	struct timespec ts;

	if (idle->mode == GALE_IDLE_POLL)
		return;
	if (w->idle_iters < idle->idle_iters) {
		w->idle_iters++; /* saturates: a long idle spell never wraps back to polling */
		return;
	}
	if (idle->mode == GALE_IDLE_PAUSE) {
		for (unsigned int i = 0; i < idle->pause_count; i++)
			rte_pause();
		return;
	}
	/* Sleep, but never past the next timer: the wheel's lower bound on its next expiry. */
	sleep_us = idle->sleep_us;
	if (gale_timer_wheel_next(w->wheel, &next) == 0) {
		now = gale_timer_now_us();
		if ((int64_t)(next - now) <= 0)
			return;
		if (next - now < sleep_us)
			sleep_us = next - now;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(sleep_us * 1000);
	nanosleep(&ts, NULL);
	gale__stat_add(&w->st.sleeps, 1);
}

/* Hand packets this worker owns to the protocol layer (consumes them). */
static inline void
gale__worker_deliver(struct gale_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	const struct gale_runtime_conf *c = &w->rt->conf;

	if (n == 0)
		return;
	if (w->stacks[port].stack != NULL)
		gale_stack_input(w->stacks[port].stack, pkts, n);
	else if (c->rx_cb != NULL)
		c->rx_cb(w, port, pkts, n, c->worker_arg);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

/* One iteration of the loop. */
static void
gale__worker_iterate(struct gale_worker *w)
{
	const struct gale_runtime_conf *c = &w->rt->conf;
	struct rte_mbuf *pkts[GALE_WORKER_BURST];
	uint64_t start, end, work = 0;
	unsigned int units, ran, msgs;
	uint16_t p, n;

	start = rte_rdtsc();
	w->now_us = gale_timer_now_us();
	for (p = 0; p < w->rt->nb_ports; p++) {
		n = rte_eth_rx_burst(w->rt->port_ids[p], (uint16_t)w->id, pkts, GALE_WORKER_BURST);
		if (n != 0) {
			gale__stat_add(&w->st.rx_pkts, n);
			gale__stat_add(&w->st.rx_bursts, 1);
			work += n;
			if (w->rt->steers[p] != NULL)
				n = gale_steer_rx_burst(w->rt->steers[p], (uint16_t)w->id, pkts, n);
			gale__worker_deliver(w, p, pkts, n);
		}
		if (w->rt->steers[p] != NULL) {
			n = gale_steer_drain(w->rt->steers[p], (uint16_t)w->id, pkts,
			                     GALE_WORKER_BURST);
			if (n != 0) {
				gale__stat_add(&w->st.rx_steered, n);
				work += n;
				gale__worker_deliver(w, p, pkts, n);
			}
		}
	}
	if (c->work_cb != NULL) {
		units = c->work_cb(w, c->worker_arg);
		if (units != 0) {
			gale__stat_add(&w->st.work_units, units);
			work += units;
		}
	}
	if (w->remotes != NULL) /* clients serving blocking calls of other threads */
		work += gale__rpc_remote_poll(w);
	work += gale__worker_stacks_flush(w);
	for (p = 0; p < w->rt->nb_ports; p++)
		work += gale__txq_send(w, p, &w->txq[p]);
	/* An iteration that found nothing to do took well under a microsecond: its start time
	 * serves, and an idle poll reads the clock once instead of twice. */
	ran = gale_timer_wheel_advance(w->wheel, work != 0 ? gale_timer_now_us() : w->now_us);
	if (ran != 0) {
		gale__stat_add(&w->st.timers_run, ran);
		work += ran;
	}
	/* What the timers (retransmissions, ACKs) and shared ARP answers released goes out now. */
	work += gale__worker_arp_drain(w);
	work += gale__worker_stacks_flush(w);
	msgs = gale_ctl_worker_poll(w->rt->ctl, w->id, gale__worker_ctl, w);
	if (msgs != 0) {
		gale__stat_add(&w->st.ctl_msgs, msgs);
		work += msgs;
	}
	if (w->draining)
		gale__worker_drain_check(w);
	gale__stat_add(&w->st.iterations, 1);
	if (work != 0) {
		w->idle_iters = 0;
		end = rte_rdtsc();
		gale__stat_add(&w->st.busy_cycles, end - start);
	} else {
		gale__worker_idle(w);
		end = rte_rdtsc();
		gale__stat_add(&w->st.idle_cycles, end - start);
	}
}

/* After the loop: drop what is still queued for tx and empty the rx queues, so every mbuf goes
 * home. */
static void
gale__worker_release(struct gale_worker *w)
{
	struct rte_mbuf *pkts[GALE_WORKER_BURST];
	struct gale__txq *q;
	uint16_t p, n;

	for (p = 0; p < w->rt->nb_ports; p++) {
		q = &w->txq[p];
		gale__txq_send(w, p, q);
		if (q->n != 0) {
			rte_pktmbuf_free_bulk(&q->pkts[q->head], q->n);
			gale__stat_add(&w->st.tx_dropped, q->n);
			gale__stat_add(&w->st.tx_queued, 0 - (uint64_t)q->n);
			q->n = 0;
			q->head = 0;
		}
		/* Bounded: a device still receiving cannot keep us here (1024 bursts at most). */
		for (unsigned int round = 0; round < 1024; round++) {
			n = rte_eth_rx_burst(w->rt->port_ids[p], (uint16_t)w->id, pkts,
			                     GALE_WORKER_BURST);
			if (n == 0)
				break;
			rte_pktmbuf_free_bulk(pkts, n);
		}
		for (unsigned int round = 0; w->rt->steers[p] != NULL && round < 1024; round++) {
			n = gale_steer_drain(w->rt->steers[p], (uint16_t)w->id, pkts,
			                     GALE_WORKER_BURST);
			if (n == 0)
				break;
			rte_pktmbuf_free_bulk(pkts, n);
		}
	}
}

int
gale__worker_main(void *arg)
{
	struct gale_worker *w = arg;
	const struct gale_runtime_conf *c = &w->rt->conf;

	w->init_ret = gale__worker_stacks_start(w);
	if (w->init_ret == 0)
		gale__rpc_remote_worker_start(w);
	if (w->init_ret == 0 && c->init_cb != NULL)
		w->init_ret = c->init_cb(w, c->worker_arg);
	if (w->init_ret == 0) {
		while (!w->stop)
			gale__worker_iterate(w);
	}
	/* Blocking callers waiting on this worker fail now, whatever stopped it. */
	gale__rpc_remote_worker_stop(w);
	if (w->init_ret == 0 && c->fini_cb != NULL)
		c->fini_cb(w, c->worker_arg);
	/* After fini: the protocol layer has closed its connections on the stacks. */
	gale__worker_stacks_stop(w);
	gale__worker_release(w);
	/* Release: the worker's last writes (stats, init_ret) are visible to the control thread's
	 * acquire load. */
	atomic_store_explicit(&w->exited, true, memory_order_release);
	return w->init_ret;
}
