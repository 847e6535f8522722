/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP behaviours by RFC, one test (at least) each: RFC 5961 challenge ACKs (RST and SYN), RFC 7323
 * PAWS and window scaling, RFC 2018 SACK blocks sent, out-of-order reassembly, RFC 6675 SACK-driven
 * retransmission (and RFC 6675 duplicate ACKs that carry data), RFC 5827 early retransmit, RFC 6582
 * NewReno fast retransmit and partial ACKs, zero-window probes (persist),
 * delayed and quick ACKs, keepalive, RFC 4987 SYN cookies, RFC 6528 ISNs, MSS clamping, window
 * trimming, illegal flags, checksums.
 */
#include <string.h>

#include "tcp_helper.h"

#define LPORT 80
#define PPORT 40000
#define PISN  1000000u

static uint32_t
snd_nxt(const struct gale_tcp_conn *c)
{
	struct gale_tcp_info info;

	gale_tcp_get_info(c, &info);
	return info.snd_nxt;
}

static void
peer_data(uint32_t seq, uint32_t ack, uint32_t len, uint32_t off)
{
	static uint8_t buf[2000];
	struct th_seg sg;
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = th_pattern(off + i);
	th_seg_init(&sg, PPORT, LPORT, seq, ack, TH_F_ACK);
	sg.data = buf;
	sg.len = len;
	th_input(&sg);
}

static void
test_rfc5961_challenge_ack_rst(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	/* In-window RST that is not exactly rcv_nxt: challenge ACK, connection unharmed. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1 + 100, 0, TH_F_RST);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_ACK);
	assert_int_equal(o.ack, PISN + 1);
	assert_int_equal(th_state(c), GALE_TCPS_ESTABLISHED);
	assert_int_equal(gale_stack_stats(th.s)->tcp_challenge_ack_tx, 1);
	/* Out-of-window RST: ignored silently. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1 + 10000000, 0, TH_F_RST);
	th_input(&sg);
	assert_false(th_pop(&o));
	assert_int_equal(gale_stack_stats(th.s)->tcp_rst_ignored, 1);
	assert_int_equal(th_state(c), GALE_TCPS_ESTABLISHED);
	gale_tcp_abort(c);
}

static void
test_rfc5961_challenge_ack_syn(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	/* A SYN on an established connection (any sequence number): challenge ACK (RFC 5961 4.2).
	 */
	th_seg_init(&sg, PPORT, LPORT, PISN + 50, 0, TH_F_SYN);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_ACK);
	assert_int_equal(o.ack, PISN + 1);
	assert_int_equal(th_state(c), GALE_TCPS_ESTABLISHED);
	/* An ACK for data never sent: challenge ACK, dropped (RFC 5961 5.2). */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, snd_nxt(c) + 100000, TH_F_ACK);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_ACK);
	assert_int_equal(gale_stack_stats(th.s)->tcp_challenge_ack_tx, 2);
	assert_int_equal(gale_stack_stats(th.s)->tcp_drop_badack, 1);
	gale_tcp_abort(c);
}

static void
test_rfc5961_challenge_ack_rate_limit(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	unsigned int i, acks = 0;
	struct th_out o;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.challenge_ack_limit = 5;
	th_stack_start();
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	for (i = 0; i < 20; i++) {
		th_seg_init(&sg, PPORT, LPORT, PISN + 10 + i, 0, TH_F_RST);
		th_input(&sg);
	}
	while (th_pop(&o))
		acks++;
	assert_int_equal(acks, 5);
	assert_int_equal(gale_stack_stats(th.s)->tcp_challenge_ack_limited, 15);
	gale_tcp_abort(c);
}

static void
test_rfc7323_paws(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	uint8_t d[10] = { 1 };
	uint32_t len;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, true, NULL); /* ts_recent = 1001 */
	/* Data with an older TSval: rejected, counted, ACKed; nothing delivered. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, snd_nxt(c), TH_F_ACK);
	sg.ts = true;
	sg.tsval = 900;
	sg.data = d;
	sg.len = 10;
	th_input(&sg);
	assert_int_equal(gale_stack_stats(th.s)->tcp_drop_paws, 1);
	assert_null(gale_tcp_recv_peek(c, &len));
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 1);
	assert_int_equal(o.tsecr, 1001);
	/* Same segment with a current TSval is taken, and its TSval is echoed. */
	sg.tsval = 1100;
	th_input(&sg);
	assert_non_null(gale_tcp_recv_peek(c, &len));
	assert_int_equal(len, 10);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 11);
	assert_int_equal(o.tsecr, 1100);
	gale_tcp_consume(c, len);
	gale_tcp_abort(c);
}

