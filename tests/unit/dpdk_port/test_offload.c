/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpdk_port offloads and port extras, on net_ring ports (no offloads: every checksum takes the
 * software path): discovery, tx checksum fallbacks for TCP and UDP in one and in two segments
 * (checked by an independent verification), rx checksum verdicts (software, and the NIC's flags
 * trusted when the offload is on), TSO refused without TSO, xstats by name, steering mode on a port
 * without RSS, and per-socket pools.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <gale/offload.h>
#include <gale/pool.h>
#include <gale/port.h>
#include <gale/steer.h>

#include "gale_test_eal.h"

/* RTE_IPV4 shifts a signed int: undefined for a first byte >= 128 (UBSan); this one does not. */
#define IPV4(a, b, c, d)                                                                           \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static const char *const vdevs[] = { "net_ring0", "net_ring1", NULL };
static struct rte_mempool *pool;

static int
setup(void **state)
{
	(void)state;
	if (gale_test_eal_init("0", vdevs) != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("off_pool", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               SOCKET_ID_ANY);
	return pool == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	return rte_eal_cleanup();
}

/* An IPv4 TCP or UDP frame asking for checksum offload the DPDK way; payload split over two
 * segments when split != 0. */
static struct rte_mbuf *
make_frame(uint8_t proto, unsigned int payload, unsigned int split)
{
	const unsigned int l4 =
	        proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) : sizeof(struct rte_udp_hdr);
	const unsigned int hdrs = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + l4;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *m2;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *p;
	unsigned int i, first = split != 0 ? split : payload;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, hdrs + first);
	memset(eth, 0, hdrs);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4 + payload);
	ip->src_addr = rte_cpu_to_be_32(IPV4(198, 18, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(IPV4(198, 18, 0, 2));
	p = (uint8_t *)eth + hdrs;
	for (i = 0; i < first; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	if (split != 0) {
		m2 = rte_pktmbuf_alloc(pool);
		assert_non_null(m2);
		p = (uint8_t *)rte_pktmbuf_append(m2, payload - split);
		for (i = split; i < payload; i++)
			p[i - split] = (uint8_t)(i * 7 + 3);
		assert_int_equal(rte_pktmbuf_chain(m, m2), 0);
	}
	m->l2_len = sizeof(*eth);
	m->l3_len = sizeof(*ip);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

		tcp->src_port = rte_cpu_to_be_16(40000);
		tcp->dst_port = rte_cpu_to_be_16(80);
		tcp->data_off = 5 << 4;
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		udp->src_port = rte_cpu_to_be_16(40000);
		udp->dst_port = rte_cpu_to_be_16(9);
		udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + payload);
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
		udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	}
	return m;
}

/* Independent check: linearise and verify both checksums with rte_ipv4_cksum / a plain one's
 * complement sum. */
static void
assert_cksums_good(const struct rte_mbuf *m)
{
	static uint8_t buf[4096];
	const struct rte_ipv4_hdr *ip;
	const uint8_t *d = rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m), buf);
	uint32_t sum = 0, len, i;

	assert_non_null(d);
	ip = (const struct rte_ipv4_hdr *)(d + sizeof(struct rte_ether_hdr));
	assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	len = rte_be_to_cpu_16(ip->total_length) - sizeof(*ip);
	/* Pseudo-header + L4 segment, summed by hand. */
	sum += (rte_be_to_cpu_32(ip->src_addr) >> 16) + (rte_be_to_cpu_32(ip->src_addr) & 0xffff);
	sum += (rte_be_to_cpu_32(ip->dst_addr) >> 16) + (rte_be_to_cpu_32(ip->dst_addr) & 0xffff);
	sum += ip->next_proto_id + len;
	for (i = 0; i < len; i += 2) {
		const uint8_t *b = (const uint8_t *)(ip + 1) + i;

		sum += (uint32_t)(b[0] << 8) | (i + 1 < len ? b[1] : 0);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		print_error("proto %u len %u segs %u pkt_len %u\n", ip->next_proto_id, len,
		            m->nb_segs, m->pkt_len);
	assert_int_equal(sum, 0xffff);
}

