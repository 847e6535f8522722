/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP state machine (RFC 9293 3.3.2), one test per transition or group of transitions, on the
 * fake port: passive, active and simultaneous open; data in order with the receive chain and
 * consume; sending segmented to MSS with ACK processing; active, passive and simultaneous close;
 * half-close; RST; retransmission timeout with RFC 6298 RTO, back-off and Karn's rule; SYN retries;
 * TIME_WAIT with 2MSL and reuse.
 */
#include <string.h>

#include "tcp_helper.h"

#define LPORT 80
#define PPORT 40000
#define PISN  1000000u

static void
test_passive_open(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out sa;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, true, &sa);
	/* SYN-ACK carries MSS (MTU - 40), window scale, SACK-permitted, timestamps echoing the
	 * SYN's. */
	assert_int_equal(sa.mss, 1460);
	assert_true(sa.ws >= 0);
	assert_true(sa.sackperm);
	assert_true(sa.ts);
	assert_int_equal(sa.tsecr, 1000);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.state, GALE_TCPS_ESTABLISHED);
	assert_int_equal(info.mss, 1460 - 12);
	assert_int_equal(info.snd_wscale, 7);
	assert_true(info.ts);
	assert_true(info.sack);
	assert_int_equal(info.rcv_nxt, PISN + 1);
	assert_int_equal(info.cwnd, 10u * (1460 - 12)); /* RFC 6928 */
	assert_int_equal(gale_stack_stats(th.s)->tcp_conn_passive, 1);
	gale_tcp_abort(c);
	assert_int_equal(th.ev.closed, 1);
}

static void
test_passive_open_no_options(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out sa;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, &sa);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.mss, 536); /* RFC 9293 3.7.1 default */
	assert_int_equal(info.snd_wscale, 0);
	assert_int_equal(info.rcv_wscale, 0);
	assert_false(info.ts);
	assert_false(info.sack);
	gale_tcp_abort(c);
}

static void
test_synrcvd_bad_ack_and_refused_accept(void **state)
{
	struct th_seg sg;
	struct th_out o;

	(void)state;
	th_listen(LPORT);
	th_seg_init(&sg, PPORT, LPORT, PISN, 0, TH_F_SYN);
	th_input(&sg);
	th_pop_tcp(&o);
	/* SYN_RECEIVED + unacceptable ACK: RST with seq = SEG.ACK, connection stays. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 77, TH_F_ACK);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_RST);
	assert_int_equal(gale_stack_conn_count(th.s), 1);
	/* Retransmitted SYN-ACK after the RTO. */
	th_advance(th.conf.rto_init_us + 1);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_SYN | TH_F_ACK);
	/* The application refuses: RST, nothing left. */
	th.refuse_accept = true;
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 1, TH_F_ACK);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_true(o.flags & TH_F_RST);
	assert_int_equal(gale_stack_conn_count(th.s), 0);
}

static void
test_active_open(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out syn;

	(void)state;
	c = th_active_open(PPORT, PISN, true, &syn);
	assert_int_equal(syn.mss, 1460);
	assert_true(syn.ws >= 0);
	assert_true(syn.sackperm);
	assert_true(syn.ts);
	assert_int_equal(syn.dst, TH_PEER_IP);
	assert_true(syn.sport >= th.conf.ephemeral_lo && syn.sport <= th.conf.ephemeral_hi);
	gale_tcp_get_info(c, &info);
	assert_true(info.ts && info.sack);
	assert_int_equal(info.snd_una, syn.seq + 1);
	gale_tcp_abort(c);
}

static void
test_active_open_refused(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;

	(void)state;
	assert_int_equal(gale_tcp_connect(th.s, TH_PEER_IP, PPORT, &th_cbs, NULL, &c), 0);
	th_pop_tcp(&o);
	/* RST without an acceptable ACK is ignored in SYN_SENT. */
	th_seg_init(&sg, PPORT, o.sport, 0, o.seq + 5, TH_F_RST | TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th.ev.closed, 0);
	th_drain();
	th_seg_init(&sg, PPORT, o.sport, 0, o.seq + 1, TH_F_RST | TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th.ev.error, -ECONNREFUSED);
	assert_int_equal(th.ev.closed, 1);
	assert_int_equal(gale_stack_conn_count(th.s), 0);
}