static void
test_rfc7323_window_scaling(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out sa, o;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.rcvbuf = 1 << 20;
	th_stack_start();
	c = th_passive_open(LPORT, PPORT, PISN, true, &sa);
	assert_int_equal(sa.ws, 5);      /* 1 MiB >> 5 fits 16 bits */
	assert_int_equal(sa.win, 65535); /* a SYN's window is never scaled */
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.rcv_wscale, 5);
	assert_int_equal(info.snd_wscale, 7);
	/* Peer window 100 << 7. */
	assert_int_equal(info.snd_wnd, 65535u << 7);
	gale_tcp_send(c, th_payload(10, 0));
	th_pop_tcp(&o);
	assert_int_equal(o.win, (1u << 20) >> 5);
	gale_tcp_abort(c);
}

static void
test_ooo_reassembly_and_sack_blocks(void **state)
{
	struct gale_tcp_conn *c;
	const struct rte_mbuf *rc;
	uint8_t out[4000];
	struct th_out o;
	uint32_t ack, len, i;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, true, NULL);
	ack = snd_nxt(c);
	/* Segments 2 and 4 of 4 arrive first (no timestamps on these: allowed, RFC 7323 3.2 says
	 * SHOULD). */
	peer_data(PISN + 1 + 1000, ack, 1000, 1000);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 1);
	assert_int_equal(o.nsack, 1);
	assert_int_equal(o.sack[0][0], PISN + 1001);
	assert_int_equal(o.sack[0][1], PISN + 2001);
	peer_data(PISN + 1 + 3000, ack, 1000, 3000);
	th_pop_tcp(&o);
	assert_int_equal(o.nsack, 2);
	/* Most recent block first (RFC 2018 4). */
	assert_int_equal(o.sack[0][0], PISN + 3001);
	assert_int_equal(o.sack[1][0], PISN + 1001);
	assert_null(gale_tcp_recv_peek(c, &len));
	/* A duplicate of a held segment changes nothing. */
	peer_data(PISN + 1 + 1000, ack, 1000, 1000);
	th_drain();
	/* Segment 1 fills the first hole: 2000 bytes in order, one SACK block left. */
	peer_data(PISN + 1, ack, 1000, 0);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 2001);
	assert_int_equal(o.nsack, 1);
	assert_int_equal(o.sack[0][0], PISN + 3001);
	rc = gale_tcp_recv_peek(c, &len);
	assert_int_equal(len, 2000);
	/* An overlapping segment covering 3: trimmed against what is held. */
	peer_data(PISN + 1 + 1500, ack, 1600, 1500);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 4001);
	assert_int_equal(o.nsack, 0);
	rc = gale_tcp_recv_peek(c, &len);
	assert_int_equal(len, 4000);
	assert_int_equal(rc->pkt_len, 4000);
	rte_pktmbuf_read(rc, 0, 4000, out);
	for (i = 0; i < 4000; i++)
		assert_int_equal(((const uint8_t *)rte_pktmbuf_read(rc, 0, 4000, out))[i],
		                 th_pattern(i));
	assert_true(gale_stack_stats(th.s)->tcp_ooo_seg >= 2);
	gale_tcp_consume(c, len);
	gale_tcp_abort(c);
}

/*
 * RFC 2018 blocks on data segments fit the MTU: while the receive side holds out-of-order data,
 * every segment carries SACK blocks, so a full segment carries fewer payload bytes (RFC 9293
 * 3.7.1: the MSS counts neither IP nor TCP options). A 1534-byte frame here was refused by net_tap
 * and wedged the transmit queue of the tcpecho_impair corrupt1 run.
 */
static void
test_sack_blocks_fit_mtu(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out o;
	uint32_t ack, total = 0, n = 0, expect;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, true, NULL);
	gale_tcp_get_info(c, &info);
	assert_true(info.ts);
	assert_true(info.sack);
	ack = snd_nxt(c);
	/* Two holes: the next segments carry two SACK blocks. */
	peer_data(PISN + 1 + 1000, ack, 1000, 1000);
	peer_data(PISN + 1 + 3000, ack, 1000, 3000);
	th_drain();
	assert_int_equal(gale_tcp_send(c, th_payload(4 * info.mss, 0)), 0);
	while (th_pop(&o)) {
		assert_true(o.tcp);
		assert_int_equal(o.nsack, 2);
		assert_true(o.frame_len <= sizeof(struct rte_ether_hdr) + th.conf.mtu);
		assert_int_equal(o.seq, ack + total);
		total += o.len;
		n++;
	}
	/* Full segments shrink by the option (NOP NOP kind len, two blocks): 28 bytes. */
	expect = info.mss - 28u;
	assert_int_equal(total, 4 * info.mss);
	assert_int_equal(n, (4 * info.mss + expect - 1) / expect);
	gale_tcp_abort(c);
}

static void
test_reass_bounded(void **state)
{
	struct gale_tcp_conn *c;
	struct gale_tcp_info info;
	uint32_t ack, i;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.reass_max_segs = 4;
	th_stack_start();
	c = th_passive_open(LPORT, PPORT, PISN, true, NULL);
	ack = snd_nxt(c);
	for (i = 0; i < 10; i++)
		peer_data(PISN + 1 + 200 + i * 200, ack, 100, 200 + i * 200);
	th_drain();
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.ooo_segs, 4);
	assert_int_equal(gale_stack_stats(th.s)->tcp_drop_reass_full, 6);
	gale_tcp_abort(c);
}