static void
test_tx_prepare_software(void **state)
{
	/* Every checksum in software; chains allowed (the linearising fallback has its own test).
	 */
	const struct gale_offloads none = { .multi_seg = true };
	const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct rte_mbuf *m[4];
	unsigned int i, k;

	(void)state;
	for (i = 0; i < 2; i++) {
		m[0] = make_frame(protos[i], 100, 0);
		m[1] = make_frame(protos[i], 1001, 333); /* odd length, split at an odd offset */
		m[2] = make_frame(protos[i], 0, 0);
		assert_int_equal(gale_offload_tx_prepare_burst(&none, m, 3), 3);
		for (k = 0; k < 3; k++) {
			assert_int_equal(m[k]->ol_flags &
			                         (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK),
			                 0);
			assert_cksums_good(m[k]);
			assert_int_equal(gale_offload_rx_cksum(&none, m[k]), 0);
		}
		/* One flipped payload byte: the software rx check sees it. */
		*rte_pktmbuf_mtod_offset(m[0], uint8_t *, rte_pktmbuf_data_len(m[0]) - 1) ^= 0x40;
		assert_int_equal(gale_offload_rx_cksum(&none, m[0]), -EBADMSG);
		/* A flipped byte in the second segment too. */
		*rte_pktmbuf_mtod(m[1]->next, uint8_t *) ^= 0x01;
		assert_int_equal(gale_offload_rx_cksum(&none, m[1]), -EBADMSG);
		rte_pktmbuf_free_bulk(m, 3);
	}
}

static void
test_tx_prepare_offloaded_and_errors(void **state)
{
	struct gale_offloads on = { .tx_ipv4_cksum = true, .tx_tcp_cksum = true };
	struct rte_mbuf *m[2];
	uint16_t phdr;

	(void)state;
	/* The port does it: the packet is left as asked (flags kept, pseudo-header sum in place).
	 */
	m[0] = make_frame(IPPROTO_TCP, 50, 0);
	phdr = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34)->cksum;
	assert_int_equal(gale_offload_tx_prepare(&on, m[0]), 0);
	assert_true((m[0]->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) != 0);
	assert_int_equal(rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34)->cksum, phdr);
	/* TSO asked of a port without TSO: refused, and the burst stops there. */
	m[1] = make_frame(IPPROTO_TCP, 50, 0);
	m[1]->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
	assert_int_equal(gale_offload_tx_prepare(&on, m[1]), -ENOTSUP);
	assert_int_equal(gale_offload_tx_prepare_burst(&on, m, 2), 1);
	on.tso = true;
	assert_int_equal(gale_offload_tx_prepare(&on, m[1]), 0);
	/* Bad header lengths. */
	m[1]->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	m[1]->l3_len = 10;
	assert_int_equal(gale_offload_tx_prepare(&on, m[1]), -EINVAL);
	rte_pktmbuf_free_bulk(m, 2);
}

static void
test_tx_linearize(void **state)
{
	const struct gale_offloads single = { .tx_ipv4_cksum = true, .tx_udp_cksum = true };
	const struct gale_offloads multi = { .multi_seg = true };
	struct rte_mbuf *m = make_frame(IPPROTO_UDP, 600, 101), *big;
	unsigned int i;

	(void)state;
	/* Chains stay chains for a port that sends them; are copied into one segment for one that
	 * does not. */
	assert_int_equal(gale_offload_tx_prepare(&multi, m), 0);
	assert_int_equal(m->nb_segs, 2);
	assert_cksums_good(m);
	m->ol_flags = RTE_MBUF_F_TX_IPV4; /* checksums already filled in */
	assert_int_equal(gale_offload_tx_prepare(&single, m), 0);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m));
	assert_cksums_good(m);
	rte_pktmbuf_free(m);
	/* Too big for one segment: refused, left to the caller. */
	big = make_frame(IPPROTO_UDP, 1500, 1000);
	for (i = 0; i < 2; i++) {
		struct rte_mbuf *more = rte_pktmbuf_alloc(pool);

		memset(rte_pktmbuf_append(more, 1000), 0, 1000);
		assert_int_equal(rte_pktmbuf_chain(big, more), 0);
	}
	assert_int_equal(gale_offload_tx_prepare(&single, big), -EMSGSIZE);
	rte_pktmbuf_free(big);
}

static void
test_rx_flags_trusted(void **state)
{
	const struct gale_offloads none = { 0 };
	const struct gale_offloads on = { .rx_ipv4_cksum = true,
		                          .rx_tcp_cksum = true,
		                          .rx_udp_cksum = true };
	struct rte_mbuf *m = make_frame(IPPROTO_UDP, 20, 0);

	(void)state;
	assert_int_equal(gale_offload_tx_prepare(&none, m), 0);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD;
	assert_int_equal(gale_offload_rx_cksum(&on, m), -EBADMSG);
	assert_int_equal(gale_offload_rx_cksum(&none, m),
	                 0); /* flags ignored when the offload is off */
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD;
	assert_int_equal(gale_offload_rx_cksum(&on, m), -EBADMSG);
	/* UNKNOWN: verified in software. */
	m->ol_flags = 0;
	assert_int_equal(gale_offload_rx_cksum(&on, m), 0);
	rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14)->time_to_live--;
	assert_int_equal(gale_offload_rx_cksum(&on, m), -EBADMSG);
	rte_pktmbuf_free(m);
}

