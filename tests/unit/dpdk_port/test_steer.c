/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpdk_port steering: the software Toeplitz table against DPDK's rte_softrss, the symmetry of
 * gale's key, the source-port picker (10,000 picked ports, each checked with rte_softrss against
 * the RETA), the owner of crafted packets, and the forwarding rings (who keeps what, who drains
 * what, drops when a ring is full, and every mbuf back in the pool at the end).
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
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_thash.h>
#include <rte_udp.h>

#include <gale/steer.h>

#include "gale_test_eal.h"

/* RTE_IPV4 shifts a signed int: undefined for a first byte >= 128 (UBSan); this one does not. */
#define IPV4(a, b, c, d)                                                                           \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static struct rte_mempool *pool;
static uint64_t rng = 0x1234567887654321ull;

static uint32_t
rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* The reference: DPDK's own software Toeplitz over the tuple as the NIC sees it. */
static uint32_t
ref_hash(const uint8_t *key, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	struct rte_ipv4_tuple t = { .src_addr = src, .dst_addr = dst };

	t.sport = sport;
	t.dport = dport;
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, key);
}

static int
setup(void **state)
{
	(void)state;
	if (gale_test_eal_init("0", NULL) != 0)
		return -1;
	pool = rte_pktmbuf_pool_create("steer_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
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

static void
test_key_symmetric(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < GALE_STEER_KEY_LEN; i++)
		assert_int_equal(gale_steer_rss_key[i], i % 2 == 0 ? 0x6d : 0x5a);
	for (i = 0; i < 10000; i++) {
		const uint32_t a = rnd32(), b = rnd32();
		const uint16_t pa = (uint16_t)rnd32(), pb = (uint16_t)rnd32();

		assert_int_equal(ref_hash(gale_steer_rss_key, a, b, pa, pb),
		                 ref_hash(gale_steer_rss_key, b, a, pb, pa));
	}
}

static void
test_hash_matches_softrss(void **state)
{
	uint8_t key[GALE_STEER_KEY_LEN];
	const struct gale_steer_conf conf = { .nb_workers = 3, .key = key };
	struct gale_steer *s;
	unsigned int i;

	(void)state;
	/* A random (asymmetric) key, so the table is checked bit by bit, not only on a repeating
	 * pattern. */
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)rnd32();
	s = gale_steer_create(&conf);
	assert_non_null(s);
	for (i = 0; i < 20000; i++) {
		const uint32_t a = rnd32(), b = rnd32();
		const uint16_t pa = (uint16_t)rnd32(), pb = (uint16_t)rnd32();
		const uint32_t h = gale_steer_hash_v4(s, a, b, pa, pb);

		assert_int_equal(h, ref_hash(key, a, b, pa, pb));
		assert_int_equal(gale_steer_owner_hash(s, h), (h & 127) % 3);
	}
	gale_steer_free(s);
}

/* 10,000 picked source ports, every one checked with rte_softrss: the reply lands on the requested
 * queue. */
static void
check_picker(uint16_t nb_workers, uint16_t reta_size, const uint16_t *reta, const uint8_t *key)
{
	const struct gale_steer_conf conf = {
		.nb_workers = nb_workers, .reta_size = reta_size, .reta = reta, .key = key
	};
	struct gale_steer *s = gale_steer_create(&conf);
	const uint16_t lo = 32768, hi = 60999;
	unsigned int picked = 0, tries = 0, per_worker[GALE_STEER_MAX_WORKERS] = { 0 };

	assert_non_null(s);
	while (picked < 10000) {
		const uint16_t worker = (uint16_t)(tries++ % nb_workers);
		const uint32_t local = IPV4(198, 18, 0, 1),
		               remote = IPV4(198, 19, rnd32() & 0xff, 1 + tries % 250);
		const uint16_t rport = (uint16_t)(1 + rnd32() % 65535);
		uint16_t start = (uint16_t)(lo + rnd32() % (hi - lo + 1)), port, i;

		/* A few consecutive ports per connection setup, as a caller skipping ports in use
		 * would ask. */
		for (i = 0; i < 5 && picked < 10000; i++) {
			uint32_t h;
			uint16_t idx;

			assert_int_equal(gale_steer_pick_sport(s, worker, local, remote, rport, lo,
			                                       hi, start, &port),
			                 0);
			assert_true(port >= lo && port <= hi);
			h = ref_hash(key != NULL ? key : gale_steer_rss_key, remote, local, rport,
			             port);
			idx = (uint16_t)(h & (reta_size - 1));
			assert_int_equal(reta != NULL ? reta[idx] : idx % nb_workers, worker);
			/* Symmetric key: our outgoing packets hash the same, so the whole flow is
			 * the worker's. */
			if (key == NULL)
				assert_int_equal(
				        ref_hash(gale_steer_rss_key, local, remote, port, rport),
				        h);
			per_worker[worker]++;
			picked++;
			start = port == hi ? lo : (uint16_t)(port + 1);
		}
	}
	for (tries = 0; tries < nb_workers; tries++)
		assert_true(per_worker[tries] + 5 >= 10000u / nb_workers);
	gale_steer_free(s);
}

