/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TSO (conf.tx_offloads & GALE_STACK_OFFLOAD_TSO): what a window of data becomes on a port that
 * segments TCP itself. One frame with RTE_MBUF_F_TX_TCP_SEG, tso_segsz = the MSS, l2/l3/l4
 * lengths, the IPv4 and TCP checksums left to the device (the TCP field holds the pseudo-header
 * sum without the length, as DPDK asks) and the send buffer's bytes in order; a retransmission of
 * part of it is one MSS-sized frame; the frame limit of net_tap (tso_frame_max) shrinks the MSS
 * so that every frame the device cuts fits; and a port without TSO still gets MSS-sized frames.
 * Frames are read through rte_pktmbuf_read, since th_pop parses single-buffer frames only.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_helper.h"

#define LPORT         7
#define PPORT         40000
#define PISN          1000u
#define TSO_FRAME_MAX 65600u

/* A frame the stack sent, linearised: a TSO segment's offload fields, or a plain frame's
 * checksums, checked. */
struct tso_out {
	bool tso;
	uint16_t segsz;
	uint32_t seq, len;
	uint8_t flags;
	uint8_t data[TSO_FRAME_MAX];
};

static bool
tso_pop(struct tso_out *o)
{
	static uint8_t frame[TSO_FRAME_MAX];
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *tcp;
	const struct rte_mbuf *seg;
	struct rte_mbuf *m;
	uint32_t sum, thl, total, at;

	ip = th_pop_chain(&m, frame, sizeof(frame));
	if (ip == NULL)
		return false;
	total = rte_be_to_cpu_16(ip->total_length);
	tcp = (const struct rte_tcp_hdr *)(ip + 1);
	thl = (tcp->data_off >> 4) * 4u;
	o->tso = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
	o->segsz = m->tso_segsz;
	if (o->tso) {
		assert_true((m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0);
		assert_true((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0);
		assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_TCP_CKSUM);
		assert_int_equal(m->l2_len, sizeof(struct rte_ether_hdr));
		assert_int_equal(m->l3_len, sizeof(*ip));
		assert_int_equal(m->l4_len, thl);
		assert_true(m->tso_segsz > 0);
		/* The pseudo-header sum without the length (rte_ipv4_phdr_cksum with TCP_SEG). */
		assert_int_equal(tcp->cksum, rte_ipv4_phdr_cksum(ip, RTE_MBUF_F_TX_TCP_SEG));
		/* Every buffer but the last holds an even count of bytes past the headers (net_tap
		 * sums each one as if it began at an even offset). */
		for (seg = m, at = 0; seg != NULL && seg->next != NULL; seg = seg->next) {
			at += seg->data_len;
			assert_int_equal(at & 1u, 0);
		}
	} else {
		assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
		sum = (uint32_t)rte_raw_cksum(tcp, total - sizeof(*ip)) +
		      rte_ipv4_phdr_cksum(ip, 0);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(sum, 0xffff);
	}
	o->seq = rte_be_to_cpu_32(tcp->sent_seq);
	o->flags = tcp->tcp_flags;
	o->len = total - (uint32_t)sizeof(*ip) - thl;
	memcpy(o->data, (const uint8_t *)tcp + thl, o->len);
	rte_pktmbuf_free(m);
	return true;
}

static void
tso_restart(uint32_t offloads, uint16_t frame_max)
{
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.tx_offloads = offloads;
	th.conf.tso_frame_max = frame_max;
	th.conf.sndbuf = 1u << 20;
	th.conf.rcvbuf = 1u << 20;
	th_stack_start();
}

/* A connection with every option that has queued total bytes; its MSS and first seq. */
static struct gale_tcp_conn *
tso_open_and_send(uint32_t total, uint32_t *mss, uint32_t *s0)
{
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	struct th_out ob;

	c = th_passive_open(LPORT, PPORT, PISN, true, &ob);
	gale_tcp_get_info(c, &info);
	*mss = info.mss;
	*s0 = ob.seq + 1;
	assert_int_equal(gale_tcp_send(c, th_payload(total, 0)), 0);
	return c;
}

static void
check_bytes(const struct tso_out *o, uint32_t s0)
{
	uint32_t i;

	for (i = 0; i < o->len; i++)
		if (o->data[i] != th_pattern(o->seq - s0 + i))
			fail_msg("byte %u of the stream: got %u want %u", o->seq - s0 + i,
			         o->data[i], th_pattern(o->seq - s0 + i));
}

/* The initial window (10 segments) leaves as one TSO segment cut at the MSS. */
static void
test_tso_one_segment_for_the_window(void **state)
{
	static struct tso_out o;
	struct gale_tcp_info info;
	struct gale_tcp_conn *c;
	uint32_t mss, s0, got = 0, frames = 0;

	(void)state;
	tso_restart(GALE_STACK_OFFLOAD_TSO, 0);
	c = tso_open_and_send(100000, &mss, &s0);
	assert_int_equal(mss, 1500u - 40u - 12u);
	gale_tcp_get_info(c, &info);
	while (tso_pop(&o)) {
		if (o.len == 0)
			continue;
		frames++;
		assert_true(o.tso);
		assert_int_equal(o.segsz, mss);
		assert_int_equal(o.seq, s0 + got);
		check_bytes(&o, s0);
		got += o.len;
	}
	assert_int_equal(frames, 1);
	assert_int_equal(got, info.cwnd);
	assert_int_equal(got % mss, 0);
	assert_int_equal(gale_stack_stats(th.s)->tcp_tso_tx, 1);
	gale_tcp_abort(c);
	th_drain();
}

/* A SACK shows the first MSS of a TSO segment lost: its retransmission is one plain frame of that
 * MSS, with the right bytes, and nothing the peer SACKed is sent again. */
static void
test_tso_retransmit_part_of_a_segment(void **state)
{
	static struct tso_out o;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	uint32_t mss, s0, sent = 0, i;

	(void)state;
	tso_restart(GALE_STACK_OFFLOAD_TSO, 0);
	c = tso_open_and_send(10u * 1448u, &mss, &s0);
	while (tso_pop(&o))
		sent += o.len;
	assert_int_equal(sent, 10u * mss);
	for (i = 0; i < 3; i++) {
		th_seg_init(&sg, PPORT, LPORT, PISN + 1, s0, TH_F_ACK);
		sg.nsack = 1;
		sg.sack[0][0] = s0 + mss;
		sg.sack[0][1] = s0 + (4 + 2 * i) * mss;
		th_input(&sg);
	}
	assert_int_equal(gale_stack_stats(th.s)->tcp_sack_recovery, 1);
	assert_true(tso_pop(&o));
	assert_false(o.tso);
	assert_int_equal(o.seq, s0);
	assert_int_equal(o.len, mss);
	check_bytes(&o, s0);
	while (tso_pop(&o))
		assert_true(o.len == 0 || o.seq >= s0 + 8u * mss);
	assert_true(gale_stack_stats(th.s)->tcp_rexmt_seg >= 1);
	gale_tcp_abort(c);
	th_drain();
}

/* net_tap cuts frames no longer than its MTU, Ethernet header included: the MSS leaves room for
 * it, and stays even. */
static void
test_tso_frame_limit_shrinks_the_mss(void **state)
{
	static struct tso_out o;
	struct gale_tcp_conn *c;
	uint32_t mss, s0;

	(void)state;
	tso_restart(GALE_STACK_OFFLOAD_TSO, 1500);
	c = tso_open_and_send(100000, &mss, &s0);
	assert_int_equal(mss, 1500u - 14u - 40u - 12u);
	while (tso_pop(&o)) {
		if (o.len == 0)
			continue;
		assert_true(o.tso);
		assert_int_equal(o.segsz, mss);
		assert_true(o.segsz + 14u + 20u + 32u <= 1500u);
		check_bytes(&o, s0);
	}
	gale_tcp_abort(c);
	th_drain();
}

/* Without TSO the stack segments to the MSS itself, whatever the window. */
static void
test_no_tso_frames_of_mss(void **state)
{
	static struct tso_out o;
	struct gale_tcp_conn *c;
	uint32_t mss, s0, got = 0, frames = 0;

	(void)state;
	tso_restart(0, 0);
	c = tso_open_and_send(100000, &mss, &s0);
	while (tso_pop(&o)) {
		if (o.len == 0)
			continue;
		frames++;
		assert_false(o.tso);
		assert_true(o.len <= mss);
		assert_int_equal(o.seq, s0 + got);
		check_bytes(&o, s0);
		got += o.len;
	}
	assert_int_equal(frames, got / mss);
	assert_true(frames >= 10);
	assert_int_equal(gale_stack_stats(th.s)->tcp_tso_tx, 0);
	gale_tcp_abort(c);
	th_drain();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tso_one_segment_for_the_window, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_tso_retransmit_part_of_a_segment, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_tso_frame_limit_shrinks_the_mss, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_no_tso_frames_of_mss, th_setup, th_teardown),
	};

	return cmocka_run_group_tests(tests, th_global_setup, th_global_teardown);
}
