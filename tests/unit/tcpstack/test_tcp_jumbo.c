/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Segments larger than one packet buffer (jumbo frames, e.g. a 9000-byte MTU on memif with the
 * default 2 KiB buffers): what the stack sends is a chain of buffers with headers and the first
 * payload bytes in the first, a right checksum over the whole chain and the send buffer's bytes in
 * order; what it receives may be a chain split anywhere after the headers, in order or out of
 * order, and arrives intact. With conf.tx_zerocopy, segments are chains of indirect mbufs on the
 * send buffer's. Frames are read here through rte_pktmbuf_read, since th_pop parses
 * single-buffer frames only.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_helper.h"

#define LPORT 7
#define PPORT 40000
#define PISN  1000u
#define MTU   9000u
#define FRAME (sizeof(struct rte_ether_hdr) + MTU)

/* A frame the stack sent, linearised and checked: IPv4 and TCP checksums, lengths. */
struct jumbo_out {
	uint16_t nb_segs;
	uint32_t seq, ack, len;
	uint8_t flags;
	uint8_t data[MTU];
};

static bool
jumbo_pop(struct jumbo_out *o)
{
	static uint8_t frame[FRAME + 64];
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *tcp;
	struct rte_mbuf *m;
	uint32_t sum, thl, total;

	ip = th_pop_chain(&m, frame, sizeof(frame));
	if (ip == NULL)
		return false;
	o->nb_segs = m->nb_segs;
	assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	total = rte_be_to_cpu_16(ip->total_length);
	assert_true(total <= MTU);
	tcp = (const struct rte_tcp_hdr *)(ip + 1);
	sum = (uint32_t)rte_raw_cksum(tcp, total - sizeof(*ip)) + rte_ipv4_phdr_cksum(ip, 0);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
	thl = (tcp->data_off >> 4) * 4u;
	o->seq = rte_be_to_cpu_32(tcp->sent_seq);
	o->ack = rte_be_to_cpu_32(tcp->recv_ack);
	o->flags = tcp->tcp_flags;
	o->len = total - (uint32_t)sizeof(*ip) - thl;
	memcpy(o->data, (const uint8_t *)tcp + thl, o->len);
	rte_pktmbuf_free(m);
	return true;
}

/* Handshake from a peer announcing a 9000-byte MTU's MSS, window scaling, SACK and (if ts)
 * timestamps. */
static struct gale_tcp_conn *
jumbo_open(bool ts, uint32_t *iss, uint32_t *tsval)
{
	struct th_seg sg;
	struct th_out o;

	th_listen(LPORT);
	th_seg_init(&sg, PPORT, LPORT, PISN, 0, TH_F_SYN);
	sg.mss = MTU - 40;
	sg.ws = 7;
	sg.sackperm = true;
	sg.ts = ts;
	sg.tsval = 1000;
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_SYN | TH_F_ACK);
	assert_int_equal(o.mss, MTU - 40); /* clamped to the stack's MTU, not to a buffer */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, o.seq + 1, TH_F_ACK);
	sg.ts = ts;
	sg.tsval = 1001;
	sg.tsecr = o.tsval;
	th_input(&sg);
	assert_non_null(th.accepted);
	*iss = o.seq;
	*tsval = o.tsval;
	return th.accepted;
}

static void
jumbo_restart(void)
{
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.mtu = MTU;
	th.conf.sndbuf = 1u << 20;
	th.conf.rcvbuf = 1u << 20;
	th_stack_start();
}

/* Full segments span five buffers; every byte of the send buffer goes out once, in order. */
static void
test_tx_chained_segments(void **state)
{
	const uint32_t total = 3u * (MTU - 40u - 12u) + 100u; /* 3 full segments (TS) and a tail */
	static struct jumbo_out o;
	struct gale_tcp_conn *c;
	uint32_t iss, tsval, got = 0, i, full = 0, rounds;
	struct th_seg sg;

	(void)state;
	jumbo_restart();
	c = jumbo_open(true, &iss, &tsval);
	assert_int_equal(gale_tcp_send(c, th_payload(total, 0)), 0);
	for (rounds = 0; got < total && rounds < 10; rounds++) {
		while (jumbo_pop(&o)) {
			if (o.len == 0)
				continue;
			assert_int_equal(o.seq, iss + 1 + got);
			assert_true(o.len <= MTU - 40u - 12u);
			if (o.len == MTU - 40u - 12u) {
				full++;
				/* 2 KiB buffers: 9012 bytes of frame take five. */
				assert_true(o.nb_segs >= 5);
			}
			for (i = 0; i < o.len; i++)
				if (o.data[i] != th_pattern(got + i))
					fail_msg("byte %u of the stream: got %u want %u", got + i,
					         o.data[i], th_pattern(got + i));
			got += o.len;
		}
		/* The peer acknowledges everything so far; cwnd opens. */
		th_seg_init(&sg, PPORT, LPORT, PISN + 1, iss + 1 + got, TH_F_ACK);
		sg.ts = true;
		sg.tsval = 1002 + rounds;
		sg.tsecr = tsval;
		th_input(&sg);
	}
	assert_int_equal(got, total);
	assert_int_equal(full, 3);
	gale_tcp_abort(c);
	th_drain();
}

/* conf.tx_zerocopy: segments are headers plus indirect mbufs on the send buffer's; the bytes,
 * the checksums and a retransmission after a timeout are right, and every buffer comes back (the
 * teardown checks the pool) although the acked send buffer was freed while frames held it. */