static void
test_pick_sport(void **state)
{
	uint8_t key[GALE_STEER_KEY_LEN];
	uint16_t reta[512];
	unsigned int i;

	(void)state;
	check_picker(2, 128, NULL, NULL);
	check_picker(4, 512, NULL, NULL);
	/* Any configured key (here a random, asymmetric one) works the same way for the replies. */
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)rnd32();
	check_picker(2, 128, NULL, key);
	/* An uneven RETA, as an operator might program to weight workers. */
	for (i = 0; i < 64; i++)
		reta[i] = (uint16_t)(rnd32() % 3);
	reta[0] = 0, reta[1] = 1, reta[2] = 2;
	check_picker(3, 64, reta, NULL);
}

static void
test_pick_sport_errors(void **state)
{
	const uint16_t reta[4] = { 0, 1, 0, 1 };
	const struct gale_steer_conf conf = { .nb_workers = 3, .reta_size = 4, .reta = reta };
	struct gale_steer *s = gale_steer_create(&conf);
	uint16_t port;

	(void)state;
	assert_non_null(s);
	/* Worker 2 has no RETA entry: no port can steer to it. */
	assert_int_equal(gale_steer_pick_sport(s, 2, 1, 2, 80, 1024, 65535, 1024, &port), -ENOENT);
	assert_int_equal(gale_steer_pick_sport(s, 3, 1, 2, 80, 1024, 65535, 1024, &port), -EINVAL);
	assert_int_equal(gale_steer_pick_sport(s, 0, 1, 2, 80, 2000, 1000, 1024, &port), -EINVAL);
	/* A one-port range: it either maps to the worker or not, and the answer agrees with
	 * rte_softrss. */
	for (port = 0; port < 100; port++) {
		const uint16_t p = (uint16_t)(5000 + port);
		const uint16_t want = reta[ref_hash(gale_steer_rss_key, 2, 1, 80, p) & 3];
		uint16_t got;

		assert_int_equal(gale_steer_pick_sport(s, want, 1, 2, 80, p, p, p, &got), 0);
		assert_int_equal(got, p);
		assert_int_equal(
		        gale_steer_pick_sport(s, (uint16_t)(1 - want), 1, 2, 80, p, p, p, &got),
		        -ENOENT);
	}
	gale_steer_free(s);
	assert_null(gale_steer_create(NULL));
	{
		const struct gale_steer_conf bad = { .nb_workers = 2, .reta_size = 100 };
		const struct gale_steer_conf bad_reta = { .nb_workers = 2,
			                                  .reta_size = 4,
			                                  .reta = reta + 0 };
		const uint16_t r3[4] = { 0, 1, 2, 0 };
		const struct gale_steer_conf bad_entry = { .nb_workers = 2,
			                                   .reta_size = 4,
			                                   .reta = r3 };

		assert_null(gale_steer_create(&bad));
		s = gale_steer_create(&bad_reta);
		assert_non_null(s);
		gale_steer_free(s);
		assert_null(gale_steer_create(&bad_entry));
	}
	gale_steer_free(NULL);
}

static struct rte_mbuf *
make_udp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto, uint16_t frag)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) +
	                                                            sizeof(*udp) + 8);
	memset(eth, 0, rte_pktmbuf_data_len(m));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->next_proto_id = proto;
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + 8);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	return m;
}

static void
test_owner_mbuf(void **state)
{
	const struct gale_steer_conf conf = { .nb_workers = 4 };
	struct gale_steer *s = gale_steer_create(&conf);
	struct rte_mbuf *m;
	unsigned int i;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < 200; i++) {
		const uint32_t a = rnd32(), b = rnd32();
		const uint16_t pa = (uint16_t)rnd32(), pb = (uint16_t)rnd32();
		const uint8_t proto = i % 2 ? IPPROTO_TCP : IPPROTO_UDP;

		m = make_udp(a, b, pa, pb, proto, 0);
		assert_int_equal(gale_steer_owner_mbuf(s, m),
		                 (ref_hash(gale_steer_rss_key, a, b, pa, pb) & 127) % 4);
		rte_pktmbuf_free(m);
	}
	/* Non-flow: ICMP, a fragment, ARP, a runt. */
	m = make_udp(1, 2, 3, 4, IPPROTO_ICMP, 0);
	assert_int_equal(gale_steer_owner_mbuf(s, m), GALE_STEER_NONE);
	rte_pktmbuf_free(m);
	m = make_udp(1, 2, 3, 4, IPPROTO_UDP, RTE_IPV4_HDR_MF_FLAG);
	assert_int_equal(gale_steer_owner_mbuf(s, m), GALE_STEER_NONE);
	rte_pktmbuf_free(m);
	m = make_udp(1, 2, 3, 4, IPPROTO_UDP, 0);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type =
	        rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	assert_int_equal(gale_steer_owner_mbuf(s, m), GALE_STEER_NONE);
	rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - 20);
	assert_int_equal(gale_steer_owner_mbuf(s, m), GALE_STEER_NONE);
	rte_pktmbuf_free(m);
	gale_steer_free(s);
}