static void
test_simultaneous_open(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out syn, o;

	(void)state;
	assert_int_equal(gale_tcp_connect(th.s, TH_PEER_IP, PPORT, &th_cbs, NULL, &c), 0);
	th_pop_tcp(&syn);
	/* SYN_SENT + SYN -> SYN_RECEIVED, answered with SYN-ACK of the same ISS. */
	th_seg_init(&sg, PPORT, syn.sport, PISN, 0, TH_F_SYN);
	sg.mss = 1000;
	th_input(&sg);
	assert_int_equal(th_state(c), GALE_TCPS_SYN_RECEIVED);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_SYN | TH_F_ACK);
	assert_int_equal(o.seq, syn.seq);
	assert_int_equal(o.ack, PISN + 1);
	/* The peer's SYN-ACK completes it. */
	th_seg_init(&sg, PPORT, syn.sport, PISN, syn.seq + 1, TH_F_SYN | TH_F_ACK);
	th_input(&sg);
	/* That SYN is a duplicate now; what matters is the ACK of ours. */
	th_seg_init(&sg, PPORT, syn.sport, PISN + 1, syn.seq + 1, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th_state(c), GALE_TCPS_ESTABLISHED);
	assert_int_equal(th.ev.connected, 1);
	gale_tcp_abort(c);
}

/* Segments of two flows interleaved reach their own connection (the lookup remembers the last
 * flow it found), and once a connection is gone a segment of its 4-tuple finds nothing: RST. */
static void
test_lookup_interleaved_flows(void **state)
{
	struct gale_tcp_conn *c[2];
	struct gale_tcp_info info;
	uint8_t buf[64] = { 0 };
	uint32_t snd_una[2], len;
	struct th_seg sg;
	struct th_out o;
	int i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		c[k] = th_passive_open(LPORT, (uint16_t)(PPORT + k), PISN, false, NULL);
		gale_tcp_get_info(c[k], &info);
		snd_una[k] = info.snd_una;
	}
	assert_ptr_not_equal(c[0], c[1]);
	sg.data = buf;
	for (i = 0; i < 6; i++) {
		k = i % 3 == 0 ? 0 : 1; /* 0 1 1 0 1 1: repeats and switches */
		th_seg_init(&sg, (uint16_t)(PPORT + k), LPORT,
		            PISN + 1 + (k == 0 ? i / 3 : i - 1 - i / 3) * 10, snd_una[k],
		            TH_F_ACK | TH_F_PSH);
		sg.data = buf;
		sg.len = 10;
		th_input(&sg);
		th_pop_tcp(&o);
		assert_int_equal(o.dport, PPORT + k);
		assert_int_equal(o.ack, sg.seq + 10);
	}
	assert_non_null(gale_tcp_recv_peek(c[0], &len));
	assert_int_equal(len, 20);
	assert_non_null(gale_tcp_recv_peek(c[1], &len));
	assert_int_equal(len, 40);
	gale_tcp_abort(c[1]);
	th_pop_tcp(&o);
	assert_int_equal(o.flags & TH_F_RST, TH_F_RST);
	th_seg_init(&sg, PPORT + 1, LPORT, PISN + 41, snd_una[1], TH_F_ACK | TH_F_PSH);
	sg.data = buf;
	sg.len = 10;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_RST);
	assert_int_equal(o.seq, snd_una[1]);
	gale_tcp_abort(c[0]);
}

static void
test_data_in_order_and_consume(void **state)
{
	struct gale_tcp_conn *c;
	const struct rte_mbuf *rc;
	uint8_t buf[3000], out[3000];
	struct th_seg sg;
	struct th_out o;
	uint32_t len, i;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = th_pattern(i);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, 0, TH_F_ACK | TH_F_PSH);
	gale_tcp_get_info(c, &(struct gale_tcp_info){ 0 });
	{
		struct gale_tcp_info info;

		gale_tcp_get_info(c, &info);
		sg.ack = info.snd_una;
	}
	sg.data = buf;
	sg.len = 500;
	th_input(&sg);
	sg.seq += 500;
	sg.data = buf + 500;
	sg.len = 1000;
	th_input(&sg);
	assert_int_equal(th.ev.readable, 2);
	/* Every segment is ACKed at once (delayed ACK off by default). */
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 1 + 500);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 1 + 1500);
	rc = gale_tcp_recv_peek(c, &len);
	assert_non_null(rc);
	assert_int_equal(len, 1500);
	assert_int_equal(rc->pkt_len, 1500);
	assert_non_null(rte_pktmbuf_read(rc, 0, 1500, out));
	assert_memory_equal(rte_pktmbuf_read(rc, 0, 1500, out), buf, 1500);
	/* Consume part; the rest stays in order. */
	assert_int_equal(gale_tcp_consume(c, 700), 0);
	rc = gale_tcp_recv_peek(c, &len);
	assert_int_equal(len, 800);
	assert_memory_equal(rte_pktmbuf_read(rc, 0, 800, out), buf + 700, 800);
	assert_int_equal(gale_tcp_consume(c, 801), -EINVAL);
	assert_int_equal(gale_tcp_consume(c, 800), 0);
	assert_null(gale_tcp_recv_peek(c, &len));
	assert_int_equal(gale_stack_stats(th.s)->tcp_bytes_rx, 1500);
	gale_tcp_abort(c);
}

