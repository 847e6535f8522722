/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP timers on the worker's timer wheel: retransmission (RFC 6298) doubling as the persist timer
 * (RFC 9293 3.8.6.1), delayed ACK (RFC 1122 4.2.3.2; off by default, a few hundred µs for RPC),
 * keepalive (RFC 1122 4.2.3.6; off by default) and 2MSL for TIME_WAIT (and for an orphaned
 * FIN_WAIT_2).
 *
 * RTO per RFC 6298: SRTT and RTTVAR in µs from one timed segment at a time (Karn: a retransmission
 * cancels the measurement, so ambiguous samples are never taken), RTO = SRTT + max(G, 4 RTTVAR)
 * bounded by [rto_min_us, rto_max_us]; the default floor is 5 ms, not the 200 ms Linux uses,
 * because datacenter RTTs are tens of µs and a 200 ms stall is what RPC tails are made of. Each
 * timeout doubles the RTO (5.5).
 */
#include <errno.h>

#include "tcp_var.h"

#define GALE__RTO_G_US 100u /**< clock granularity term of RFC 6298 (the wheel's tick is finer).   \
	                     */

static void gale__tcp_rexmt_cb(struct gale_timer *t, void *arg);
static void gale__tcp_delack_cb(struct gale_timer *t, void *arg);
static void gale__tcp_keep_cb(struct gale_timer *t, void *arg);
static void gale__tcp_2msl_cb(struct gale_timer *t, void *arg);

void
gale__tcp_timer_init(struct gale_tcp_conn *tp)
{
	gale_timer_init(&tp->t_rexmt, gale__tcp_rexmt_cb, tp);
	gale_timer_init(&tp->t_delack, gale__tcp_delack_cb, tp);
	gale_timer_init(&tp->t_keep, gale__tcp_keep_cb, tp);
	gale_timer_init(&tp->t_2msl, gale__tcp_2msl_cb, tp);
}

void
gale__tcp_timers_cancel(struct gale_tcp_conn *tp)
{
	struct gale_timer_wheel *w = tp->stack->conf.wheel;

	gale_timer_cancel(w, &tp->t_rexmt);
	gale_timer_cancel(w, &tp->t_delack);
	gale_timer_cancel(w, &tp->t_keep);
	gale_timer_cancel(w, &tp->t_2msl);
}

static uint32_t
gale__tcp_backoff(const struct gale_tcp_conn *tp)
{
	uint64_t rto = (uint64_t)tp->rto_us << GALE__MIN(tp->rxtshift, (uint8_t)16);

	return (uint32_t)GALE__MIN(rto, (uint64_t)tp->stack->conf.rto_max_us);
}

/*
 * Tail loss probe (RFC 8985 7): while more than a segment of data is out with SACK in use, no
 * recovery and no timeout under way, the timer first fires after PTO = 2 SRTT (+ the clock
 * granularity), not the RTO, and sends a probe (gale__tcp_tlp_send) whose SACK tells which of the
 * tail was lost, so that fast recovery repairs it. Without it a flight lost whole (over net_tap
 * with TSO, one dropped segment of up to 64 KiB) waits for the 5 ms RTO and restarts from a
 * one-segment window: the goodput test under 1% loss had 10 to 30 timeouts per 8 MiB echoed.
 * A flight of one segment keeps the RTO (RFC 8985 adds the peer's delayed-ACK time there).
 */
static bool
gale__tcp_tlp_eligible(const struct gale_tcp_conn *tp)
{
	return (tp->t_flags & (GALE_TF_SACK_PERMIT | GALE_TF_FASTRECOV | GALE_TF_TLP |
	                       GALE_TF_PERSIST)) == GALE_TF_SACK_PERMIT &&
	       tp->srtt_us != 0 && tp->rxtshift == 0 &&
	       (tp->state & (GALE_TCPS_ESTABLISHED | GALE_TCPS_CLOSE_WAIT)) &&
	       tp->snd_max - tp->snd_una > tp->t_maxseg;
}

void
gale__tcp_rexmt_arm(struct gale_tcp_conn *tp)
{
	uint32_t t = gale__tcp_backoff(tp);

	tp->t_flags &= ~(GALE_TF_PERSIST | GALE_TF_PTO);
	if (gale__tcp_tlp_eligible(tp) && 2u * tp->srtt_us + GALE__RTO_G_US < t) {
		t = 2u * tp->srtt_us + GALE__RTO_G_US;
		tp->t_flags |= GALE_TF_PTO;
	}
	gale_timer_arm(tp->stack->conf.wheel, &tp->t_rexmt, gale__now_us(tp->stack) + t);
}

void
gale__tcp_rexmt_stop(struct gale_tcp_conn *tp)
{
	tp->t_flags &= ~(GALE_TF_PERSIST | GALE_TF_PTO);
	gale_timer_cancel(tp->stack->conf.wheel, &tp->t_rexmt);
}