static void
test_forwarding(void **state)
{
	const struct gale_steer_conf conf = { .nb_workers = 3, .ring_size = 64 };
	struct gale_steer *s = gale_steer_create(&conf);
	struct rte_mbuf *pkts[96], *got[128];
	uint16_t owner[96], kept, n, i, w;
	unsigned int full = rte_mempool_avail_count(pool), expect[3] = { 0 }, seen;
	struct gale_steer_stats st;

	(void)state;
	assert_non_null(s);
	assert_false(gale_steer_is_rss(s));
	/* 96 packets of random flows plus a few non-flow ones, received by worker 1 (more than one
	 * burst). */
	for (i = 0; i < 96; i++) {
		pkts[i] = make_udp(rnd32(), rnd32(), (uint16_t)rnd32(), (uint16_t)rnd32(),
		                   i % 10 == 9 ? IPPROTO_ICMP : IPPROTO_UDP, 0);
		owner[i] = gale_steer_owner_mbuf(s, pkts[i]);
		expect[owner[i] == GALE_STEER_NONE ? 1 : owner[i]]++;
	}
	kept = gale_steer_rx_burst(s, 1, pkts, 96);
	assert_int_equal(kept, expect[1]);
	for (i = 0; i < kept; i++) {
		const uint16_t o = gale_steer_owner_mbuf(s, pkts[i]);

		assert_true(o == 1 || o == GALE_STEER_NONE);
	}
	assert_int_equal(gale_steer_stats_get(s, 1, &st), 0);
	assert_int_equal(st.owned + st.local, kept);
	assert_int_equal(st.forwarded, expect[0] + expect[2]);
	assert_int_equal(st.fwd_dropped, 0);
	rte_pktmbuf_free_bulk(pkts, kept);
	for (w = 0; w < 3; w += 2) {
		assert_int_equal(gale_steer_pending(s, w), expect[w]);
		seen = 0;
		while ((n = gale_steer_drain(s, w, got, 7)) != 0) {
			for (i = 0; i < n; i++)
				assert_int_equal(gale_steer_owner_mbuf(s, got[i]), w);
			seen += n;
			rte_pktmbuf_free_bulk(got, n);
		}
		assert_int_equal(seen, expect[w]);
		assert_int_equal(gale_steer_stats_get(s, w, &st), 0);
		assert_int_equal(st.drained, expect[w]);
	}
	assert_int_equal(gale_steer_drain(s, 1, got, 32), 0);

	/* A full ring: 200 packets for worker 2 from worker 0, ring of 64 (63 usable) -> drops,
	 * counted. */
	for (i = 0, n = 0; n < 96; i++) {
		struct rte_mbuf *m = make_udp(rnd32(), rnd32(), (uint16_t)rnd32(),
		                              (uint16_t)rnd32(), IPPROTO_TCP, 0);

		if (gale_steer_owner_mbuf(s, m) == 2)
			pkts[n++] = m;
		else
			rte_pktmbuf_free(m);
	}
	assert_int_equal(gale_steer_room(s, 0), 63);
	assert_int_equal(gale_steer_rx_burst(s, 0, pkts, 96), 0);
	assert_int_equal(gale_steer_room(s, 0), 0);
	assert_int_equal(gale_steer_room(s, 2), 63);
	assert_int_equal(gale_steer_stats_get(s, 0, &st), 0);
	assert_int_equal(st.forwarded, 63);
	assert_int_equal(st.fwd_dropped, 96 - 63);
	assert_int_equal(gale_steer_pending(s, 2), 63);
	/* Free with packets still in a ring: they go back to the pool. */
	gale_steer_free(s);
	assert_int_equal(rte_mempool_avail_count(pool), full);
	assert_int_equal(gale_steer_stats_get(NULL, 0, &st), -EINVAL);
}