static void
test_send_segmented_and_acked(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	uint32_t seq0, got = 0, i;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL); /* MSS 536 */
	gale_tcp_get_info(c, &info);
	seq0 = info.snd_nxt;
	assert_int_equal(gale_tcp_send(c, th_payload(3000, 0)), 0);
	while (th_pop(&o)) {
		assert_true(o.tcp);
		assert_true(o.len <= 536);
		assert_int_equal(o.seq, seq0 + got);
		for (i = 0; i < o.len; i++)
			assert_int_equal(o.data[i], th_pattern(got + i));
		got += o.len;
	}
	assert_int_equal(got, 3000);
	assert_true(o.flags & TH_F_PSH);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.snd_buffered, 3000);
	/* A cumulative ACK frees what it covers. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, seq0 + 2000, TH_F_ACK);
	th_input(&sg);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.snd_buffered, 1000);
	assert_int_equal(info.snd_una, seq0 + 2000);
	sg.ack = seq0 + 3000;
	th_input(&sg);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.snd_buffered, 0);
	assert_false(th_pop(&o));
	assert_int_equal(gale_stack_stats(th.s)->tcp_bytes_tx, 3000);
	gale_tcp_abort(c);
}

static void
test_send_backpressure_writable(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct rte_mbuf *m;
	struct th_seg sg;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, true, NULL);
	assert_int_equal(gale_tcp_send(c, th_payload(60000, 0)), 0);
	m = th_payload(10000, 0);
	assert_int_equal(gale_tcp_send(c, m), -EAGAIN); /* 65536 buffer */
	assert_int_equal(gale_tcp_send_space(c), 5536);
	th_drain();
	gale_tcp_get_info(c, &info);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, info.snd_una + 10000, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th.ev.writable, 1);
	assert_int_equal(gale_tcp_send(c, m), 0);
	th_drain();
	gale_tcp_abort(c);
}

static void
test_active_close_timewait(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	gale_tcp_get_info(c, &info);
	assert_int_equal(gale_tcp_close(c), 0);
	/* ESTABLISHED -> FIN_WAIT_1: FIN sent. */
	assert_int_equal(info.state, GALE_TCPS_ESTABLISHED);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_FIN | TH_F_ACK);
	assert_int_equal(o.seq, info.snd_nxt);
	assert_int_equal(th_state(c), GALE_TCPS_FIN_WAIT_1);
	/* FIN acked -> FIN_WAIT_2. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 1, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th_state(c), GALE_TCPS_FIN_WAIT_2);
	assert_int_equal(th.ev.closed, 0);
	/* Peer FIN -> TIME_WAIT, ACKed; closed callback now. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 1, TH_F_FIN | TH_F_ACK);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_ACK);
	assert_int_equal(o.ack, PISN + 2);
	assert_int_equal(th.ev.closed, 1);
	assert_int_equal(gale_stack_conn_count(th.s), 1);
	/* A retransmitted FIN in TIME_WAIT is ACKed again. */
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 2);
	/* 2 MSL later the block is gone. */
	th_advance(2ull * th.conf.msl_us - 10);
	assert_int_equal(gale_stack_conn_count(th.s), 1);
	th_advance(2ull * th.conf.msl_us + 10);
	assert_int_equal(gale_stack_conn_count(th.s), 0);
}

static void
test_passive_close(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	gale_tcp_get_info(c, &info);
	/* ESTABLISHED + FIN -> CLOSE_WAIT, EOF readable. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, info.snd_nxt, TH_F_FIN | TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th_state(c), GALE_TCPS_CLOSE_WAIT);
	assert_true(gale_tcp_eof(c));
	assert_int_equal(th.ev.readable, 1);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 2);
	/* Still allowed to send in CLOSE_WAIT. */
	assert_int_equal(gale_tcp_send(c, th_payload(100, 0)), 0);
	th_pop_tcp(&o);
	assert_int_equal(o.len, 100);
	/* CLOSE_WAIT -> LAST_ACK on close; the last ACK -> CLOSED. */
	assert_int_equal(gale_tcp_close(c), 0);
	th_pop_tcp(&o);
	assert_true(o.flags & TH_F_FIN);
	assert_int_equal(th_state(c), GALE_TCPS_LAST_ACK);
	th_seg_init(&sg, PPORT, LPORT, PISN + 2, o.seq + 1, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th.ev.closed, 1);
	assert_int_equal(gale_stack_conn_count(th.s), 0);
}