/* Send n full segments from a passive connection with SACK; return the first seq. */
static uint32_t
send_segments(struct gale_tcp_conn *c, unsigned int n, uint32_t mss, struct th_out *segs)
{
	unsigned int i;

	assert_int_equal(gale_tcp_send(c, th_payload(n * mss, 0)), 0);
	for (i = 0; i < n; i++) {
		th_pop_tcp(&segs[i]);
		assert_int_equal(segs[i].len, mss);
	}
	assert_false(th_pop(&segs[n]));
	return segs[0].seq;
}

/* A passive connection with every option, which has sent n full segments: first seq in *s0. */
static struct gale_tcp_conn *
open_and_send(uint16_t pport, unsigned int n, uint32_t *mss, uint32_t *s0, struct th_out *segs)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c = th_passive_open(LPORT, pport, PISN, true, NULL);

	gale_tcp_get_info(c, &info);
	*mss = info.mss;
	*s0 = send_segments(c, n, *mss, segs);
	return c;
}

static void
test_rfc6675_sack_retransmission(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out segs[12], o;
	struct th_seg sg;
	uint32_t mss, s0;
	unsigned int i;

	(void)state;
	c = open_and_send(PPORT, 10, &mss, &s0, segs);
	/* Segments 1 and 3 lost; the peer SACKs 2 and 4..: duplicate ACKs carrying SACK blocks. */
	for (i = 0; i < 3; i++) {
		th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
		sg.nsack = 2;
		sg.sack[0][0] = s0 + 3 * mss;
		sg.sack[0][1] = s0 + (5 + i) * mss;
		sg.sack[1][0] = s0 + mss;
		sg.sack[1][1] = s0 + 2 * mss;
		th_input(&sg);
	}
	assert_int_equal(gale_stack_stats(th.s)->tcp_sack_recovery, 1);
	/* Segment 1 is retransmitted first, then the hole at 3, never the SACKed ones. */
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0);
	assert_int_equal(o.len, mss);
	for (i = 0; i < o.len; i++)
		assert_int_equal(o.data[i], th_pattern(i));
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0 + 2 * mss);
	while (th_pop(&o)) {
		assert_false(o.seq == s0 + mss);
		assert_false(o.seq == s0 + 3 * mss);
	}
	assert_true(gale_stack_stats(th.s)->tcp_sack_rexmt >= 1);
	/* The full ACK ends recovery with cwnd = ssthresh (RFC 6582 3.2 step 3). */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 10 * mss, TH_F_ACK);
	th_input(&sg);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.snd_una, s0 + 10 * mss);
	assert_true(info.cwnd <= info.ssthresh);
	th_drain();
	gale_tcp_abort(c);
}

/*
 * RFC 5827 early retransmit: with fewer than four segments out and nothing new to send, oseg - 1
 * duplicate ACKs (here one, whose SACK shows the later segments arrived) retransmit the first at
 * once instead of leaving it to the retransmission timer.
 */
static void
test_rfc5827_early_retransmit(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out segs[4], o;
	struct th_seg sg;
	uint32_t mss, s0;

	(void)state;
	c = open_and_send(PPORT, 3, &mss, &s0, segs);
	/* Segment 1 lost; one duplicate ACK SACKs 2 and 3. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
	sg.nsack = 1;
	sg.sack[0][0] = s0 + mss;
	sg.sack[0][1] = s0 + 3 * mss;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0);
	assert_int_equal(o.len, mss);
	assert_int_equal(gale_stack_stats(th.s)->tcp_early_rexmt, 1);
	assert_int_equal(gale_stack_stats(th.s)->tcp_sack_recovery, 1);
	assert_false(th_pop(&o));
	assert_int_equal(gale_stack_stats(th.s)->tcp_rexmt_timeout, 0);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 3 * mss, TH_F_ACK);
	th_input(&sg);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.snd_una, s0 + 3 * mss);

	gale_tcp_abort(c);
	th_drain();

	/* Four segments out: the usual threshold holds (one SACKed segment is not enough). */
	c = open_and_send(PPORT + 1, 4, &mss, &s0, segs);
	th_seg_init(&sg, PPORT + 1, LPORT, PISN + 1, s0, TH_F_ACK);
	sg.nsack = 1;
	sg.sack[0][0] = s0 + mss;
	sg.sack[0][1] = s0 + 2 * mss;
	th_input(&sg);
	assert_false(th_pop(&o));
	assert_int_equal(gale_stack_stats(th.s)->tcp_fast_rexmt, 1);
	gale_tcp_abort(c);
	th_drain();
}