static void
test_port_discovery_xstats_steer(void **state)
{
	const struct gale_port_conf conf = { .nb_queues = 2, .nb_rxd = 128, .nb_txd = 128 };
	const struct gale_port_conf need_rss = { .nb_queues = 2, .steer = GALE_STEER_RSS };
	const char *const names[] = { "rx_good_packets", "tx_good_packets", "no_such_counter",
		                      "rx_q1_packets" };
	struct gale_port port;
	struct gale_offloads off;
	struct gale_steer *s;
	struct rte_mbuf *m[8];
	uint64_t v[4];
	unsigned int i;
	char text[256];

	(void)state;
	assert_int_equal(gale_offload_discover(0, &off), 0);
	gale_offload_format(&off, text, sizeof(text));
	assert_non_null(strstr(text, "rx-cksum"));
	/* net_ring has no RSS: requiring it fails, auto falls back to software steering. */
	assert_int_equal(gale_port_setup(&port, 0, &need_rss), -ENOTSUP);
	assert_int_equal(gale_port_setup(&port, 0, &conf), 0);
	assert_false(port.rss);
	assert_int_equal(port.reta_size, 0);
	s = gale_port_steer_create(&port, 0);
	assert_non_null(s);
	assert_false(gale_steer_is_rss(s));
	gale_steer_free(s);
	for (i = 0; i < 8; i++) {
		m[i] = rte_pktmbuf_alloc(port.pool);
		memset(rte_pktmbuf_append(m[i], 64), 0, 64);
	}
	assert_int_equal(gale_port_tx_burst(&port, 1, m, 8), 8);
	assert_int_equal(gale_port_rx_burst(&port, 1, m, 8), 8);
	rte_pktmbuf_free_bulk(m, 8);
	assert_int_equal(gale_port_xstats_get(port.port_id, names, v, 4), 3);
	assert_int_equal(v[0], 8);
	assert_int_equal(v[1], 8);
	assert_true(v[2] == UINT64_MAX);
	assert_int_equal(v[3], 8);
	gale_port_close(&port);
}

static void
count_cb(const char *name, uint64_t value, void *arg)
{
	(void)name;
	(void)value;
	(*(unsigned int *)arg)++;
}

static void
test_pools(void **state)
{
	const struct gale_pool_conf conf = { .nb_mbufs = 1023, .cache = 32, .name = "tpool" };
	const struct gale_port_conf pconf = { .nb_queues = 1, .nb_rxd = 128, .nb_txd = 128 };
	struct gale_port port;
	unsigned int n = 0;

	(void)state;
	assert_true(gale_pool_numa_nodes() >= 1);
	assert_null(gale_pool_get(SOCKET_ID_ANY));
	assert_int_equal(gale_pool_init(&conf), 0);
	assert_non_null(gale_pool_get(SOCKET_ID_ANY));
	assert_ptr_equal(gale_pool_get((int)rte_socket_id()), gale_pool_get(SOCKET_ID_ANY));
	assert_int_equal(rte_mempool_avail_count(gale_pool_get(SOCKET_ID_ANY)), 1023);
	/* A port on a shared pool does not free it. */
	{
		struct gale_port_conf c = pconf;

		c.pool = gale_pool_get(SOCKET_ID_ANY);
		assert_int_equal(gale_port_setup(&port, 1, &c), 0);
		assert_false(port.own_pool);
		assert_true(gale_port_xstats_foreach(port.port_id, false, count_cb, &n) > 0);
		assert_true(n > 0);
		gale_port_close(&port);
	}
	assert_non_null(rte_mempool_lookup("tpool_s0"));
	gale_pool_fini();
	assert_null(gale_pool_get(SOCKET_ID_ANY));
}

/* The Internet checksum the slow, obvious way (RFC 1071): big-endian 16-bit words, a trailing odd
 * byte padded with zero, end-around carry; returned in the byte order gale_cksum_raw uses (the
 * sum's bytes as they would be stored in the packet, read as a host uint16_t). */
static uint16_t
ref_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	uint8_t be[2];
	uint16_t out;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	be[0] = (uint8_t)(sum >> 8);
	be[1] = (uint8_t)sum;
	memcpy(&out, be, sizeof(out));
	return out;
}

