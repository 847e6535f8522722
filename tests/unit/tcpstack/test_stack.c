/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the stack instance below TCP: Ethernet II dispatch, ARP (replies, learning,
 * requests with retry and timeout, gratuitous ARP), IPv4 checks and ICMP (echo, protocol and port
 * unreachable, rate limit), on the captured-transmit fake port.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "tcp_helper.h"

static struct rte_mbuf *
arp_frame(uint16_t op, uint32_t sip, const struct rte_ether_addr *sha, uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(th.pool);
	struct rte_ether_hdr *eh =
	        (struct rte_ether_hdr *)rte_pktmbuf_append(m, 14 + sizeof(struct rte_arp_hdr));
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

	memset(eh->dst_addr.addr_bytes, 0xff, 6);
	rte_ether_addr_copy(sha, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(sha, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	memset(&ah->arp_data.arp_tha, 0, 6);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return m;
}

static void
test_arp_request_reply(void **state)
{
	const struct rte_ether_addr mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x33 } };
	struct rte_ether_addr got;
	struct th_out o;

	(void)state;
	th_input_mbuf(arp_frame(RTE_ARP_OP_REQUEST, 0xc6120033, &mac, TH_LOCAL_IP));
	assert_true(th_pop(&o));
	assert_true(o.arp);
	assert_int_equal(o.arp_op, RTE_ARP_OP_REPLY);
	assert_int_equal(o.arp_sip, TH_LOCAL_IP);
	assert_int_equal(o.arp_tip, 0xc6120033);
	assert_true(rte_is_same_ether_addr(&o.eth_dst, &mac));
	assert_int_equal(gale_stack_arp_lookup(th.s, 0xc6120033, &got), 0);
	assert_true(rte_is_same_ether_addr(&got, &mac));
	assert_int_equal(gale_stack_stats(th.s)->arp_reply_tx, 1);

	/* A request for someone else is not answered and teaches nothing new. */
	th_input_mbuf(arp_frame(RTE_ARP_OP_REQUEST, 0xc6120044, &mac, 0xc6120099));
	assert_false(th_pop(&o));
	assert_int_equal(gale_stack_arp_lookup(th.s, 0xc6120044, &got), -ENOENT);
	assert_int_equal(gale_stack_stats(th.s)->arp_drop_other, 1);
}

static void
test_arp_resolve_retry_timeout(void **state)
{
	const struct rte_ether_addr mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x55 } };
	struct gale_tcp_conn *c;
	struct th_out o;
	unsigned int reqs = 0;

	(void)state;
	/* A connect to an unknown neighbour sends an ARP request and holds the SYN. */
	assert_int_equal(gale_tcp_connect(th.s, 0xc6120055, 80, &th_cbs, NULL, &c), 0);
	assert_true(th_pop(&o));
	assert_true(o.arp);
	assert_int_equal(o.arp_op, RTE_ARP_OP_REQUEST);
	assert_int_equal(o.arp_tip, 0xc6120055);
	assert_false(th_pop(&o));
	/* Retry after arp_retry_us. */
	th_advance(th.conf.arp_retry_us + 1);
	while (th_pop(&o))
		reqs += o.arp;
	assert_int_equal(reqs, 1);
	/* The reply releases the held SYN. */
	th_input_mbuf(arp_frame(RTE_ARP_OP_REPLY, 0xc6120055, &mac, TH_LOCAL_IP));
	assert_true(th_pop(&o));
	assert_true(o.tcp);
	assert_int_equal(o.flags, TH_F_SYN);
	assert_true(rte_is_same_ether_addr(&o.eth_dst, &mac));
	gale_tcp_abort(c);
	th_drain();

	/* An address that never answers: requests stop after arp_retries and the held frame is
	 * counted. */
	assert_int_equal(gale_tcp_connect(th.s, 0xc6120066, 80, &th_cbs, NULL, &c), 0);
	/* (4 x 200 ms stays below the SYN's 1 s RTO, whose retransmission would start a new
	 * resolution) */
	for (int i = 0; i < 4; i++) {
		th_advance(th.conf.arp_retry_us + 1);
		th_drain();
	}
	assert_int_equal(gale_stack_stats(th.s)->arp_timeout, 1);
	assert_true(gale_stack_stats(th.s)->arp_hold_drop >= 1);
	gale_tcp_abort(c);
}

static void
test_arp_gratuitous(void **state)
{
	struct th_out o;

	(void)state;
	assert_int_equal(gale_stack_arp_announce(th.s), 0);
	assert_true(th_pop(&o));
	assert_true(o.arp);
	assert_int_equal(o.arp_sip, TH_LOCAL_IP);
	assert_int_equal(o.arp_tip, TH_LOCAL_IP);
	assert_true(rte_is_broadcast_ether_addr(&o.eth_dst));
}