static void
test_tx_zerocopy(void **state)
{
	const uint32_t total = 5000, mss = 1460 - 12;
	static struct jumbo_out o;
	struct gale_tcp_conn *c;
	struct th_seg sg;
	struct th_out ob;
	uint32_t iss, got = 0, i, rexmit = 0;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.tx_zerocopy = true;
	th_stack_start();
	c = th_passive_open(LPORT, PPORT, PISN, true, &ob);
	iss = ob.seq;
	/* 1000-byte buffers: every full segment references two or three of them. */
	assert_int_equal(gale_tcp_send(c, th_payload(total, 0)), 0);
	while (jumbo_pop(&o)) {
		if (o.len == 0)
			continue;
		assert_int_equal(o.seq, iss + 1 + got);
		assert_true(o.nb_segs >= 2);
		assert_true(o.len <= mss);
		for (i = 0; i < o.len; i++)
			if (o.data[i] != th_pattern(got + i))
				fail_msg("byte %u: got %u want %u", got + i, o.data[i],
				         th_pattern(got + i));
		got += o.len;
	}
	assert_int_equal(got, total);
	/* The peer acknowledges the first segment only; the rest is sent again after the RTO, from
	 * the same buffers. */
	th_seg_init(&sg, PPORT, LPORT, PISN + 1, iss + 1 + mss, TH_F_ACK);
	sg.ts = true;
	sg.tsval = 2000;
	sg.tsecr = ob.tsval;
	th_input(&sg);
	th_drain();
	th_advance(2u * th.conf.rto_init_us);
	while (jumbo_pop(&o)) {
		if (o.len == 0)
			continue;
		/* A tail loss probe (RFC 8985) sends the last segment again first. */
		assert_true(o.seq == iss + 1 + mss || o.seq + o.len == iss + 1 + total);
		for (i = 0; i < o.len; i++)
			if (o.data[i] != th_pattern(o.seq - iss - 1 + i))
				fail_msg("retransmitted byte %u wrong", o.seq - iss - 1 + i);
		if (o.seq == iss + 1 + mss)
			rexmit++;
	}
	assert_true(rexmit >= 1);
	gale_tcp_abort(c);
	th_drain();
}

/* The frame of a data segment from the peer, split into buffers of the given sizes (the first
 * holding at least the headers; the last size repeats). */
static struct rte_mbuf *
jumbo_chain(uint32_t seq, uint32_t ack, uint32_t off, uint32_t len, const uint32_t *cuts,
            unsigned int ncuts)
{
	static uint8_t frame[FRAME];
	const uint32_t hl = sizeof(struct rte_ether_hdr) + 20 + 20, total = hl + len;
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);
	struct rte_mbuf *head = NULL, *m;
	uint32_t i, at = 0, n;
	unsigned int k = 0;

	assert_true(total <= sizeof(frame));
	memset(frame, 0, hl);
	rte_ether_addr_copy(&th_local_mac, &eh->dst_addr);
	rte_ether_addr_copy(&th_peer_mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(total - sizeof(*eh)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(TH_PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(TH_LOCAL_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->src_port = rte_cpu_to_be_16(PPORT);
	tcp->dst_port = rte_cpu_to_be_16(LPORT);
	tcp->sent_seq = rte_cpu_to_be_32(seq);
	tcp->recv_ack = rte_cpu_to_be_32(ack);
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = TH_F_ACK;
	tcp->rx_win = rte_cpu_to_be_16(65535);
	for (i = 0; i < len; i++)
		frame[hl + i] = th_pattern(off + i);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	while (at < total) {
		n = cuts[k < ncuts ? k : ncuts - 1];
		k++;
		n = n < total - at ? n : total - at;
		m = rte_pktmbuf_alloc(th.pool);
		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), frame + at, n);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
		at += n;
	}
	return head;
}

static void
jumbo_expect(struct gale_tcp_conn *c, uint32_t off, uint32_t len)
{
	const struct rte_mbuf *rc, *seg;
	uint32_t have, i, at = 0;

	rc = gale_tcp_recv_peek(c, &have);
	assert_non_null(rc);
	assert_int_equal(have, len);
	for (seg = rc; seg != NULL && at < len; seg = seg->next)
		for (i = 0; i < seg->data_len && at < len; i++, at++)
			if (rte_pktmbuf_mtod(seg, const uint8_t *)[i] != th_pattern(off + at))
				fail_msg("received byte %u wrong", off + at);
	assert_int_equal(at, len);
	gale_tcp_consume(c, len);
}

/* Chained frames from the peer: in order, and out of order through reassembly. */
static void
test_rx_chained_segments(void **state)
{
	static const uint32_t cuts_a[] = { 54 + 7, 1, 1000,
		                           2048 };    /* headers + 7, then odd pieces */
	static const uint32_t cuts_b[] = { 54, 333 }; /* headers alone first */
	struct gale_tcp_conn *c;
	uint32_t iss, tsval, len, seq = PISN + 1;
	const uint32_t seg = 8000;

	(void)state;
	jumbo_restart();
	c = jumbo_open(false, &iss, &tsval);
	th_input_mbuf(jumbo_chain(seq, iss + 1, 0, seg, cuts_a, RTE_DIM(cuts_a)));
	th_drain();
	jumbo_expect(c, 0, seg);
	/* Out of order: the second segment first (held by reassembly), then the first. */
	th_input_mbuf(jumbo_chain(seq + 2 * seg, iss + 1, 2 * seg, seg, cuts_b, RTE_DIM(cuts_b)));
	th_drain();
	assert_null(gale_tcp_recv_peek(c, &len));
	th_input_mbuf(jumbo_chain(seq + seg, iss + 1, seg, seg, cuts_a, RTE_DIM(cuts_a)));
	th_drain();
	jumbo_expect(c, seg, 2 * seg);
	gale_tcp_abort(c);
	th_drain();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_chained_segments, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rx_chained_segments, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tx_zerocopy, th_setup, th_teardown),
	};

	return cmocka_run_group_tests(tests, th_global_setup, th_global_teardown);
}