static void
test_forward_and_broadcast(void **state)
{
	const struct gale_steer_conf conf = { .nb_workers = 3, .ring_size = 8 };
	struct gale_steer *s = gale_steer_create(&conf);
	const unsigned int full = rte_mempool_avail_count(pool);
	struct rte_mbuf *pkts[10], *got[16], *m, *tail;
	struct gale_steer_stats st;
	unsigned int i;

	(void)state;
	assert_non_null(s);
	/* Direct forwarding 0 -> 2: a ring of 8 holds 7, the other 3 are dropped and counted. */
	for (i = 0; i < 10; i++)
		pkts[i] = make_udp(1, 2, 3, (uint16_t)i, IPPROTO_UDP, 0);
	assert_int_equal(gale_steer_forward(s, 0, 2, pkts, 10), 7);
	assert_int_equal(gale_steer_stats_get(s, 0, &st), 0);
	assert_int_equal(st.forwarded, 7);
	assert_int_equal(st.fwd_dropped, 3);
	assert_int_equal(gale_steer_drain(s, 2, got, 16), 7);
	for (i = 0; i < 7; i++) /* in order */
		assert_int_equal(
		        rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(got[i], struct rte_udp_hdr *, 34)
		                                 ->dst_port),
		        i);
	rte_pktmbuf_free_bulk(got, 7);
	pkts[0] = make_udp(1, 2, 3, 4, IPPROTO_UDP, 0);
	assert_int_equal(gale_steer_forward(s, 1, 1, pkts, 1), 0); /* to itself: dropped, counted */
	assert_int_equal(gale_steer_stats_get(s, 1, &st), 0);
	assert_int_equal(st.fwd_dropped, 1);

	/* Broadcast of a two-segment packet from worker 1: workers 0 and 2 each get a reference. */
	m = make_udp(1, 2, 3, 4, IPPROTO_UDP, 0);
	tail = rte_pktmbuf_alloc(pool);
	assert_non_null(rte_pktmbuf_append(tail, 10));
	assert_int_equal(rte_pktmbuf_chain(m, tail), 0);
	assert_int_equal(gale_steer_broadcast(s, 1, m), 2);
	assert_int_equal(rte_mbuf_refcnt_read(m), 3);
	assert_int_equal(rte_mbuf_refcnt_read(tail), 3);
	assert_int_equal(gale_steer_drain(s, 0, got, 16), 1);
	assert_ptr_equal(got[0], m);
	rte_pktmbuf_free(got[0]);
	assert_int_equal(gale_steer_drain(s, 2, got, 16), 1);
	rte_pktmbuf_free(got[0]);
	assert_int_equal(rte_mbuf_refcnt_read(tail), 1); /* the tail is still there for worker 1 */
	assert_int_equal(rte_pktmbuf_pkt_len(m), rte_pktmbuf_data_len(m) + 10);
	rte_pktmbuf_free(m);
	gale_steer_free(s);
	assert_int_equal(rte_mempool_avail_count(pool), full);
}

static void
test_rss_mode_and_modes(void **state)
{
	const struct gale_steer_conf conf = { .nb_workers = 2, .rss = true };
	struct gale_steer *s = gale_steer_create(&conf);
	struct rte_mbuf *pkts[8];
	enum gale_steer_mode mode;
	unsigned int i;

	(void)state;
	assert_non_null(s);
	assert_true(gale_steer_is_rss(s));
	/* In RSS mode the NIC steered: everything is kept, and the NIC's hash decides the owner. */
	for (i = 0; i < 8; i++) {
		pkts[i] = make_udp(rnd32(), rnd32(), 1, 2, IPPROTO_UDP, 0);
		pkts[i]->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		pkts[i]->hash.rss = i;
		assert_int_equal(gale_steer_owner_mbuf(s, pkts[i]), i % 2);
	}
	assert_int_equal(gale_steer_rx_burst(s, 0, pkts, 8), 8);
	assert_int_equal(gale_steer_room(s, 0), UINT16_MAX);
	rte_pktmbuf_free_bulk(pkts, 8);
	gale_steer_free(s);
	assert_int_equal(gale_steer_mode_parse("sw", &mode), 0);
	assert_int_equal(mode, GALE_STEER_SW);
	assert_int_equal(gale_steer_mode_parse("rss", &mode), 0);
	assert_int_equal(mode, GALE_STEER_RSS);
	assert_int_equal(gale_steer_mode_parse("auto", &mode), 0);
	assert_int_equal(mode, GALE_STEER_AUTO);
	assert_int_equal(gale_steer_mode_parse("RSS", &mode), -EINVAL);
	assert_string_equal(gale_steer_mode_name(GALE_STEER_SW), "sw");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_symmetric),
		cmocka_unit_test(test_hash_matches_softrss),
		cmocka_unit_test(test_pick_sport),
		cmocka_unit_test(test_pick_sport_errors),
		cmocka_unit_test(test_owner_mbuf),
		cmocka_unit_test(test_forwarding),
		cmocka_unit_test(test_forward_and_broadcast),
		cmocka_unit_test(test_rss_mode_and_modes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