static struct rte_mbuf *
ip_frame(uint8_t proto, uint16_t payload)
{
	struct th_seg sg;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;

	th_seg_init(&sg, 1000, 7, 1, 0, TH_F_SYN);
	m = th_build(&sg);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->next_proto_id = proto;
	(void)payload;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static void
test_ip_checks(void **state)
{
	const struct gale_stack_stats *st = gale_stack_stats(th.s);
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;
	struct th_out o;

	(void)state;
	m = ip_frame(IPPROTO_TCP, 0);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->hdr_checksum ^= 0x0101;
	th_input_mbuf(m);
	assert_int_equal(st->ip_drop_cksum, 1);

	m = ip_frame(IPPROTO_TCP, 0);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th_input_mbuf(m);
	assert_int_equal(st->ip_drop_frag, 1);

	m = ip_frame(IPPROTO_TCP, 0);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->dst_addr = rte_cpu_to_be_32(0xc6120077);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th_input_mbuf(m);
	assert_int_equal(st->ip_drop_dst, 1);

	m = ip_frame(IPPROTO_TCP, 0);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->version_ihl = 0x65;
	th_input_mbuf(m);
	assert_int_equal(st->ip_drop_version, 1);

	m = ip_frame(IPPROTO_TCP, 0);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->total_length = rte_cpu_to_be_16(2000);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th_input_mbuf(m);
	assert_int_equal(st->ip_drop_len, 1);

	m = ip_frame(IPPROTO_TCP, 0);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - 20));
	th_input_mbuf(m);
	assert_int_equal(st->ip_drop_short, 1);
	assert_false(th_pop(&o));

	/* Unknown protocol: counted, protocol unreachable sent. */
	th_input_mbuf(ip_frame(17, 0));
	assert_int_equal(st->ip_drop_proto, 1);
	assert_true(th_pop(&o));
	assert_true(o.icmp);
	assert_int_equal(o.icmp_type, 3);
	assert_int_equal(o.icmp_code, 2);
	assert_int_equal(o.dst, TH_PEER_IP);

	/* Frames for another MAC and unknown ethertypes are dropped and counted. */
	m = ip_frame(IPPROTO_TCP, 0);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes[5] = 0x77;
	th_input_mbuf(m);
	assert_int_equal(st->eth_drop_dst, 1);
	m = ip_frame(IPPROTO_TCP, 0);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type = rte_cpu_to_be_16(0x86dd);
	th_input_mbuf(m);
	assert_int_equal(st->eth_drop_type, 1);
}

static struct rte_mbuf *
echo_request(uint16_t id, uint16_t seq, uint32_t len)
{
	struct rte_mbuf *m = ip_frame(IPPROTO_ICMP, 0);
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	uint32_t i;

	rte_pktmbuf_reset(m);
	rte_pktmbuf_append(m, (uint16_t)(14 + 20 + 8 + len));
	{
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

		rte_ether_addr_copy(&th_local_mac, &eh->dst_addr);
		rte_ether_addr_copy(&th_peer_mac, &eh->src_addr);
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	}
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	memset(ip, 0, 20);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(TH_PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(TH_LOCAL_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_code = 0;
	ic->icmp_ident = rte_cpu_to_be_16(id);
	ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
	for (i = 0; i < len; i++)
		((uint8_t *)(ic + 1))[i] = th_pattern(i);
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, 8 + len);
	return m;
}

static void
test_icmp_echo(void **state)
{
	const struct gale_stack_stats *st = gale_stack_stats(th.s);
	struct rte_mbuf *m;
	struct th_out o;
	uint32_t i;

	(void)state;
	th_input_mbuf(echo_request(7, 9, 56));
	assert_true(th_pop(&o));
	assert_true(o.icmp);
	assert_int_equal(o.icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(o.dst, TH_PEER_IP);
	assert_int_equal(o.len, 56);
	for (i = 0; i < 56; i++)
		assert_int_equal(o.data[i], th_pattern(i));
	/* Corrupted checksum: dropped, counted. */
	m = echo_request(7, 10, 56);
	rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 20 + 8)[3] ^= 0xff;
	th_input_mbuf(m);
	assert_false(th_pop(&o));
	assert_int_equal(st->icmp_drop_cksum, 1);
}

static void
test_icmp_rate_limit(void **state)
{
	const struct gale_stack_stats *st;
	unsigned int i, replies = 0;
	struct th_out o;

	(void)state;
	th_stack_stop();
	th_conf_default(&th.conf);
	th.conf.icmp_rate = 10;
	th_stack_start();
	st = gale_stack_stats(th.s);
	for (i = 0; i < 50; i++)
		th_input_mbuf(echo_request(1, (uint16_t)i, 8));
	while (th_pop(&o))
		replies += o.icmp;
	assert_int_equal(replies, 10);
	assert_int_equal(st->icmp_rate_limited, 40);
	/* Tokens come back with time. */
	th_advance(1000000);
	th_input_mbuf(echo_request(1, 99, 8));
	assert_true(th_pop(&o));
	assert_true(o.icmp);
}

static void
test_tcp_closed_port_rst(void **state)
{
	struct th_seg sg;
	struct th_out o;

	(void)state;
	th_seg_init(&sg, 4000, 81, 1000, 0, TH_F_SYN);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_RST | TH_F_ACK);
	assert_int_equal(o.seq, 0);
	assert_int_equal(o.ack, 1001);
	/* ACK to nothing: RST with seq = their ack. */
	th_seg_init(&sg, 4000, 81, 1000, 777, TH_F_ACK);
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_RST);
	assert_int_equal(o.seq, 777);
	/* A RST is never answered. */
	th_seg_init(&sg, 4000, 81, 1000, 777, TH_F_RST);
	th_input(&sg);
	assert_false(th_pop(&o));
	assert_int_equal(gale_stack_stats(th.s)->tcp_drop_noport, 3);
}