void
gale__tcp_setpersist(struct gale_tcp_conn *tp)
{
	uint32_t t = gale__tcp_backoff(tp);

	/* RFC 9293 3.8.6.1: probe a zero window with exponential backoff; at least 5 ms apart here.
	 */
	t = GALE__MAX(t, 5000u);
	tp->t_flags &= ~GALE_TF_PTO;
	tp->t_flags |= GALE_TF_PERSIST;
	gale_timer_arm(tp->stack->conf.wheel, &tp->t_rexmt, gale__now_us(tp->stack) + t);
}

void
gale__tcp_rtt_update(struct gale_tcp_conn *tp, uint32_t rtt)
{
	const struct gale_stack_conf *c = &tp->stack->conf;
	uint32_t delta, rto;

	if (rtt == 0)
		rtt = 1;
	if (tp->srtt_us == 0) {
		tp->srtt_us = rtt;
		tp->rttvar_us = rtt / 2;
	} else {
		delta = tp->srtt_us > rtt ? tp->srtt_us - rtt : rtt - tp->srtt_us;
		tp->rttvar_us = tp->rttvar_us - tp->rttvar_us / 4 + delta / 4;
		tp->srtt_us = tp->srtt_us - tp->srtt_us / 8 + rtt / 8;
	}
	rto = tp->srtt_us + GALE__MAX(GALE__RTO_G_US, 4 * tp->rttvar_us);
	tp->rto_us = GALE__MIN(GALE__MAX(rto, c->rto_min_us), c->rto_max_us);
	tp->rxtshift = 0;
	GALE__STAT(tp->stack, tcp_rtt_sample);
}

void
gale__tcp_keep_arm(struct gale_tcp_conn *tp)
{
	const struct gale_stack_conf *c = &tp->stack->conf;

	if (c->keepalive_idle_us == 0)
		return;
	gale_timer_arm(c->wheel, &tp->t_keep, tp->last_rx_us + c->keepalive_idle_us);
}

void
gale__tcp_delack_arm(struct gale_tcp_conn *tp)
{
	const struct gale_stack_conf *c = &tp->stack->conf;

	if (!gale_timer_pending(&tp->t_delack))
		gale_timer_arm(c->wheel, &tp->t_delack, gale__now_us(tp->stack) + c->delack_us);
}

static void
gale__tcp_rexmt_cb(struct gale_timer *t, void *arg)
{
	struct gale_tcp_conn *tp = arg;
	struct gale_stack *s = tp->stack;
	uint32_t flight, limit;

	(void)t;
	gale__tcp_busy(tp);
	/* A closed peer window is probed, not retransmitted into (and probing never gives up). */
	if ((tp->state & GALE_TCPS_SYNCHRONIZED) && tp->snd_wnd == 0 && tp->snd_cc > 0)
		tp->t_flags |= GALE_TF_PERSIST;
	if (tp->t_flags & GALE_TF_PERSIST) {
		/* Zero-window probe: one byte beyond the window, answered with the current window.
		 */
		GALE__STAT(s, tcp_persist_probe);
		if (tp->rxtshift < 16)
			tp->rxtshift++;
		/* Every probe carries the byte at snd_una (as FreeBSD): the window is what it asks
		 * about. */
		tp->snd_nxt = tp->snd_una;
		tp->t_flags |= GALE_TF_FORCE;
		gale__tcp_output(tp);
		tp->t_flags &= ~GALE_TF_FORCE;
		if (tp->state != GALE_TCPS_CLOSED && tp->snd_wnd == 0 && tp->snd_cc > 0 &&
		    !gale_timer_pending(&tp->t_rexmt))
			gale__tcp_setpersist(tp);
		goto out;
	}
	if (tp->t_flags & GALE_TF_PTO) {
		tp->t_flags &= ~GALE_TF_PTO;
		/* Armed while the connection could probe; since then a FIN may have gone, and a
		 * probe of the last segment would then take the FIN's place: a timeout instead. */
		if ((tp->state & (GALE_TCPS_ESTABLISHED | GALE_TCPS_CLOSE_WAIT)) &&
		    !(tp->t_flags & GALE_TF_SENTFIN)) {
			gale__tcp_tlp_send(tp);
			goto out;
		}
	}
	limit = (tp->state & (GALE_TCPS_SYN_SENT | GALE_TCPS_SYN_RECEIVED)) ? s->conf.syn_retries
	                                                                    : s->conf.data_retries;
	if (++tp->rxtshift > limit) {
		GALE__STAT(s, tcp_conn_timeout);
		gale__tcp_drop(tp, -ETIMEDOUT);
		goto out;
	}
	GALE__STAT(s, tcp_rexmt_timeout);
	if (tp->state & (GALE_TCPS_SYN_SENT | GALE_TCPS_SYN_RECEIVED))
		tp->t_flags |= GALE_TF_SYN_REXMT;
	/* RFC 5681 3.1 (4): ssthresh from the flight, cwnd to one segment; RFC 6582: recover =
	 * highest sent. */
	flight = tp->snd_max - tp->snd_una;
	/* Eifel detection (RFC 3522): remember what the first timeout takes away and the TSval its
	 * retransmission carries; an ACK echoing an older TSval was for the original, and the
	 * timeout was spurious (tcp_input.c gives it back). With a 5 ms RTO floor a host that
	 * deschedules the peer or this worker for longer fires timeouts with nothing lost. */
	if ((tp->state & GALE_TCPS_SYNCHRONIZED) && tp->rxtshift == 1 &&
	    (tp->t_flags & GALE_TF_RCVD_TSTMP)) {
		tp->t_flags |= GALE_TF_RTO_UNDO;
		tp->undo_cwnd = tp->snd_cwnd;
		tp->undo_ssthresh = tp->snd_ssthresh;
		tp->undo_tsval = gale__tcp_ts_now(tp);
	} else {
		tp->t_flags &= ~GALE_TF_RTO_UNDO;
	}
	if (tp->state & GALE_TCPS_SYNCHRONIZED) {
		if (!(tp->t_flags & GALE_TF_FASTRECOV) || tp->rxtshift == 1)
			gale__cc_after_idle_or_rto(tp);
		tp->snd_ssthresh = GALE__MAX(flight / 2, 2u * tp->t_maxseg);
		tp->snd_cwnd = tp->t_maxseg;
		tp->snd_recover = tp->snd_max;
	}
	tp->t_flags &= ~(GALE_TF_FASTRECOV | GALE_TF_SACK_REXMT | GALE_TF_TLP);
	tp->dupacks = 0;
	gale__tcp_sack_clear(tp);
	tp->rtt_active = false; /* Karn */
	tp->snd_nxt = tp->snd_una;
	gale__tcp_rexmt_arm(tp);
	gale__tcp_output(tp);
out:
	gale__tcp_unbusy(tp);
}