/* 0 and 0xffff are the same one's complement value (the reference never folds to 0 from a nonzero
 * sum either, but compare as values). */
static int
same_sum(uint16_t a, uint16_t b)
{
	return a == b || (a == 0xffff && b == 0) || (a == 0 && b == 0xffff);
}

static void
test_cksum_raw(void **state)
{
	static uint8_t buf[65536 + 16];
	static const size_t big[] = { 511, 1023, 1024, 1460, 1500, 8960, 9000, 9001, 65535, 65536 };
	size_t len, off, i;
	unsigned int fill;

	(void)state;
	for (fill = 0; fill < 3; fill++) {
		/* Random bytes, all ones (every add carries), and zeros. */
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = fill == 0 ? (uint8_t)rand() : fill == 1 ? 0xff : 0;
		for (off = 0; off < 8; off++) {
			for (len = 0; len <= 300; len++) {
				uint16_t got = gale_cksum_raw(buf + off, len);

				assert_true(same_sum(got, ref_cksum(buf + off, len)));
				/* Exactly DPDK's value, representation included. */
				assert_int_equal(got, __rte_raw_cksum_reduce(
				                              __rte_raw_cksum(buf + off, len, 0)));
			}
			for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
				assert_int_equal(gale_cksum_raw(buf + off, big[i]),
				                 __rte_raw_cksum_reduce(__rte_raw_cksum(buf + off, big[i], 0)));
				assert_true(same_sum(gale_cksum_raw(buf + off, big[i]),
				                     ref_cksum(buf + off, big[i])));
			}
		}
	}
	/* A nonzero sum never folds to 0: 0xffff words sum to 0xffff. */
	memset(buf, 0xff, 64);
	assert_int_equal(gale_cksum_raw(buf, 64), 0xffff);
	assert_int_equal(gale_cksum_raw(buf, 0), 0);
}

/* The chain sum equals the flat sum for any split: one boundary at every offset (odd ones
 * included), and many tiny segments of varying length; a short chain is refused. */
static void
test_cksum_chain(void **state)
{
	uint8_t flat[700];
	struct rte_mbuf *head, *seg, *prev;
	uint32_t split, off, len, pos, n;
	uint16_t sum;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(flat); i++)
		flat[i] = (uint8_t)rand();
	for (split = 1; split < 200; split++) {
		head = rte_pktmbuf_alloc(pool);
		seg = rte_pktmbuf_alloc(pool);
		assert_non_null(head);
		assert_non_null(seg);
		memcpy(rte_pktmbuf_append(head, (uint16_t)split), flat, split);
		memcpy(rte_pktmbuf_append(seg, (uint16_t)(200 - split)), flat + split, 200 - split);
		assert_int_equal(rte_pktmbuf_chain(head, seg), 0);
		for (off = 0; off < 5; off++) {
			len = 200 - off;
			assert_int_equal(gale_cksum_chain(head, off, len, &sum), 0);
			assert_int_equal(sum, gale_cksum_raw(flat + off, len));
			assert_int_equal(gale_cksum_chain(head, off, len - 3, &sum), 0);
			assert_int_equal(sum, gale_cksum_raw(flat + off, len - 3));
		}
		assert_int_equal(gale_cksum_chain(head, 1, 200, &sum), -1);
		rte_pktmbuf_free(head);
	}
	/* Segments of 1, 2, 3, ... 7, 1, 2, ... bytes. */
	head = NULL;
	prev = NULL;
	for (pos = 0, n = 1; pos < sizeof(flat); pos += n, n = n % 7 + 1) {
		uint32_t take = RTE_MIN(n, (uint32_t)sizeof(flat) - pos);

		seg = rte_pktmbuf_alloc(pool);
		assert_non_null(seg);
		memcpy(rte_pktmbuf_append(seg, (uint16_t)take), flat + pos, take);
		if (head == NULL)
			head = seg;
		else {
			prev->next = seg;
			head->nb_segs++;
			head->pkt_len += take;
		}
		prev = seg;
	}
	for (off = 0; off < 9; off++) {
		assert_int_equal(gale_cksum_chain(head, off, (uint32_t)sizeof(flat) - off, &sum), 0);
		assert_int_equal(sum, gale_cksum_raw(flat + off, sizeof(flat) - off));
	}
	rte_pktmbuf_free(head);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_prepare_software),
		cmocka_unit_test(test_tx_prepare_offloaded_and_errors),
		cmocka_unit_test(test_tx_linearize),
		cmocka_unit_test(test_rx_flags_trusted),
		cmocka_unit_test(test_port_discovery_xstats_steer),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_cksum_raw),
		cmocka_unit_test(test_cksum_chain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