/*
 * RFC 6675 2: an ACK that SACKs new bytes is a duplicate ACK even when it carries data, as every
 * ACK of a peer that is sending too does (an echo, a pipelined RPC): its losses must start SACK
 * recovery, not wait for the retransmission timer.
 */
static void
test_rfc6675_dupack_with_data(void **state)
{
	struct gale_tcp_conn *c;
	struct th_out segs[12], o;
	struct th_seg sg;
	uint8_t buf[100];
	uint32_t mss, s0;
	unsigned int i;

	(void)state;
	c = open_and_send(PPORT, 10, &mss, &s0, segs);
	memset(buf, 7, sizeof(buf));
	/* Segment 1 lost; the peer's own data segments ACK s0 and SACK 2, 2..3, 2..4. */
	for (i = 0; i < 3; i++) {
		th_seg_init(&sg, PPORT, LPORT, PISN + 1 + i * 100, s0, TH_F_ACK);
		sg.data = buf;
		sg.len = sizeof(buf);
		sg.nsack = 1;
		sg.sack[0][0] = s0 + mss;
		sg.sack[0][1] = s0 + (2 + i) * mss;
		th_input(&sg);
	}
	assert_int_equal(gale_stack_stats(th.s)->tcp_sack_recovery, 1);
	do /* (the ACKs of the peer's data come first) */
		th_pop_tcp(&o);
	while (o.len == 0);
	assert_int_equal(o.seq, s0);
	assert_int_equal(o.len, mss);
	th_drain();
	gale_tcp_abort(c);
}

static void
test_rfc6582_newreno(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out segs[12], o;
	struct th_seg sg;
	uint32_t mss, s0;
	unsigned int i;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL); /* no SACK */
	gale_tcp_get_info(c, &info);
	mss = info.mss;
	s0 = send_segments(c, 10, mss, segs);
	/* Two duplicate ACKs: nothing yet (limited transmit not implemented). */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
	th_input(&sg);
	th_input(&sg);
	assert_false(th_pop(&o));
	/* The third: fast retransmit of the first segment, ssthresh = flight / 2. */
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0);
	assert_int_equal(gale_stack_stats(th.s)->tcp_fast_recovery, 1);
	assert_int_equal(gale_stack_stats(th.s)->tcp_fast_rexmt, 1);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.ssthresh, 5 * mss);
	assert_int_equal(info.cwnd, 5 * mss + 3 * mss);
	th_drain();
	/* Partial ACK (segment 4 lost too): retransmit it at once (RFC 6582 3.2 step 4). */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 3 * mss, TH_F_ACK);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0 + 3 * mss);
	th_drain();
	for (i = 0; i < 1; i++) {
		th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 10 * mss, TH_F_ACK);
		th_input(&sg);
	}
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.snd_una, s0 + 10 * mss);
	assert_true(info.cwnd <= 5 * mss + mss);
	gale_tcp_abort(c);
}

static void
test_zero_window_probe(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	uint32_t s0;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	s0 = snd_nxt(c);
	/* The peer closes its window. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
	sg.win = 0;
	th_input(&sg);
	assert_int_equal(gale_tcp_send(c, th_payload(1000, 0)), 0);
	assert_false(th_pop(&o)); /* nothing into a zero window */
	/* The persist timer (one RTO, then backing off) sends a one-byte probe beyond the window.
	 */
	gale_tcp_get_info(c, &info);
	th_advance(info.rto_us + 1);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0);
	assert_int_equal(o.len, 1);
	assert_int_equal(o.data[0], th_pattern(0));
	assert_int_equal(gale_stack_stats(th.s)->tcp_persist_probe, 1);
	/* Still zero: the probe is repeated later, and the connection is not dropped. The answers
	 * are not duplicate ACKs (no fast retransmit out of a zero window). */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
	sg.win = 0;
	th_input(&sg);
	th_input(&sg);
	th_input(&sg);
	th_input(&sg);
	assert_int_equal(gale_stack_stats(th.s)->tcp_fast_rexmt, 0);
	assert_false(th_pop(&o));
	th_advance(10ull * th.conf.rto_init_us);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0);
	assert_int_equal(o.len, 1);
	assert_true(gale_stack_stats(th.s)->tcp_persist_probe >= 2);
	assert_int_equal(th_state(c), GALE_TCPS_ESTABLISHED);
	th_drain();
	/* The window opens: everything flows. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
	sg.win = 65535;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0);
	assert_true(o.len >= 536);
	th_drain();
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.snd_nxt, s0 + 1000);
	gale_tcp_abort(c);
}

static void
test_delayed_ack_and_quick_ack(void **state)
{
	struct gale_tcp_conn *c;
	struct th_out o;
	uint32_t ack, len;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.delack_us = 200;
	th_stack_start();
	th.auto_consume = true;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	ack = snd_nxt(c);
	/* One segment: no ACK until the delayed-ACK timer. */
	peer_data(PISN + 1, ack, 100, 0);
	assert_false(th_pop(&o));
	th_advance(199);
	assert_false(th_pop(&o));
	th_advance(2);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 101);
	assert_int_equal(gale_stack_stats(th.s)->tcp_delack, 1);
	/* Two segments: the second is ACKed at once. */
	peer_data(PISN + 101, ack, 100, 100);
	assert_false(th_pop(&o));
	peer_data(PISN + 201, ack, 100, 200);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 301);
	/* Out of order: ACKed at once. */
	peer_data(PISN + 501, ack, 100, 500);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 301);
	(void)gale_tcp_recv_peek(c, &len);
	gale_tcp_abort(c);
}

