/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP input (RFC 9293 3.10.7 "SEGMENT ARRIVES", with RFC 5961, RFC 7323, RFC 2018/6675 and RFC
 * 6582), after FreeBSD's tcp_input.c and lwIP's tcp_in.c: validate, find the connection, then the
 * state machine. Every segment that is dropped bumps exactly one counter saying why.
 *
 * Order of checks for a synchronized connection: PAWS (RFC 7323 5.3), sequence acceptability (RFC
 * 9293 table in 3.10.7.4), RST (RFC 5961 3.2: exact match resets, in-window gets a challenge ACK,
 * else ignored), SYN (RFC 5961 4.2: always a challenge ACK), ACK (RFC 5961 5.2 range check;
 * duplicate ACKs drive fast retransmit), then data and FIN. Payload is kept in the received mbuf:
 * headers are stripped with an adjust, trimmed to the window, and the mbuf goes to the receive
 * chain or to reassembly.
 *
 * Listeners: a SYN creates a SYN_RECEIVED block counted against the listener's backlog; past the
 * backlog the stack answers with a SYN cookie (RFC 4987) and keeps nothing, and the ACK that
 * returns the cookie creates the connection directly in ESTABLISHED.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_var.h"

#define GALE__PAWS_IDLE_US (24ull * 24 * 3600 * 1000000) /**< RFC 7323 5.5: 24 days. */

/** A parsed segment. */
struct gale__seg {
	uint32_t seq, ack;
	uint32_t len; /**< payload bytes. */
	uint16_t win; /**< raw window field. */
	uint8_t flags;
	bool has_mss, has_ws, has_sackperm, has_ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	struct gale__seq_block sack[4];
	uint32_t saddr, daddr;
	uint16_t sport, dport;
};