static void
gale__tcp_delack_cb(struct gale_timer *t, void *arg)
{
	struct gale_tcp_conn *tp = arg;

	(void)t;
	if (!(tp->t_flags & GALE_TF_DELACK))
		return;
	gale__tcp_busy(tp);
	GALE__STAT(tp->stack, tcp_delack);
	tp->t_flags |= GALE_TF_ACKNOW;
	gale__tcp_output(tp);
	gale__tcp_unbusy(tp);
}

static void
gale__tcp_keep_cb(struct gale_timer *t, void *arg)
{
	struct gale_tcp_conn *tp = arg;
	struct gale_stack *s = tp->stack;
	const struct gale_stack_conf *c = &s->conf;
	uint64_t now = gale__now_us(s);

	(void)t;
	if (!(tp->state & (GALE_TCPS_ESTABLISHED | GALE_TCPS_CLOSE_WAIT | GALE_TCPS_FIN_WAIT_1 |
	                   GALE_TCPS_FIN_WAIT_2 | GALE_TCPS_CLOSING | GALE_TCPS_LAST_ACK)))
		return;
	if (now - tp->last_rx_us < c->keepalive_idle_us) {
		tp->keep_probes = 0;
		gale__tcp_keep_arm(tp);
		return;
	}
	gale__tcp_busy(tp);
	if (tp->keep_probes >= c->keepalive_probes) {
		GALE__STAT(s, tcp_conn_timeout);
		gale__tcp_drop(tp, -ETIMEDOUT);
	} else {
		/* RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1, no data; the peer answers with an ACK.
		 */
		tp->keep_probes++;
		GALE__STAT(s, tcp_keepalive_probe);
		gale__tcp_respond(s, tp->laddr, tp->lport, tp->faddr, tp->fport, tp->snd_una - 1,
		                  tp->rcv_nxt, RTE_TCP_ACK_FLAG);
		gale_timer_arm(c->wheel, &tp->t_keep, now + c->keepalive_intvl_us);
	}
	gale__tcp_unbusy(tp);
}

static void
gale__tcp_2msl_cb(struct gale_timer *t, void *arg)
{
	struct gale_tcp_conn *tp = arg;

	(void)t;
	gale__tcp_busy(tp);
	if (tp->state == GALE_TCPS_FIN_WAIT_2 && !(tp->t_flags & GALE_TF_APP_CLOSED)) {
		/* Half-closed by the application: wait for the peer as long as it likes. */
	} else {
		gale__tcp_close(tp);
	}
	gale__tcp_unbusy(tp);
}

void
gale__tcp_enter_timewait(struct gale_tcp_conn *tp)
{
	const struct gale_stack_conf *c = &tp->stack->conf;

	tp->state = GALE_TCPS_TIME_WAIT;
	gale_timer_cancel(c->wheel, &tp->t_rexmt);
	gale_timer_cancel(c->wheel, &tp->t_keep);
	gale_timer_cancel(c->wheel, &tp->t_delack);
	tp->t_flags &= ~(GALE_TF_PERSIST | GALE_TF_DELACK);
	gale_timer_arm(c->wheel, &tp->t_2msl, gale__now_us(tp->stack) + 2ull * c->msl_us);
	/* Nothing more to send or receive: the buffers go now, the block stays for 2MSL. */
	rte_pktmbuf_free(tp->snd_head);
	tp->snd_head = tp->snd_tail = NULL;
	tp->snd_cc = 0;
	gale__tcp_reass_flush(tp);
	gale__tcp_event(tp, GALE__EV_CLOSED);
}