static void
test_stat_names(void **state)
{
	(void)state;
	assert_string_equal(gale_stack_stat_names[0], "eth_rx");
	assert_string_equal(gale_stack_stat_names[GALE_STACK_NB_STATS - 1], "tx_drop_stuck");
}

/*
 * A frame the device refuses for good (here the fake port refuses ARP) must not block the tx queue
 * forever: it stays at the head, with everything behind it, only until it has been refused
 * GALE_STACK_TX_STUCK_TRIES times over GALE_STACK_TX_STUCK_US; then it is dropped and counted and
 * the rest goes out in order. A refusal that ends sooner loses nothing.
 */
static void
test_tx_refused_head(void **state)
{
	const struct gale_stack_stats *st = gale_stack_stats(th.s);
	struct th_out o;
	unsigned int i;

	(void)state;
	th.refuse_arp = true;
	assert_int_equal(gale_stack_arp_announce(th.s), 0);
	for (i = 0; i < 3; i++)
		th_input_mbuf(echo_request(7, (uint16_t)i, 56));
	assert_int_equal(gale_stack_tx_pending(th.s), 4);
	/* Many flushes within the period, and the period passing with too few flushes: kept. */
	for (i = 0; i < 4 * GALE_STACK_TX_STUCK_TRIES; i++)
		assert_int_equal(gale_stack_flush(th.s), 0);
	th_advance(GALE_STACK_TX_STUCK_US / 2);
	assert_int_equal(gale_stack_flush(th.s), 0);
	assert_int_equal(gale_stack_tx_pending(th.s), 4);
	assert_int_equal(st->tx_drop_stuck, 0);
	/* The device takes it after all: nothing lost. */
	th.refuse_arp = false;
	assert_true(th_pop(&o));
	assert_true(o.arp);
	for (i = 0; i < 3; i++) {
		assert_true(th_pop(&o));
		assert_true(o.icmp);
	}
	assert_int_equal(st->tx_drop_stuck, 0);

	/* Refused for good: dropped once both bounds pass, and what waited behind it goes out. */
	th.refuse_arp = true;
	assert_int_equal(gale_stack_arp_announce(th.s), 0);
	for (i = 0; i < 3; i++)
		th_input_mbuf(echo_request(7, (uint16_t)(10 + i), 56));
	for (i = 0; i < GALE_STACK_TX_STUCK_TRIES; i++)
		assert_int_equal(gale_stack_flush(th.s), 0);
	th_advance(GALE_STACK_TX_STUCK_US - 1);
	assert_int_equal(gale_stack_flush(th.s), 0);
	assert_int_equal(gale_stack_tx_pending(th.s), 4);
	th_advance(1);
	assert_int_equal(gale_stack_flush(th.s), 3);
	assert_int_equal(gale_stack_tx_pending(th.s), 0);
	assert_int_equal(st->tx_drop_stuck, 1);
	for (i = 0; i < 3; i++) {
		assert_true(th_pop(&o));
		assert_true(o.icmp);
		assert_int_equal(o.len, 56);
	}
	assert_false(th_pop(&o));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_request_reply, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_arp_resolve_retry_timeout, th_setup,
		                                th_teardown),
		cmocka_unit_test_setup_teardown(test_arp_gratuitous, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ip_checks, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_echo, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_icmp_rate_limit, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_closed_port_rst, th_setup, th_teardown),
		cmocka_unit_test(test_stat_names),
		cmocka_unit_test_setup_teardown(test_tx_refused_head, th_setup, th_teardown),
	};

	return cmocka_run_group_tests(tests, th_global_setup, th_global_teardown);
}