/*
 * Without delayed ACKs the ACK of in-order data still waits for the end of the receive burst: one
 * segment is ACKed within the same input call (no timer), two in one burst get one ACK, and a reply
 * the readable callback writes carries the ACK instead of a pure ACK going first.
 */
static void
test_ack_per_burst(void **state)
{
	static uint8_t buf[100];
	struct gale_tcp_conn *c;
	struct rte_mbuf *m[2];
	struct th_seg sg;
	struct th_out o;
	uint32_t ack;

	(void)state;
	th.auto_consume = true;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	ack = snd_nxt(c);
	peer_data(PISN + 1, ack, 100, 0);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 101);
	assert_int_equal(o.len, 0);
	assert_false(th_pop(&o));
	th_seg_init(&sg, PPORT, LPORT, PISN + 101, ack, TH_F_ACK);
	sg.data = buf;
	sg.len = sizeof(buf);
	m[0] = th_build(&sg);
	sg.seq = PISN + 201;
	m[1] = th_build(&sg);
	gale_stack_input(th.s, m, 2);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 301);
	assert_false(th_pop(&o));
	th.auto_consume = false;
	th.auto_echo = true;
	peer_data(PISN + 301, ack, 100, 300);
	th_pop_tcp(&o);
	assert_int_equal(o.len, 100);
	assert_int_equal(o.ack, PISN + 401);
	assert_false(th_pop(&o));
	gale_tcp_abort(c);
}

static void
test_keepalive(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	unsigned int i;
	uint32_t s0;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.keepalive_idle_us = 1000000;
	th.conf.keepalive_intvl_us = 100000;
	th.conf.keepalive_probes = 3;
	th_stack_start();
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	s0 = snd_nxt(c);
	th_advance(999000);
	assert_false(th_pop(&o));
	th_advance(2000);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0 - 1); /* RFC 1122 4.2.3.6 */
	assert_int_equal(o.len, 0);
	/* An answer resets the count. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
	th_input(&sg);
	/* Silence: 3 probes, then the connection fails with ETIMEDOUT. */
	for (i = 0; i < 50 && th.ev.closed == 0; i++) {
		th_advance(100000);
		th_drain();
	}
	assert_int_equal(th.ev.error, -ETIMEDOUT);
	assert_int_equal(gale_stack_stats(th.s)->tcp_keepalive_probe, 4);
}

static void
test_rfc4987_syn_cookie_handshake(void **state)
{
	struct gale_tcp_conn *first;
	struct th_seg sg;
	struct th_out o;
	uint8_t d[5] = { 1, 2, 3, 4, 5 };

	(void)state;
	assert_int_equal(gale_tcp_listen(th.s, LPORT, 1, NULL, NULL), -EINVAL);
	th_listen(LPORT);
	gale_tcp_unlisten(th.s, LPORT);
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.syn_backlog = 1;
	th_stack_start();
	th_listen(LPORT);
	/* One half-open connection fills the backlog. */
	th_seg_init(&sg, PPORT, LPORT, PISN, 0, TH_F_SYN);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(gale_stack_conn_count(th.s), 1);
	/* The next SYN gets a cookie: SYN-ACK with MSS only, no state kept. */
	th_seg_init(&sg, PPORT + 1, LPORT, 5000, 0, TH_F_SYN);
	sg.mss = 1460;
	sg.ws = 7;
	sg.sackperm = true;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_SYN | TH_F_ACK);
	assert_int_equal(o.mss, 1460);
	assert_int_equal(o.ws, -1);
	assert_false(o.sackperm);
	assert_false(o.ts);
	assert_int_equal(gale_stack_conn_count(th.s), 1);
	assert_int_equal(gale_stack_stats(th.s)->tcp_syncookie_tx, 1);
	/* A forged ACK (wrong cookie) is refused with RST and counted. */
	th_seg_init(&sg, PPORT + 1, LPORT, 5001, o.seq + 2, TH_F_ACK);
	th_input(&sg);
	{
		struct th_out r;

		th_pop_tcp(&r);
		assert_int_equal(r.flags, TH_F_RST);
	}
	assert_int_equal(gale_stack_stats(th.s)->tcp_syncookie_bad, 1);
	/* The right ACK creates the connection, established, accepted. */
	th_seg_init(&sg, PPORT + 1, LPORT, 5001, o.seq + 1, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(gale_stack_stats(th.s)->tcp_syncookie_ok, 1);
	assert_non_null(th.accepted);
	assert_int_equal(th_state(th.accepted), GALE_TCPS_ESTABLISHED);
	first = th.accepted;
	/* And it carries data. */
	th_seg_init(&sg, PPORT + 1, LPORT, 5001, o.seq + 1, TH_F_ACK);
	sg.data = d;
	sg.len = 5;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, 5006);
	assert_int_equal(gale_tcp_consume(first, 5), 0);
	gale_tcp_abort(first);
	/* A cookie older than two slots (128 s) is refused. */
	th_seg_init(&sg, PPORT + 2, LPORT, 7000, 0, TH_F_SYN);
	th_input(&sg);
	th_drain();
}

