/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Congestion control, pluggable by conf.cc: NewReno (RFC 5681 slow start and congestion avoidance,
 * RFC 6582 fast recovery lives in tcp_input.c) and CUBIC (RFC 8312: W_cubic(t) = C (t - K)^3 +
 * W_max with C = 0.4, beta = 0.7, and the TCP-friendly region). Windows are in bytes; CUBIC's
 * arithmetic is in segments and milliseconds with integers (cube root by Newton's method) so the
 * data path never touches floating point.
 */
#include "tcp_var.h"

static uint32_t
gale__cbrt(uint64_t v)
{
	uint64_t x = 1, y;

	if (v == 0)
		return 0;
	/* Start above the root, then Newton steps down. */
	while (x * x * x < v)
		x <<= 1;
	for (;;) {
		y = (2 * x + v / (x * x)) / 3;
		if (y >= x)
			break;
		x = y;
	}
	return (uint32_t)x;
}

/* Bytes acked outside recovery. */
void
gale__cc_ack_received(struct gale_tcp_conn *tp, uint32_t acked)
{
	uint32_t mss = tp->t_maxseg, incr;
	uint64_t t_ms, target, w_est, dt;

	if (tp->snd_cwnd < tp->snd_ssthresh) {
		/* Slow start with appropriate byte counting, L = 2 SMSS (RFC 3465). */
		tp->snd_cwnd += GALE__MIN(acked, 2u * mss);
		return;
	}
	if (tp->stack->conf.cc == GALE_TCP_CC_CUBIC) {
		uint64_t now = gale__now_us(tp->stack);

		if (tp->cubic_epoch_us == 0) {
			tp->cubic_epoch_us = now;
			if (tp->cubic_wmax < tp->snd_cwnd)
				tp->cubic_wmax = tp->snd_cwnd;
			/* K = cbrt((W_max - cwnd) / C) s; in ms with W in segments: cbrt((W_max -
			 * cwnd) 2.5e9). */
			tp->cubic_k_ms =
			        gale__cbrt((uint64_t)(tp->cubic_wmax -
			                              GALE__MIN(tp->cubic_wmax, tp->snd_cwnd)) *
			                   2500000000ull / mss);
		}
		t_ms = (now - tp->cubic_epoch_us) / 1000u + (tp->srtt_us / 1000u);
		dt = t_ms > tp->cubic_k_ms ? t_ms - tp->cubic_k_ms : tp->cubic_k_ms - t_ms;
		/* C (t - K)^3 in segments: 0.4 * dt^3 / 1e9 */
		target = dt * dt / 1000u * dt / 1000u * 4u / 10000u * mss;
		if (t_ms > tp->cubic_k_ms)
			target = tp->cubic_wmax + target;
		else
			target = tp->cubic_wmax > target ? tp->cubic_wmax - target : mss;
		/* TCP-friendly estimate (RFC 8312 4.2): W_est grows by 3 (1-beta)/(1+beta) ~ 0.53
		 * MSS per RTT. */
		w_est = (uint64_t)tp->cubic_wmax * 7 / 10 +
		        (tp->srtt_us > 0 ? (now - tp->cubic_epoch_us) / tp->srtt_us * mss * 53 / 100
		                         : 0);
		if (w_est > target)
			target = w_est;
		if (target > tp->snd_cwnd) {
			incr = (uint32_t)GALE__MIN((target - tp->snd_cwnd) * mss / tp->snd_cwnd,
			                           (uint64_t)mss);
			tp->snd_cwnd += GALE__MAX(incr, 1u);
		} else {
			tp->snd_cwnd += GALE__MAX(mss * mss / (100u * tp->snd_cwnd), 1u);
		}
		return;
	}
	/* Congestion avoidance: about one MSS per RTT. */
	incr = (uint32_t)((uint64_t)mss * mss / tp->snd_cwnd);
	tp->snd_cwnd += GALE__MAX(incr, 1u);
}

/* Loss detected by duplicate ACKs or SACK: set ssthresh (cwnd is the caller's). */
void
gale__cc_cong_signal(struct gale_tcp_conn *tp)
{
	uint32_t flight = tp->snd_max - tp->snd_una, mss = tp->t_maxseg;

	if (tp->stack->conf.cc == GALE_TCP_CC_CUBIC) {
		/* Fast convergence (RFC 8312 4.6). */
		if (tp->snd_cwnd < tp->cubic_wmax)
			tp->cubic_wmax = (uint32_t)((uint64_t)tp->snd_cwnd * 17 / 20);
		else
			tp->cubic_wmax = tp->snd_cwnd;
		tp->cubic_epoch_us = 0;
		tp->snd_ssthresh = GALE__MAX((uint32_t)((uint64_t)tp->snd_cwnd * 7 / 10), 2u * mss);
		return;
	}
	tp->snd_ssthresh = GALE__MAX(flight / 2, 2u * mss);
}

void
gale__cc_after_idle_or_rto(struct gale_tcp_conn *tp)
{
	if (tp->stack->conf.cc == GALE_TCP_CC_CUBIC) {
		tp->cubic_wmax = tp->snd_cwnd;
		tp->cubic_epoch_us = 0;
	}
}