static void
gale__tcp_parse_opts(const uint8_t *p, unsigned int len, struct gale__seg *sg, bool syn)
{
	unsigned int i = 0, olen, k;
	uint32_t v;

	while (i < len) {
		if (p[i] == 0)
			break;
		if (p[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			break;
		olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			break;
		switch (p[i]) {
		case 2:
			if (olen == 4 && syn) {
				sg->has_mss = true;
				sg->mss = (uint16_t)((p[i + 2] << 8) | p[i + 3]);
			}
			break;
		case 3:
			if (olen == 3 && syn) {
				sg->has_ws = true;
				sg->ws = GALE__MIN(p[i + 2], (uint8_t)GALE__TCP_MAX_WINSHIFT);
			}
			break;
		case 4:
			if (olen == 2 && syn)
				sg->has_sackperm = true;
			break;
		case 5:
			if (olen >= 10 && (olen - 2) % 8 == 0 && !syn) {
				for (k = 0; k < (olen - 2) / 8 && k < 4; k++) {
					memcpy(&v, p + i + 2 + 8 * k, 4);
					sg->sack[k].start = rte_be_to_cpu_32(v);
					memcpy(&v, p + i + 6 + 8 * k, 4);
					sg->sack[k].end = rte_be_to_cpu_32(v);
				}
				sg->nsack = (uint8_t)k;
			}
			break;
		case 8:
			if (olen == 10) {
				sg->has_ts = true;
				memcpy(&v, p + i + 2, 4);
				sg->tsval = rte_be_to_cpu_32(v);
				memcpy(&v, p + i + 6, 4);
				sg->tsecr = rte_be_to_cpu_32(v);
			}
			break;
		default:
			break;
		}
		i += olen;
	}
}

/* Reply to a segment that has no connection (RFC 9293 3.10.7.1). */
static void
gale__tcp_reset_unknown(struct gale_stack *s, const struct gale__seg *sg)
{
	uint32_t seglen = sg->len + ((sg->flags & RTE_TCP_SYN_FLAG) ? 1 : 0) +
	                  ((sg->flags & RTE_TCP_FIN_FLAG) ? 1 : 0);

	if (sg->flags & RTE_TCP_RST_FLAG)
		return;
	if (sg->flags & RTE_TCP_ACK_FLAG)
		gale__tcp_respond(s, sg->daddr, sg->dport, sg->saddr, sg->sport, sg->ack, 0,
		                  RTE_TCP_RST_FLAG);
	else
		gale__tcp_respond(s, sg->daddr, sg->dport, sg->saddr, sg->sport, 0,
		                  sg->seq + seglen, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
}

static void
gale__tcp_challenge_ack(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;

	if (!gale__tcp_challenge_allowed(s))
		return;
	GALE__STAT(s, tcp_challenge_ack_tx);
	gale__tcp_ack_now(tp);
}

/* Options of the peer's SYN (or SYN-ACK) into the connection. */
static void
gale__tcp_syn_options(struct gale_tcp_conn *tp, const struct gale__seg *sg)
{
	struct gale_stack *s = tp->stack;

	tp->peer_mss = sg->has_mss && sg->mss >= 64 ? sg->mss : 536;
	if ((tp->t_flags & GALE_TF_REQ_SCALE) && sg->has_ws) {
		tp->t_flags |= GALE_TF_RCVD_SCALE;
		tp->snd_scale = sg->ws;
		tp->rcv_scale = tp->request_r_scale;
	} else {
		tp->t_flags &= ~GALE_TF_REQ_SCALE;
		tp->snd_scale = tp->rcv_scale = 0;
	}
	if ((tp->t_flags & GALE_TF_REQ_TSTMP) && sg->has_ts) {
		tp->t_flags |= GALE_TF_RCVD_TSTMP;
		tp->ts_recent = sg->tsval;
		tp->ts_recent_age_us = gale__now_us(s);
	} else {
		tp->t_flags &= ~GALE_TF_REQ_TSTMP;
	}
	if (s->conf.sack && sg->has_sackperm)
		tp->t_flags |= GALE_TF_SACK_PERMIT;
	gale__tcp_set_mss(tp);
}

/* A SYN (or cookie ACK) for a listener: a new passive connection. NULL when none could be made. */
static struct gale_tcp_conn *
gale__tcp_passive(struct gale_stack *s, struct gale__listener *l, const struct gale__seg *sg)
{
	struct gale_tcp_conn *tp = gale__tcp_newconn(s, sg->daddr, sg->dport, sg->saddr, sg->sport);

	if (tp == NULL)
		return NULL;
	tp->listen_port = l->port;
	tp->irs = sg->seq;
	tp->rcv_nxt = sg->seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	tp->request_r_scale = gale__tcp_wscale_for(s->conf.rcvbuf);
	if (s->conf.window_scaling)
		tp->t_flags |= GALE_TF_REQ_SCALE;
	if (s->conf.timestamps)
		tp->t_flags |= GALE_TF_REQ_TSTMP;
	GALE__STAT(s, tcp_conn_passive);
	return tp;
}

static void
gale__tcp_listen_input(struct gale_stack *s, struct gale__listener *l, struct gale__seg *sg)
{
	struct gale_tcp_conn *tp;
	uint16_t mss;

	if (sg->flags & RTE_TCP_RST_FLAG) {
		GALE__STAT(s, tcp_drop_listen);
		return;
	}
	if (sg->flags & RTE_TCP_ACK_FLAG) {
		/* Only a returning SYN cookie is acceptable; anything else gets RST (RFC
		 * 9293 3.10.7.2). */
		if (!(sg->flags & RTE_TCP_SYN_FLAG) && s->conf.syncookies &&
		    gale__syncookie_check(s, sg->daddr, sg->dport, sg->saddr, sg->sport,
		                          sg->seq - 1, sg->ack - 1, &mss) == 0) {
			tp = gale__tcp_passive(s, l, sg);
			if (tp == NULL)
				return;
			GALE__STAT(s, tcp_syncookie_ok);
			tp->t_flags |= GALE_TF_COOKIE;
			tp->t_flags &= ~(GALE_TF_REQ_SCALE | GALE_TF_REQ_TSTMP);
			tp->irs = sg->seq - 1;
			tp->rcv_nxt = sg->seq;
			tp->rcv_adv = tp->rcv_nxt + GALE__MIN(s->conf.rcvbuf, GALE__TCP_MAXWIN);
			tp->iss = sg->ack - 1;
			tp->snd_una = tp->snd_nxt = tp->snd_max = sg->ack;
			tp->peer_mss = mss;
			gale__tcp_set_mss(tp);
			tp->snd_wnd = sg->win;
			tp->max_sndwnd = tp->snd_wnd;
			tp->snd_wl1 = sg->seq;
			tp->snd_wl2 = sg->ack;
			gale__tcp_init_cwnd(tp);
			gale__tcp_established(tp);
			/* The accept callback runs at unbusy. Payload riding on the ACK is left for
			 * the retransmit. */
			gale__tcp_busy(tp);
			gale__tcp_unbusy(tp);
			return;
		}
		if (s->conf.syncookies && !(sg->flags & RTE_TCP_SYN_FLAG))
			GALE__STAT(s, tcp_syncookie_bad);
		else
			GALE__STAT(s, tcp_drop_listen);
		gale__tcp_reset_unknown(s, sg);
		return;
	}
	if (!(sg->flags & RTE_TCP_SYN_FLAG)) {
		GALE__STAT(s, tcp_drop_listen);
		return;
	}
	GALE__STAT(s, tcp_syn_rx);
	if (l->nhalfopen >= l->backlog || s->free_conns == NULL) {
		if (!s->conf.syncookies) {
			GALE__STAT(s, tcp_backlog_drop);
			return;
		}
		uint32_t cookie =
		        gale__syncookie_make(s, sg->daddr, sg->dport, sg->saddr, sg->sport, sg->seq,
		                             (uint16_t)GALE__MIN(sg->has_mss ? sg->mss : 536u,
		                                                 (uint32_t)s->conf.mtu - 40u),
		                             &mss);
		gale__tcp_send_cookie_synack(s, sg->daddr, sg->dport, sg->saddr, sg->sport, cookie,
		                             sg->seq + 1, mss);
		return;
	}
	tp = gale__tcp_passive(s, l, sg);
	if (tp == NULL)
		return;
	gale__tcp_busy(tp);
	gale__tcp_syn_options(tp, sg);
	tp->iss = gale__tcp_isn(s, sg->daddr, sg->dport, sg->saddr, sg->sport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->snd_wnd = sg->win; /* a SYN's window is never scaled */
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = sg->seq;
	tp->snd_wl2 = 0;
	tp->state = GALE_TCPS_SYN_RECEIVED;
	tp->halfopen = true;
	l->nhalfopen++;
	gale__tcp_output(tp);
	gale__tcp_unbusy(tp);
}

/* RFC 6191-style TIME_WAIT assassination guard: may a new SYN reuse this TIME_WAIT block? */
static bool
gale__tcp_tw_acceptable(const struct gale_tcp_conn *tp, const struct gale__seg *sg)
{
	if ((tp->t_flags & GALE_TF_RCVD_TSTMP) && sg->has_ts)
		return GALE_TSTMP_LT(tp->ts_recent, sg->tsval);
	return GALE_SEQ_GT(sg->seq, tp->rcv_nxt);
}

/* SYN_SENT (RFC 9293 3.10.7.3). */
static void
gale__tcp_syn_sent(struct gale_tcp_conn *tp, struct gale__seg *sg)
{
	struct gale_stack *s = tp->stack;

	if (sg->flags & RTE_TCP_ACK_FLAG) {
		if (GALE_SEQ_LEQ(sg->ack, tp->iss) || GALE_SEQ_GT(sg->ack, tp->snd_max)) {
			GALE__STAT(s, tcp_drop_badack);
			if (!(sg->flags & RTE_TCP_RST_FLAG))
				gale__tcp_respond(s, tp->laddr, tp->lport, tp->faddr, tp->fport,
				                  sg->ack, 0, RTE_TCP_RST_FLAG);
			return;
		}
	}
	if (sg->flags & RTE_TCP_RST_FLAG) {
		if (sg->flags & RTE_TCP_ACK_FLAG) {
			GALE__STAT(s, tcp_conn_refused);
			GALE__STAT(s, tcp_rst_rx);
			gale__tcp_drop(tp, -ECONNREFUSED);
		} else {
			GALE__STAT(s, tcp_rst_ignored);
		}
		return;
	}
	if (!(sg->flags & RTE_TCP_SYN_FLAG)) {
		GALE__STAT(s, tcp_drop_flags);
		return;
	}
	tp->irs = sg->seq;
	tp->rcv_nxt = sg->seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	gale__tcp_syn_options(tp, sg);
	if (sg->flags & RTE_TCP_ACK_FLAG) {
		tp->snd_una = sg->ack;
		if (GALE_SEQ_LT(tp->snd_nxt, tp->snd_una))
			tp->snd_nxt = tp->snd_una;
		tp->snd_wnd = (uint32_t)sg->win << tp->snd_scale;
		tp->max_sndwnd = tp->snd_wnd;
		tp->snd_wl1 = sg->seq;
		tp->snd_wl2 = sg->ack;
		if (tp->rtt_active && !(tp->t_flags & GALE_TF_SYN_REXMT))
			gale__tcp_rtt_update(tp, (uint32_t)(gale__now_us(s) - tp->rtt_start_us));
		tp->rtt_active = false;
		tp->rxtshift = 0;
		gale__tcp_rexmt_stop(tp);
		gale__tcp_init_cwnd(tp);
		gale__tcp_established(tp);
		gale__tcp_event(tp, GALE__EV_CONNECTED);
		/* Data on a SYN-ACK (no TFO here) is not accepted: the ACK leaves it for the
		 * retransmission. */
		tp->t_flags |= GALE_TF_ACKNOW;
		gale__tcp_output(tp);
	} else {
		/* Simultaneous open: SYN-ACK from SYN_RECEIVED, same ISS. */
		tp->state = GALE_TCPS_SYN_RECEIVED;
		tp->snd_wnd = sg->win;
		tp->snd_wl1 = sg->seq;
		tp->snd_nxt = tp->iss;
		gale__tcp_output(tp);
	}
}

/* A new ACK (snd_una < ack <= snd_max) outside or inside recovery. */
static void
gale__tcp_new_ack(struct gale_tcp_conn *tp, const struct gale__seg *sg, uint32_t acked)
{
	struct gale_stack *s = tp->stack;
	uint32_t data = acked;
	bool fin_acked = false;

	if ((tp->t_flags & GALE_TF_SENTFIN) && sg->ack == tp->snd_max) {
		fin_acked = true;
		data--;
	}
	if (tp->rtt_active && GALE_SEQ_GT(sg->ack, tp->rtseq)) {
		tp->rtt_active = false;
		gale__tcp_rtt_update(tp, (uint32_t)(gale__now_us(s) - tp->rtt_start_us));
	}
	if (tp->t_flags & GALE_TF_RTO_UNDO) {
		tp->t_flags &= ~GALE_TF_RTO_UNDO;
		/* RFC 3522: the first ACK after a timeout echoes a TSval older than the
		 * retransmission's, so the original arrived: the timeout was spurious. RFC 4015:
		 * give cwnd and ssthresh back and go on with new data (snd_nxt to snd_max) instead
		 * of sending again, from one segment, what the peer has. */
		if (sg->has_ts && GALE_TSTMP_LT(sg->tsecr, tp->undo_tsval)) {
			GALE__STAT(s, tcp_rto_spurious);
			tp->snd_cwnd = GALE__MAX(tp->snd_cwnd, tp->undo_cwnd);
			tp->snd_ssthresh = GALE__MAX(tp->snd_ssthresh, tp->undo_ssthresh);
			tp->snd_nxt = tp->snd_max;
			tp->snd_recover = sg->ack; /* a loss from here on is a new one */
		}
	}
	gale__tcp_snd_drop(tp, GALE__MIN(data, tp->snd_cc));
	tp->snd_una = sg->ack;
	if (GALE_SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	if (GALE_SEQ_LT(tp->sack_rexmit_nxt, tp->snd_una))
		tp->sack_rexmit_nxt = tp->snd_una;
	tp->rxtshift = 0;
	if ((tp->t_flags & GALE_TF_TLP) && GALE_SEQ_GEQ(sg->ack, tp->tlp_high))
		tp->t_flags &= ~GALE_TF_TLP; /* the probe's episode is over */

	if (tp->t_flags & GALE_TF_FASTRECOV) {
		if (GALE_SEQ_GEQ(sg->ack, tp->snd_recover)) {
			/* Full ACK (RFC 6582 3.2 step 3): deflate. */
			uint32_t flight = tp->snd_max - tp->snd_una;

			tp->snd_cwnd =
			        GALE__MIN(tp->snd_ssthresh,
			                  GALE__MAX(flight, (uint32_t)tp->t_maxseg) + tp->t_maxseg);
			tp->t_flags &= ~(GALE_TF_FASTRECOV | GALE_TF_SACK_REXMT);
			tp->dupacks = 0;
		} else if (!(tp->t_flags & GALE_TF_SACK_REXMT)) {
			/* Partial ACK (RFC 6582 3.2 step 4): retransmit the next hole, deflate by
			 * the amount acked. */
			uint32_t saved = tp->snd_nxt;

			tp->snd_nxt = tp->snd_una;
			tp->snd_cwnd = tp->t_maxseg;
			gale__tcp_output(tp);
			tp->snd_nxt = GALE_SEQ_MAX(saved, tp->snd_nxt);
			tp->snd_cwnd = tp->snd_ssthresh + tp->t_maxseg;
			if (tp->snd_cwnd > data)
				tp->snd_cwnd -= GALE__MIN(data, tp->snd_cwnd - tp->t_maxseg);
			gale__tcp_rexmt_arm(tp);
		}
	} else {
		tp->dupacks = 0;
		gale__cc_ack_received(tp, data);
	}
	if (tp->snd_una == tp->snd_max)
		gale__tcp_rexmt_stop(tp);
	else if (!(tp->t_flags & GALE_TF_PERSIST))
		gale__tcp_rexmt_arm(tp);

	if ((tp->t_flags & GALE_TF_WANT_WRITE) && tp->snd_cc < s->conf.sndbuf) {
		tp->t_flags &= ~GALE_TF_WANT_WRITE;
		gale__tcp_event(tp, GALE__EV_WRITABLE);
	}
	if (!fin_acked)
		return;
	switch (tp->state) {
	case GALE_TCPS_FIN_WAIT_1:
		tp->state = GALE_TCPS_FIN_WAIT_2;
		/* An orphan must not wait forever for the peer's FIN. */
		if (tp->t_flags & GALE_TF_APP_CLOSED)
			gale_timer_arm(s->conf.wheel, &tp->t_2msl,
			               gale__now_us(s) + 2ull * s->conf.msl_us);
		break;
	case GALE_TCPS_CLOSING:
		gale__tcp_enter_timewait(tp);
		break;
	case GALE_TCPS_LAST_ACK:
		gale__tcp_close(tp);
		break;
	default:
		break;
	}
}

/*
 * The duplicate ACKs that signal a loss: 3, or fewer when fewer than four segments are out and no
 * new data can go to make more (RFC 5827 early retransmit: oseg - 1, at least 1). Without it a
 * short flight that loses its first segment (an echo or RPC exchange, the tail of a burst) can
 * only wait for the retransmission timer.
 */
static uint32_t
gale__tcp_dupthresh(const struct gale_tcp_conn *tp)
{
	uint32_t flight = tp->snd_max - tp->snd_una, mss = tp->t_maxseg, oseg;
	uint32_t unsent = tp->snd_cc > flight ? tp->snd_cc - flight : 0;

	if (unsent > 0 && GALE__MIN(tp->snd_wnd, tp->snd_cwnd) > flight)
		return 3;
	oseg = (flight + mss - 1) / mss;
	return oseg >= 4 ? 3 : GALE__MAX(oseg, 2u) - 1;
}

/* Loss detected: fast retransmit of snd_una, then NewReno or SACK recovery (RFC 6582, RFC 6675). */
void
gale__tcp_enter_recovery(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;
	bool sack = (tp->t_flags & GALE_TF_SACK_PERMIT) != 0;
	uint32_t saved;

	GALE__STAT(s, tcp_fast_rexmt);
	gale__cc_cong_signal(tp);
	tp->snd_recover = tp->snd_max;
	tp->t_flags |= GALE_TF_FASTRECOV;
	tp->t_flags &= ~GALE_TF_TLP;
	tp->rtt_active = false;
	/* Retransmit the first unacknowledged segment now. */
	saved = tp->snd_nxt;
	tp->snd_nxt = tp->snd_una;
	tp->snd_cwnd = tp->t_maxseg;
	gale__tcp_output(tp);
	tp->snd_nxt = GALE_SEQ_MAX(saved, tp->snd_nxt);
	if (sack) {
		GALE__STAT(s, tcp_sack_recovery);
		tp->t_flags |= GALE_TF_SACK_REXMT;
		tp->sack_rexmit_nxt = tp->snd_una + tp->t_maxseg;
		tp->snd_cwnd = tp->snd_ssthresh;
	} else {
		GALE__STAT(s, tcp_fast_recovery);
		tp->snd_cwnd = tp->snd_ssthresh + 3u * tp->t_maxseg;
	}
	gale__tcp_rexmt_arm(tp);
	gale__tcp_output(tp);
}

/* Duplicate ACK: fast retransmit on the third (or when SACK shows loss), then recovery. */
static void
gale__tcp_dup_ack(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;
	bool sack = (tp->t_flags & GALE_TF_SACK_PERMIT) != 0;
	uint32_t thresh;

	GALE__STAT(s, tcp_dupack_rx);
	tp->dupacks++;
	if (tp->t_flags & GALE_TF_FASTRECOV) {
		if (!(tp->t_flags & GALE_TF_SACK_REXMT))
			tp->snd_cwnd += tp->t_maxseg; /* RFC 6582 3.2 step 3: inflate */
		gale__tcp_output(tp);
		return;
	}
	thresh = gale__tcp_dupthresh(tp);
	/* Early retransmit on SACK evidence only when SACK is on: one duplicated or reordered ACK
	 * must not be enough. */
	if ((sack && thresh < 3 ? true : tp->dupacks < thresh) &&
	    !(sack && gale__tcp_sacked_bytes(tp) > (thresh - 1u) * tp->t_maxseg))
		return;
	if (thresh < 3)
		GALE__STAT(s, tcp_early_rexmt);
	/* RFC 6582 3.2 step 2: do not enter recovery twice for one window. */
	if (GALE_SEQ_LEQ(tp->snd_una, tp->snd_recover) && tp->snd_recover != tp->iss &&
	    tp->t_rexmits > 0 && GALE_SEQ_LT(tp->snd_una, tp->snd_recover))
		return;
	gale__tcp_enter_recovery(tp);
}

/*
 * Owe an ACK until the end of the receive burst (gale_stack_input): an echo or RPC reply written by
 * the readable callback carries it, and a burst of in-order segments gets one ACK (as Linux ACKs a
 * GRO aggregate once; a stretch ACK of at most a burst, 32 frames in gale's workers), instead of a
 * pure ACK per segment followed by the reply. Over net_tap, where every frame is a system call,
 * that was about 40% of the frames an echo server sent. No timer and no added latency: the ACK
 * leaves in the same poll iteration. With conf.ack_at_flush the owed ACKs wait for
 * gale_stack_ack_flush, for owners (the runtime) that read and answer after the whole input.
 */
static void
gale__tcp_ack_defer(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;

	if (s->nackpend == GALE__ACKPEND_MAX) {
		tp->t_flags |= GALE_TF_ACKNOW;
		return;
	}
	tp->t_flags |= GALE_TF_ACKPEND;
	s->ackpend[s->nackpend++] = tp;
}

/* The end of a receive burst: send the ACKs still owed (a block closed meanwhile owes none). */
void
gale__tcp_ack_flush(struct gale_stack *s)
{
	struct gale_tcp_conn *tp;
	unsigned int i;

	for (i = 0; i < s->nackpend; i++) {
		tp = s->ackpend[i];
		if (!(tp->t_flags & GALE_TF_ACKPEND) || tp->state == GALE_TCPS_CLOSED)
			continue;
		tp->t_flags &= ~GALE_TF_ACKPEND;
		gale__tcp_busy(tp);
		gale__tcp_ack_now(tp);
		gale__tcp_unbusy(tp);
	}
	s->nackpend = 0;
}

/* Our FIN arrived in sequence (RFC 9293 3.10.7.4 eighth). */
static void
gale__tcp_fin_rcvd(struct gale_tcp_conn *tp)
{
	tp->rcv_nxt++;
	tp->t_flags |= GALE_TF_RCVD_FIN | GALE_TF_ACKNOW;
	gale__tcp_event(tp, GALE__EV_READABLE);
	switch (tp->state) {
	case GALE_TCPS_SYN_RECEIVED:
	case GALE_TCPS_ESTABLISHED:
		tp->state = GALE_TCPS_CLOSE_WAIT;
		break;
	case GALE_TCPS_FIN_WAIT_1:
		tp->state = GALE_TCPS_CLOSING;
		break;
	case GALE_TCPS_FIN_WAIT_2:
		gale_timer_cancel(tp->stack->conf.wheel, &tp->t_2msl);
		gale__tcp_output(tp);
		gale__tcp_enter_timewait(tp);
		break;
	default:
		break;
	}
}

/* Segment for a connection in any state but LISTEN and SYN_SENT. Consumes m. */
static void
gale__tcp_do_segment(struct gale_tcp_conn *tp, struct gale__seg *sg, struct rte_mbuf *m)
{
	struct gale_stack *s = tp->stack;
	uint32_t rcv_wnd, seglen, cut, acked, tiwin, sacked;
	uint64_t now = gale__now_us(s);
	bool fin = (sg->flags & RTE_TCP_FIN_FLAG) != 0, acceptable;

	tp->last_rx_us = now;
	tp->keep_probes = 0;

	/* RFC 7323 5.3 PAWS. */
	if ((tp->t_flags & GALE_TF_RCVD_TSTMP) && sg->has_ts && !(sg->flags & RTE_TCP_RST_FLAG) &&
	    GALE_TSTMP_LT(sg->tsval, tp->ts_recent)) {
		if (now - tp->ts_recent_age_us > GALE__PAWS_IDLE_US) {
			tp->ts_recent = 0; /* idle too long: the old value is meaningless */
		} else {
			GALE__STAT(s, tcp_drop_paws);
			gale__tcp_ack_now(tp);
			goto drop;
		}
	}

	/* RFC 9293 3.10.7.4 first: sequence acceptability. */
	rcv_wnd = GALE_SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	rcv_wnd = GALE__MAX(rcv_wnd, gale__tcp_rcv_space(tp));
	seglen = sg->len + ((sg->flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + (fin ? 1 : 0);
	if (seglen == 0)
		acceptable = rcv_wnd == 0 ? sg->seq == tp->rcv_nxt
		                          : (GALE_SEQ_LEQ(tp->rcv_nxt, sg->seq) &&
		                             GALE_SEQ_LT(sg->seq, tp->rcv_nxt + rcv_wnd));
	else
		acceptable = rcv_wnd != 0 &&
		             ((GALE_SEQ_LEQ(tp->rcv_nxt, sg->seq) &&
		               GALE_SEQ_LT(sg->seq, tp->rcv_nxt + rcv_wnd)) ||
		              (GALE_SEQ_LEQ(tp->rcv_nxt, sg->seq + seglen - 1) &&
		               GALE_SEQ_LT(sg->seq + seglen - 1, tp->rcv_nxt + rcv_wnd)));
	/* A zero window still takes ACKs and control (RFC 9293: "not acceptable, but process ACK,
	 * URG, RST"). */
	if (!acceptable && rcv_wnd == 0 && sg->seq == tp->rcv_nxt &&
	    !(sg->flags & RTE_TCP_SYN_FLAG))
		acceptable = true;
	if (!acceptable) {
		if (sg->flags & RTE_TCP_RST_FLAG) {
			GALE__STAT(s, tcp_rst_ignored);
			goto drop;
		}
		if (GALE_SEQ_LEQ(sg->seq + seglen, tp->rcv_nxt))
			GALE__STAT(s, tcp_dup_seg);
		else
			GALE__STAT(s, tcp_drop_out_of_window);
		if (tp->state == GALE_TCPS_TIME_WAIT && fin)
			gale_timer_arm(s->conf.wheel, &tp->t_2msl, now + 2ull * s->conf.msl_us);
		gale__tcp_ack_now(tp);
		goto drop;
	}

	/* second: RST (RFC 5961 3.2). */
	if (sg->flags & RTE_TCP_RST_FLAG) {
		if (sg->seq != tp->rcv_nxt) {
			gale__tcp_challenge_ack(tp);
			goto drop;
		}
		if (tp->state == GALE_TCPS_TIME_WAIT) {
			/* RFC 1337: TIME_WAIT is not assassinated by RST. */
			GALE__STAT(s, tcp_rst_ignored);
			goto drop;
		}
		GALE__STAT(s, tcp_rst_rx);
		if (tp->state & (GALE_TCPS_CLOSING | GALE_TCPS_LAST_ACK)) {
			gale__tcp_close(tp);
		} else {
			GALE__STAT(s, tcp_conn_reset);
			gale__tcp_drop(tp,
			               tp->state == GALE_TCPS_SYN_RECEIVED && tp->listen_port == 0
			                       ? -ECONNREFUSED
			                       : -ECONNRESET);
		}
		goto drop;
	}

	/* fourth: SYN in a synchronized state (RFC 5961 4.2): challenge ACK. */
	if (sg->flags & RTE_TCP_SYN_FLAG) {
		if (tp->state == GALE_TCPS_SYN_RECEIVED && sg->seq == tp->irs) {
			/* Our SYN-ACK was lost: the retransmission timer resends it. */
			GALE__STAT(s, tcp_dup_seg);
			goto drop;
		}
		gale__tcp_challenge_ack(tp);
		goto drop;
	}

	/* fifth: ACK. */
	if (!(sg->flags & RTE_TCP_ACK_FLAG)) {
		GALE__STAT(s, tcp_drop_flags);
		goto drop;
	}
	if (tp->state == GALE_TCPS_SYN_RECEIVED) {
		if (GALE_SEQ_LEQ(sg->ack, tp->snd_una) || GALE_SEQ_GT(sg->ack, tp->snd_max)) {
			GALE__STAT(s, tcp_drop_badack);
			gale__tcp_respond(s, tp->laddr, tp->lport, tp->faddr, tp->fport, sg->ack, 0,
			                  RTE_TCP_RST_FLAG);
			goto drop;
		}
		if (tp->rtt_active && !(tp->t_flags & GALE_TF_SYN_REXMT))
			gale__tcp_rtt_update(tp, (uint32_t)(now - tp->rtt_start_us));
		tp->rtt_active = false;
		tp->snd_una = tp->iss + 1;
		tp->snd_wnd = (uint32_t)sg->win << tp->snd_scale;
		tp->max_sndwnd = tp->snd_wnd;
		tp->snd_wl1 = sg->seq;
		tp->snd_wl2 = sg->ack;
		tp->rxtshift = 0;
		gale__tcp_rexmt_stop(tp);
		gale__tcp_init_cwnd(tp);
		if (tp->listen_port == 0)
			gale__tcp_event(tp, GALE__EV_CONNECTED); /* simultaneous open completed */
		if (tp->t_flags & GALE_TF_SHUT_WR) {
			tp->state = GALE_TCPS_ESTABLISHED;
			gale__tcp_established(tp);
			tp->state = GALE_TCPS_FIN_WAIT_1;
		} else {
			gale__tcp_established(tp);
		}
	}
	/* RFC 5961 5.2: ACK must be in [snd_una - max_sndwnd, snd_max]. */
	if (GALE_SEQ_GT(sg->ack, tp->snd_max)) {
		GALE__STAT(s, tcp_drop_badack);
		gale__tcp_challenge_ack(tp);
		goto drop;
	}
	if (GALE_SEQ_LT(sg->ack, tp->snd_una - tp->max_sndwnd)) {
		GALE__STAT(s, tcp_drop_badack);
		gale__tcp_challenge_ack(tp);
		goto drop;
	}
	/* RFC 7323 4.3: record the timestamp to echo. */
	if ((tp->t_flags & GALE_TF_RCVD_TSTMP) && sg->has_ts &&
	    GALE_SEQ_LEQ(sg->seq, tp->last_ack_sent) && GALE_TSTMP_GEQ(sg->tsval, tp->ts_recent)) {
		tp->ts_recent = sg->tsval;
		tp->ts_recent_age_us = now;
	}
	sacked = gale__tcp_sacked_bytes(tp);
	if ((tp->t_flags & GALE_TF_SACK_PERMIT) && sg->nsack > 0) {
		GALE__STAT_ADD(s, tcp_sack_blocks_rx, sg->nsack);
		gale__tcp_sack_rcvd(tp, sg->sack, sg->nsack);
	} else if (tp->nsackblks > 0) {
		gale__tcp_sack_rcvd(tp, NULL, 0);
	}
	tiwin = (uint32_t)sg->win << tp->snd_scale;
	if (GALE_SEQ_GT(sg->ack, tp->snd_una)) {
		acked = sg->ack - tp->snd_una;
		gale__tcp_new_ack(tp, sg, acked);
		if (tp->state == GALE_TCPS_CLOSED)
			goto drop;
	} else if (sg->ack == tp->snd_una && tp->snd_max != tp->snd_una &&
	           !(tp->t_flags & GALE_TF_PERSIST) &&
	           ((sg->len == 0 && !fin && tiwin == tp->snd_wnd && tiwin != 0) ||
	            gale__tcp_sacked_bytes(tp) > sacked)) {
		/* A duplicate ACK (RFC 5681), or one that SACKs bytes not SACKed before, data on
		 * it or not (RFC 6675 2 "DupAck": a peer with data of its own to send piggybacks
		 * its ACKs, and its losses must still be seen). (Answers to zero-window probes are
		 * not duplicate ACKs: nothing was lost.) */
		gale__tcp_dup_ack(tp);
	} else if (sg->ack == tp->snd_una && sg->len == 0 && tiwin == tp->snd_wnd) {
		tp->dupacks = 0;
	}
	/* RFC 8985 7.4: the tail loss probe is SACKed while bytes below it are not. They went a
	 * probe timeout (two round trips) before it, so they are lost by RACK's rule: recover now
	 * instead of waiting for the retransmission timer. */
	if ((tp->t_flags & (GALE_TF_TLP | GALE_TF_FASTRECOV)) == GALE_TF_TLP && tp->nsackblks > 0 &&
	    GALE_SEQ_GEQ(tp->sackblks[tp->nsackblks - 1].end, tp->tlp_high)) {
		GALE__STAT(s, tcp_tlp_recovery);
		gale__tcp_enter_recovery(tp);
	}
	/* sixth: window update (RFC 9293 3.10.7.4, SND.WL1 / SND.WL2). */
	if (GALE_SEQ_LT(tp->snd_wl1, sg->seq) ||
	    (tp->snd_wl1 == sg->seq && GALE_SEQ_LEQ(tp->snd_wl2, sg->ack))) {
		bool opened = tp->snd_wnd == 0 && tiwin > 0;

		tp->snd_wnd = tiwin;
		tp->snd_wl1 = sg->seq;
		tp->snd_wl2 = sg->ack;
		if (tiwin > tp->max_sndwnd)
			tp->max_sndwnd = tiwin;
		if (opened && (tp->t_flags & GALE_TF_PERSIST)) {
			gale__tcp_rexmt_stop(tp);
			tp->rxtshift = 0;
			tp->snd_nxt = tp->snd_una;
		}
	}

	/* seventh: data. */
	if (sg->len > 0 || fin) {
		if (!(tp->state & GALE_TCPS_CAN_RCV_DATA)) {
			/* After the peer's FIN: ignore (RFC 9293); in TIME_WAIT a retransmitted FIN
			 * restarts 2MSL. */
			if (tp->state == GALE_TCPS_TIME_WAIT && fin) {
				gale_timer_arm(s->conf.wheel, &tp->t_2msl,
				               now + 2ull * s->conf.msl_us);
				gale__tcp_ack_now(tp);
			}
			goto drop;
		}
		if ((tp->t_flags & GALE_TF_APP_CLOSED) && sg->len > 0) {
			/* Nobody will read it (RFC 1122 4.2.2.13; as Linux): reset. */
			GALE__STAT(s, tcp_drop_after_close);
			gale__tcp_drop(tp, 0);
			goto drop;
		}
		GALE__STAT(s, tcp_seg_data_rx);
		/* Trim to the window: what precedes rcv_nxt, what passes rcv_nxt + window. */
		if (GALE_SEQ_LT(sg->seq, tp->rcv_nxt)) {
			cut = tp->rcv_nxt - sg->seq;
			if (cut >= sg->len) {
				cut = sg->len;
			}
			m = gale__mbuf_adj(m, cut);
			sg->len -= cut;
			sg->seq += cut;
		}
		if (GALE_SEQ_GT(sg->seq + sg->len, tp->rcv_nxt + rcv_wnd)) {
			cut = sg->seq + sg->len - (tp->rcv_nxt + rcv_wnd);
			sg->len -= GALE__MIN(cut, sg->len);
			fin = false;
			if (m != NULL)
				gale__mbuf_trim(m, sg->len);
			GALE__STAT(s, tcp_drop_out_of_window);
			tp->t_flags |= GALE_TF_ACKNOW;
		}
		if (sg->seq == tp->rcv_nxt) {
			if (sg->len > 0) {
				tp->rcv_nxt += sg->len;
				GALE__STAT_ADD(s, tcp_bytes_rx, sg->len);
				gale__tcp_rcv_append(tp, m, sg->len);
				m = NULL;
				gale__tcp_event(tp, GALE__EV_READABLE);
			}
			if (tp->reass_n > 0) {
				/* Filling a hole: ACK at once (RFC 5681 4.2). */
				if (gale__tcp_reass_pull(tp))
					fin = true;
				tp->t_flags |= GALE_TF_ACKNOW;
			} else if (fin || (tp->t_flags & GALE_TF_DELACK)) {
				/* Quick ACK: a FIN, or the second segment not yet ACKed (RFC 5681
				 * 4.2). */
				tp->t_flags |= GALE_TF_ACKNOW;
			} else if (s->conf.delack_us == 0) {
				/* No delayed ACKs: one ACK at the end of this receive burst, on the
				 * reply the application sends meanwhile if it sends one. */
				if (!(tp->t_flags & GALE_TF_ACKPEND))
					gale__tcp_ack_defer(tp);
			} else {
				tp->t_flags |= GALE_TF_DELACK;
				gale__tcp_delack_arm(tp);
			}
			if (fin)
				gale__tcp_fin_rcvd(tp);
		} else {
			/* Out of order: hold it, ACK at once with SACK (a duplicate ACK for the
			 * sender). */
			if (sg->len > 0 || fin) {
				gale__tcp_reass(tp, sg->seq, m, sg->len, fin);
				m = NULL;
			}
			tp->t_flags |= GALE_TF_ACKNOW;
		}
	}
drop:
	rte_pktmbuf_free(m);
	if (tp->state != GALE_TCPS_CLOSED)
		gale__tcp_output(tp);
}

/* Consumes m: a TCP segment for our address. */
void
gale__tcp_input(struct gale_stack *s, struct rte_mbuf *m, uint16_t l3_off)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l3_off);
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t tlen = rte_be_to_cpu_16(ip->total_length) - ihl, thlen;
	struct rte_tcp_hdr *th;
	struct gale_tcp_conn *tp;
	struct gale__listener *l;
	struct gale__seg sg;
	uint64_t ck;
	uint8_t f;

	GALE__STAT(s, tcp_rx);
	if (unlikely(tlen < sizeof(*th) || rte_pktmbuf_data_len(m) < l3_off + ihl + sizeof(*th))) {
		GALE__STAT(s, tcp_drop_short);
		goto drop;
	}
	th = (struct rte_tcp_hdr *)((uint8_t *)ip + ihl);
	thlen = (uint32_t)(th->data_off >> 4) * 4;
	if (unlikely(thlen < sizeof(*th) || thlen > tlen ||
	             rte_pktmbuf_data_len(m) < l3_off + ihl + thlen)) {
		GALE__STAT(s, tcp_drop_short);
		goto drop;
	}
	ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (unlikely(ck == RTE_MBUF_F_RX_L4_CKSUM_BAD)) {
		GALE__STAT(s, tcp_drop_cksum);
		goto drop;
	}
	if (ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		uint16_t sum = 0;
		uint32_t raw;

		if (gale_cksum_chain(m, l3_off + ihl, tlen, &sum) != 0) {
			GALE__STAT(s, tcp_drop_short);
			goto drop;
		}
		raw = (uint32_t)sum + rte_ipv4_phdr_cksum(ip, 0);
		raw = (raw & 0xffff) + (raw >> 16);
		raw = (raw & 0xffff) + (raw >> 16);
		sum = (uint16_t)raw;
		if (unlikely(sum != 0xffff)) {
			GALE__STAT(s, tcp_drop_cksum);
			goto drop;
		}
	}
	f = th->tcp_flags;
	if (unlikely((f & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) ==
	                     (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG) ||
	             (f & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)) ==
	                     (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG) ||
	             (f & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG |
	                   RTE_TCP_FIN_FLAG)) == 0 ||
	             ((f & RTE_TCP_FIN_FLAG) && !(f & RTE_TCP_ACK_FLAG)))) {
		GALE__STAT(s, tcp_drop_flags);
		goto drop;
	}
	memset(&sg, 0, sizeof(sg));
	sg.flags = f;
	sg.seq = rte_be_to_cpu_32(th->sent_seq);
	sg.ack = rte_be_to_cpu_32(th->recv_ack);
	sg.win = rte_be_to_cpu_16(th->rx_win);
	sg.len = tlen - thlen;
	sg.saddr = rte_be_to_cpu_32(ip->src_addr);
	sg.daddr = rte_be_to_cpu_32(ip->dst_addr);
	sg.sport = rte_be_to_cpu_16(th->src_port);
	sg.dport = rte_be_to_cpu_16(th->dst_port);
	if (thlen > sizeof(*th))
		gale__tcp_parse_opts((const uint8_t *)(th + 1), thlen - sizeof(*th), &sg,
		                     (f & RTE_TCP_SYN_FLAG) != 0);
	if (unlikely(sg.sport == 0 || sg.dport == 0)) {
		GALE__STAT(s, tcp_drop_noport);
		goto drop;
	}
	/* Headers go: from here m is the payload. */
	m = gale__mbuf_adj(m, l3_off + ihl + thlen);
	if (m != NULL && m->pkt_len == 0) {
		rte_pktmbuf_free(m);
		m = NULL;
	}

	tp = gale__tcp_lookup(s, sg.daddr, sg.dport, sg.saddr, sg.sport);
	if (tp != NULL && tp->state == GALE_TCPS_TIME_WAIT && (f & RTE_TCP_SYN_FLAG) &&
	    !(f & RTE_TCP_ACK_FLAG) && gale__tcp_listener(s, sg.dport) != NULL &&
	    gale__tcp_tw_acceptable(tp, &sg)) {
		/* RFC 9293 3.10.7.4 / RFC 6191: a new incarnation may take over a TIME_WAIT
		 * 4-tuple. */
		GALE__STAT(s, tcp_timewait_reuse);
		gale__tcp_busy(tp);
		gale__tcp_close(tp);
		gale__tcp_unbusy(tp);
		tp = NULL;
	}
	if (tp == NULL) {
		l = gale__tcp_listener(s, sg.dport);
		if (l != NULL) {
			gale__tcp_listen_input(s, l, &sg);
		} else {
			GALE__STAT(s, tcp_drop_noport);
			gale__tcp_reset_unknown(s, &sg);
		}
		rte_pktmbuf_free(m);
		return;
	}
	gale__tcp_busy(tp);
	if (tp->state == GALE_TCPS_SYN_SENT) {
		gale__tcp_syn_sent(tp, &sg);
		rte_pktmbuf_free(m);
	} else {
		gale__tcp_do_segment(tp, &sg, m);
	}
	gale__tcp_unbusy(tp);
	return;
drop:
	rte_pktmbuf_free(m);
}