static void
test_rfc4987_cookie_expiry(void **state)
{
	struct th_seg sg;
	struct th_out o;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.syn_backlog = 1;
	th_stack_start();
	th_listen(LPORT);
	th_seg_init(&sg, PPORT, LPORT, PISN, 0, TH_F_SYN);
	th_input(&sg);
	th_drain();
	th_seg_init(&sg, PPORT + 1, LPORT, 5000, 0, TH_F_SYN);
	th_input(&sg);
	th_pop_tcp(&o);
	th_drain();
	th_advance(200ull * 1000000);
	th_drain();
	th_seg_init(&sg, PPORT + 1, LPORT, 5001, o.seq + 1, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(gale_stack_stats(th.s)->tcp_syncookie_ok, 0);
	assert_int_equal(gale_stack_stats(th.s)->tcp_syncookie_bad, 1);
}

static void
test_rfc6528_isn(void **state)
{
	struct gale_tcp_conn *a, *b;
	struct th_out sa, sb;

	(void)state;
	assert_int_equal(gale_tcp_connect(th.s, TH_PEER_IP, 1111, &th_cbs, NULL, &a), 0);
	th_pop_tcp(&sa);
	th_advance(4000);
	assert_int_equal(gale_tcp_connect(th.s, TH_PEER_IP, 1112, &th_cbs, NULL, &b), 0);
	th_pop_tcp(&sb);
	/* Different 4-tuples: unrelated ISNs (not separated by the 1000 clock ticks alone). */
	assert_true(sb.seq - sa.seq != 1000);
	gale_tcp_abort(a);
	gale_tcp_abort(b);
	/* Same 4-tuple later: the clock part moves it forward by elapsed / 4 µs. */
	th_advance(1000);
	assert_int_equal(gale_tcp_connect(th.s, TH_PEER_IP, 1111, &th_cbs, NULL, &a), 0);
	th_pop_tcp(&sb);
	if (sb.sport == sa.sport)
		assert_int_equal(sb.seq - sa.seq, 5000 / 4);
	gale_tcp_abort(a);
}

static void
test_mss_clamped_to_mtu(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.mtu = 1000;
	th_stack_start();
	th_listen(LPORT);
	th_seg_init(&sg, PPORT, LPORT, PISN, 0, TH_F_SYN);
	sg.mss = 9000;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.mss, 960);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 1, TH_F_ACK);
	th_input(&sg);
	c = th.accepted;
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.mss, 960);
	gale_tcp_send(c, th_payload(5000, 0));
	while (th_pop(&o))
		assert_true(o.len <= 960);
	gale_tcp_abort(c);
}

static void
test_data_beyond_window_trimmed(void **state)
{
	struct gale_tcp_conn *c;
	struct th_out o;
	uint32_t len, ack;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.rcvbuf = 4096;
	th_stack_start();
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	ack = snd_nxt(c);
	peer_data(PISN + 1, ack, 1500, 0);
	peer_data(PISN + 1501, ack, 1500, 1500);
	th_drain();
	/* 1096 bytes of window left: 1500 more are cut to 1096. */
	peer_data(PISN + 3001, ack, 1500, 3000);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 4097);
	assert_int_equal(o.win, 0);
	gale_tcp_recv_peek(c, &len);
	assert_int_equal(len, 4096);
	/* Entirely beyond the window: dropped, ACKed. */
	peer_data(PISN + 4097, ack, 100, 4096);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 4097);
	assert_true(gale_stack_stats(th.s)->tcp_drop_out_of_window >= 2);
	/* Consuming reopens the window with an update. */
	gale_tcp_consume(c, len);
	th_pop_tcp(&o);
	assert_int_equal(o.win, 4096);
	gale_tcp_abort(c);
}