static void
test_simultaneous_close(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out fin;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	gale_tcp_close(c);
	th_pop_tcp(&fin);
	/* FIN_WAIT_1 + FIN (not acking ours) -> CLOSING. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, fin.seq, TH_F_FIN | TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th_state(c), GALE_TCPS_CLOSING);
	th_drain();
	/* CLOSING + ACK of our FIN -> TIME_WAIT. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 2, fin.seq + 1, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th.ev.closed, 1);
	assert_int_equal(gale_stack_conn_count(th.s), 1); /* TIME_WAIT */
}

static void
test_half_close(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out fin, o;
	uint8_t data[100];
	uint32_t len;

	(void)state;
	memset(data, 'x', sizeof(data));
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	assert_int_equal(gale_tcp_shutdown(c), 0);
	th_pop_tcp(&fin);
	assert_true(fin.flags & TH_F_FIN);
	{
		struct rte_mbuf *m = th_payload(10, 0);

		assert_int_equal(gale_tcp_send(c, m), -EPIPE); /* the chain stays ours */
		rte_pktmbuf_free(m);
	}
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, fin.seq + 1, TH_F_ACK);
	th_input(&sg);
	assert_int_equal(th_state(c), GALE_TCPS_FIN_WAIT_2);
	/* The peer keeps sending: we keep receiving. */
	sg.data = data;
	sg.len = 100;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.ack, PISN + 101);
	assert_non_null(gale_tcp_recv_peek(c, &len));
	assert_int_equal(len, 100);
	/* Half-closed by the application: FIN_WAIT_2 does not time out. */
	th_advance(4ull * th.conf.msl_us);
	assert_int_equal(th_state(c), GALE_TCPS_FIN_WAIT_2);
	gale_tcp_consume(c, len);
	gale_tcp_abort(c);
}

static void
test_rst_exact_resets(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	(void)c;
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, 0, TH_F_RST);
	th_input(&sg);
	assert_int_equal(th.ev.error, -ECONNRESET);
	assert_int_equal(th.ev.closed, 1);
	assert_int_equal(gale_stack_conn_count(th.s), 0);
	assert_int_equal(gale_stack_stats(th.s)->tcp_rst_rx, 1);
}

static void
test_rto_backoff_karn(void **state)
{
	struct gale_tcp_info info, before;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	uint32_t seq, srtt, rttvar, rto;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	gale_tcp_get_info(c, &before); /* the handshake gave a first (0 µs) sample */
	/* An RTT sample: ACK 2 ms after the send; RFC 6298 2.3 with alpha 1/8, beta 1/4. */
	gale_tcp_send(c, th_payload(100, 0));
	th_pop_tcp(&o);
	th_advance(2000);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 100, TH_F_ACK);
	th_input(&sg);
	gale_tcp_get_info(c, &info);
	rttvar = before.rttvar_us - before.rttvar_us / 4 + (2000 - before.srtt_us) / 4;
	srtt = before.srtt_us - before.srtt_us / 8 + 2000 / 8;
	rto = srtt + 4 * rttvar;
	rto = rto < th.conf.rto_min_us ? th.conf.rto_min_us : rto;
	assert_int_equal(info.srtt_us, srtt);
	assert_int_equal(info.rttvar_us, rttvar);
	assert_int_equal(info.rto_us, rto);
	/* A second sample of 4 ms (below the current RTO, so no retransmission) lifts the RTO above
	 * the floor. */
	gale_tcp_send(c, th_payload(100, 100));
	th_pop_tcp(&o);
	th_advance(4000);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 100, TH_F_ACK);
	th_input(&sg);
	before = info;
	gale_tcp_get_info(c, &info);
	rttvar = before.rttvar_us - before.rttvar_us / 4 + (4000 - before.srtt_us) / 4;
	srtt = before.srtt_us - before.srtt_us / 8 + 4000 / 8;
	assert_int_equal(info.rto_us, srtt + 4 * rttvar);
	assert_true(info.rto_us > th.conf.rto_min_us);
	rto = info.rto_us;
	/* Lost segment: retransmitted after one RTO, again after two (back-off, RFC 6298 5.5). */
	gale_tcp_send(c, th_payload(100, 200));
	th_pop_tcp(&o);
	seq = o.seq;
	th_advance(rto - 1);
	assert_false(th_pop(&o));
	th_advance(2);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, seq);
	th_advance(2 * rto - 2);
	assert_false(th_pop(&o));
	th_advance(3);
	th_pop_tcp(&o);
	assert_int_equal(o.seq, seq);
	assert_int_equal(gale_stack_stats(th.s)->tcp_rexmt_timeout, 2);
	/* Karn: the ACK of a retransmitted segment gives no sample. */
	th_advance(50000);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, seq + 100, TH_F_ACK);
	th_input(&sg);
	before = info;
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.srtt_us, before.srtt_us);
	assert_int_equal(gale_stack_stats(th.s)->tcp_rtt_sample, 3);
	gale_tcp_abort(c);
}