static void
test_illegal_flags_and_bad_checksum(void **state)
{
	static const uint8_t bad[] = {
		TH_F_SYN | TH_F_FIN, TH_F_SYN | TH_F_RST, 0, TH_F_FIN, TH_F_FIN | TH_F_PSH | 0x20,
	};
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	unsigned int i;
	uint8_t d[4] = { 0 };

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	for (i = 0; i < sizeof(bad); i++) {
		th_seg_init(&sg, PPORT, LPORT, PISN + 1, snd_nxt(c), bad[i]);
		th_input(&sg);
	}
	assert_int_equal(gale_stack_stats(th.s)->tcp_drop_flags, sizeof(bad));
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, snd_nxt(c), TH_F_ACK);
	sg.data = d;
	sg.len = 4;
	sg.bad_cksum = true;
	th_input(&sg);
	assert_int_equal(gale_stack_stats(th.s)->tcp_drop_cksum, 1);
	assert_false(th_pop(&o));
	assert_int_equal(th_state(c), GALE_TCPS_ESTABLISHED);
	gale_tcp_abort(c);
}

static void
test_cubic_grows_after_loss(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out segs[12];
	struct th_seg sg;
	uint32_t mss, s0, before;
	unsigned int i;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.cc = GALE_TCP_CC_CUBIC;
	th_stack_start();
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	gale_tcp_get_info(c, &info);
	mss = info.mss;
	s0 = send_segments(c, 10, mss, segs);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
	for (i = 0; i < 3; i++)
		th_input(&sg);
	gale_tcp_get_info(c, &info);
	/* beta = 0.7 (RFC 8312 4.5) */
	assert_int_equal(info.ssthresh, 10 * mss * 7 / 10);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 10 * mss, TH_F_ACK);
	th_input(&sg);
	th_drain();
	gale_tcp_get_info(c, &info);
	before = info.cwnd;
	/* Congestion avoidance: cwnd grows with ACKs over time. */
	for (i = 0; i < 20; i++) {
		gale_tcp_get_info(c, &info);
		gale_tcp_send(c, th_payload(mss, 0));
		th_drain();
		th_advance(1000); /* below the 5 ms RTO floor */
		th_seg_init(&sg, PPORT, LPORT, PISN + 1, info.snd_nxt + mss, TH_F_ACK);
		th_input(&sg);
	}
	gale_tcp_get_info(c, &info);
	assert_true(info.cwnd > before);
	gale_tcp_abort(c);
}

/*
 * After a retransmission timeout pulled snd_nxt back, a pure ACK carries snd_max (as FreeBSD's
 * tcp_output does): one stamped snd_nxt lies below the peer's rcv_nxt, the peer answers it as an
 * unacceptable segment with an ACK of its own, and two gale stacks recovering at once (a 4 MiB
 * echo each way over memif) ping-ponged millions of ACKs.
 */