static void
test_rto_min_floor(void **state)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	gale_tcp_send(c, th_payload(100, 0));
	th_pop_tcp(&o);
	th_advance(20); /* 20 µs RTT */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 100, TH_F_ACK);
	th_input(&sg);
	gale_tcp_get_info(c, &info);
	assert_int_equal(info.rto_us, th.conf.rto_min_us);
	assert_int_equal(th.conf.rto_min_us, 5000);
	gale_tcp_abort(c);
}

static void
test_syn_retries_timeout(void **state)
{
	struct gale_tcp_conn *c;
	struct th_out o;
	unsigned int syns = 0, i;

	(void)state;
	assert_int_equal(gale_tcp_connect(th.s, TH_PEER_IP, PPORT, &th_cbs, NULL, &c), 0);
	for (i = 0; i < 200 && th.ev.closed == 0; i++) {
		while (th_pop(&o))
			syns += (o.flags == TH_F_SYN);
		th_advance(1000000);
	}
	assert_int_equal(syns, 1 + th.conf.syn_retries);
	assert_int_equal(th.ev.error, -ETIMEDOUT);
	assert_int_equal(th.ev.closed, 1);
	assert_int_equal(gale_stack_stats(th.s)->tcp_conn_timeout, 1);
}

static void
test_timewait_reuse_by_syn(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out fin, o;

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, true, NULL);
	gale_tcp_close(c);
	th_pop_tcp(&fin);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, fin.seq + 1, TH_F_FIN | TH_F_ACK);
	sg.ts = true;
	sg.tsval = 2000;
	th_input(&sg);
	th_drain();
	assert_int_equal(gale_stack_conn_count(th.s), 1);
	/* A new SYN with an older timestamp does not take over TIME_WAIT: it gets the old ACK. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 100000, 0, TH_F_SYN);
	sg.ts = true;
	sg.tsval = 1500;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_ACK);
	assert_int_equal(o.ack, PISN + 2);
	/* With a newer timestamp it does: a new connection, SYN-ACK. */
	sg.tsval = 3000;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_SYN | TH_F_ACK);
	assert_int_equal(o.ack, PISN + 100001);
	assert_int_equal(gale_stack_stats(th.s)->tcp_timewait_reuse, 1);
	assert_int_equal(gale_stack_conn_count(th.s), 1);
}

static void
test_close_with_unread_data_resets(void **state)
{
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out o;
	uint8_t d[10] = { 0 };

	(void)state;
	c = th_passive_open(LPORT, PPORT, PISN, false, NULL);
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, 0, TH_F_ACK);
	{
		struct gale_tcp_info info;

		gale_tcp_get_info(c, &info);
		sg.ack = info.snd_nxt;
	}
	sg.data = d;
	sg.len = 10;
	th_input(&sg);
	th_drain();
	gale_tcp_close(c);
	th_pop_tcp(&o);
	assert_true(o.flags & TH_F_RST);
	assert_int_equal(th.ev.closed, 1);
	assert_int_equal(gale_stack_conn_count(th.s), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passive_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_lookup_interleaved_flows, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_passive_open_no_options, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_synrcvd_bad_ack_and_refused_accept, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_active_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_active_open_refused, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_data_in_order_and_consume, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_send_segmented_and_acked, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_send_backpressure_writable, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_active_close_timewait, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_passive_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_half_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rst_exact_resets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rto_backoff_karn, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rto_min_floor, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_retries_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_timewait_reuse_by_syn, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_close_with_unread_data_resets, th_setup,
		                                th_teardown),
	};

	return cmocka_run_group_tests(tests, th_global_setup, th_global_teardown);
}