static void
test_pure_ack_after_rto_carries_snd_max(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	uint32_t s0;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	s0 = snd_nxt(c);
	assert_int_equal(gale_tcp_send(c, th_payload(3000, 0)), 0);
	th_drain(); /* all of it sent: snd_max = s0 + 3000 */
	assert_int_equal(snd_nxt(c), s0 + 3000);
	gale_tcp_get_info(c, &info);
	th_advance(info.rto_us + 1);
	th_pop_tcp(&o); /* the timeout retransmits from snd_una, one segment (cwnd 1) */
	assert_int_equal(o.seq, s0);
	assert_true(o.len > 0);
	th_drain();
	assert_true(snd_nxt(c) != s0 + 3000); /* snd_nxt was pulled back */
	/* A byte from the peer (acknowledging nothing new) must be ACKed at once: a pure ACK. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK | TH_F_PSH);
	sg.data = "x";
	sg.len = 1;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.len, 0);
	assert_int_equal(o.flags, TH_F_ACK);
	assert_int_equal(o.ack, PISN + 2);
	assert_int_equal(o.seq, s0 + 3000);
	th_drain();
}

/*
 * RFC 8985 tail loss probe: the last segments of a flight are lost and nothing follows to draw
 * duplicate ACKs. After PTO = 2 SRTT, well before the RTO, the last segment goes again; the peer's
 * ACK SACKs it, and the bytes below it that are not SACKed are retransmitted at once (recovery),
 * without a retransmission timeout.
 */
static void
test_rfc8985_tail_loss_probe(void **state)
{
	const struct gale_stack_stats *st;
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out segs[12], o;
	struct th_seg sg;
	uint32_t mss, s0, pto;

	(void)state;
	st = gale_stack_stats(th.s);
	c = open_and_send(PPORT, 10, &mss, &s0, segs);
	/* The first four arrive; the last six are lost. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 4 * mss, TH_F_ACK);
	th_input(&sg);
	assert_false(th_pop(&o));
	gale_tcp_get_info(c, &info);
	pto = 2 * info.srtt_us + 100;
	assert_true(pto + 100 < info.rto_us);
	th_advance(pto + 100);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0 + 9 * mss);
	assert_int_equal(o.len, mss);
	assert_false(th_pop(&o));
	assert_int_equal(st->tcp_tlp_probe, 1);
	assert_int_equal(st->tcp_rexmt_timeout, 0);
	/* The probe arrived: the peer SACKs it, and the hole below goes at once. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 4 * mss, TH_F_ACK);
	sg.nsack = 1;
	sg.sack[0][0] = s0 + 9 * mss;
	sg.sack[0][1] = s0 + 10 * mss;
	th_input(&sg);
	assert_int_equal(st->tcp_tlp_recovery, 1);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0 + 4 * mss);
	assert_int_equal(o.len, mss);
	assert_int_equal(st->tcp_rexmt_timeout, 0);
	th_drain();
	gale_tcp_abort(c);
}

/* A probe timeout armed before the FIN went is a retransmission timeout: no probe of the last
 * segment, which would now stand where the FIN is. */
static void
test_rfc8985_no_probe_after_fin(void **state)
{
	const struct gale_stack_stats *st;
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out segs[12], o;
	struct th_seg sg;
	uint32_t mss, s0;

	(void)state;
	st = gale_stack_stats(th.s);
	c = open_and_send(PPORT, 10, &mss, &s0, segs);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 4 * mss, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(gale_tcp_shutdown(c), 0);
	th_pop_tcp(&o);
	assert_true(o.flags & TH_F_FIN);
	gale_tcp_get_info(c, &info);
	th_advance(2 * info.srtt_us + 200);
	assert_int_equal(st->tcp_tlp_probe, 0);
	th_advance(info.rto_us);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, s0 + 4 * mss);
	assert_int_equal(st->tcp_rexmt_timeout, 1);
	assert_int_equal(st->tcp_tlp_probe, 0);
	th_drain();
	gale_tcp_abort(c);
}

/*
 * RFC 3522 / RFC 4015: a retransmission timeout whose first ACK echoes the original's TSval was
 * spurious (only the ACK was late): cwnd and ssthresh come back, and sending goes on from snd_max
 * instead of again from snd_una. When the ACK echoes the retransmission's TSval, the timeout
 * stands.
 */
static void
test_rfc3522_spurious_rto_undo(void **state)
{
	const struct gale_stack_stats *st;
	struct gale_tcp_info before, info;
	struct gale_tcp_conn *c;
	struct th_out o1, o2;
	struct th_seg sg;
	uint32_t s0;

	(void)state;
	st = gale_stack_stats(th.s);
	c = th_passive_open(LPORT, PPORT, PISN, true, NULL);
	s0 = snd_nxt(c);
	/* One segment out (a flight of one: no tail loss probe), lost or late. */
	assert_int_equal(gale_tcp_send(c, th_payload(1000, 0)), 0);
	th_pop_tcp(&o1);
	gale_tcp_get_info(c, &before);
	th_advance(before.rto_us + 1);
	th_pop_tcp(&o2);
	assert_int_equal(o2.seq, s0);
	assert_true(o2.tsval != o1.tsval);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.cwnd, info.mss);
	/* The ACK of the original (its TSval echoed): spurious, undone. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 1000, TH_F_ACK);
	sg.ts = true;
	sg.tsval = 1002;
	sg.tsecr = o1.tsval;
	th_input(&sg);
	assert_int_equal(st->tcp_rto_spurious, 1);
	gale_tcp_get_info(c, &info);
	assert_true(info.cwnd >= before.cwnd);
	assert_int_equal(info.ssthresh, before.ssthresh);
	th_drain();
	/* Again, but the ACK echoes the retransmission: the loss was real, the timeout stands. */
	assert_int_equal(gale_tcp_send(c, th_payload(1000, 1000)), 0);
	th_pop_tcp(&o1);
	gale_tcp_get_info(c, &before);
	th_advance(before.rto_us + 1);
	th_pop_tcp(&o2);
	assert_int_equal(o2.seq, s0 + 1000);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0 + 2000, TH_F_ACK);
	sg.ts = true;
	sg.tsval = 1003;
	sg.tsecr = o2.tsval;
	th_input(&sg);
	assert_int_equal(st->tcp_rto_spurious, 1);
	gale_tcp_get_info(c, &info);
	assert_true(info.cwnd < before.cwnd);
	th_drain();
	gale_tcp_abort(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rfc5961_challenge_ack_rst, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc5961_challenge_ack_syn, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc5961_challenge_ack_rate_limit, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc7323_paws, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_pure_ack_after_rto_carries_snd_max, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc8985_tail_loss_probe, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc8985_no_probe_after_fin, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc3522_spurious_rto_undo, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc7323_window_scaling, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ooo_reassembly_and_sack_blocks, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_fit_mtu, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_reass_bounded, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc6675_sack_retransmission, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc5827_early_retransmit, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc6675_dupack_with_data, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc6582_newreno, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_probe, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_delayed_ack_and_quick_ack, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_per_burst, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc4987_syn_cookie_handshake, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc4987_cookie_expiry, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rfc6528_isn, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_mss_clamped_to_mtu, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_data_beyond_window_trimmed, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_illegal_flags_and_bad_checksum, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_cubic_grows_after_loss, th_setup, th_teardown),
	};

	return cmocka_run_group_tests(tests, th_global_setup, th_global_teardown);
}
