/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpdk_port impairments, on a net_ring port (what is sent on a queue comes back on it): spec
 * parsing; the same seed gives the same decisions (the delivered sequence is identical, a different
 * seed differs); rates within 5 standard deviations over 100,000 packets, with every packet
 * accounted for; delay holds packets for at least the delay; tx duplication; zero-cost off path;
 * and the pool back to full after every case.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_udp.h>

#include <gale/impair.h>
#include <gale/offload.h>
#include <gale/port.h>

#include "gale_test_eal.h"

static const char *const vdevs[] = { "net_ring0", NULL };
static struct gale_port port;
static unsigned int pool_full;

static int
setup(void **state)
{
	const struct gale_port_conf conf = {
		.nb_queues = 1, .nb_rxd = 512, .nb_txd = 512, .nb_mbufs = 8191
	};

	(void)state;
	if (gale_test_eal_init("0", vdevs) != 0)
		return -1;
	if (gale_port_setup(&port, 0, &conf) != 0)
		return -1;
	pool_full = rte_mempool_avail_count(port.pool);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	gale_port_close(&port);
	return rte_eal_cleanup();
}

static void
send_seq(uint32_t first, unsigned int n)
{
	struct rte_mbuf *m[32];
	unsigned int i;

	assert_true(n <= 32);
	for (i = 0; i < n; i++) {
		uint32_t v = first + i;

		m[i] = rte_pktmbuf_alloc(port.pool);
		assert_non_null(m[i]);
		memset(rte_pktmbuf_append(m[i], 64), 0, 64);
		memcpy(rte_pktmbuf_mtod(m[i], void *), &v, sizeof(v));
	}
	assert_int_equal(rte_eth_tx_burst(port.port_id, 0, m, (uint16_t)n), n);
}

/* One delivered packet's identity: its sequence number and a sum of its bytes (catches corruption).
 */
static uint64_t
ident(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t sum = 0;
	uint32_t v, i;

	memcpy(&v, p, sizeof(v));
	for (i = 0; i < rte_pktmbuf_data_len(m); i++)
		sum = sum * 31 + p[i];
	return ((uint64_t)v << 32) ^ sum;
}

/* Send n packets through the rx impairment; record what is delivered (up to max). Returns the
 * count. */
static unsigned int
run_rx(const struct gale_impair_conf *conf, unsigned int n, uint64_t *rec, unsigned int max)
{
	struct rte_mbuf *got[32];
	unsigned int sent, k = 0, i, idle;
	uint16_t r;

	assert_int_equal(gale_port_impair_set(&port, conf), 0);
	for (sent = 0; sent < n; sent += 32) {
		send_seq(sent, RTE_MIN(32u, n - sent));
		idle = 0;
		/* Take everything the ring has now (bounded). */
		while (idle < 2) {
			r = gale_port_rx_burst(&port, 0, got, 32);
			idle = r == 0 ? idle + 1 : 0;
			for (i = 0; i < r; i++) {
				if (rec != NULL && k < max)
					rec[k] = ident(got[i]);
				k++;
			}
			rte_pktmbuf_free_bulk(got, r);
		}
	}
	return k;
}

static void
test_parse(void **state)
{
	struct gale_impair_dir_conf d;
	uint64_t seed = 0;

	(void)state;
	assert_int_equal(
	        gale_impair_parse("drop=0.01,dup=1%,reorder=0.5,corrupt=0,delay=2ms,jitter=30us,"
	                          "dist=normal,seed=42,reorder_us=77,delay_p=0.25",
	                          &d, &seed),
	        0);
	assert_true(fabs(d.drop - 0.01) < 1e-12);
	assert_true(fabs(d.dup - 0.01) < 1e-12);
	assert_true(fabs(d.reorder - 0.5) < 1e-12);
	assert_true(fabs(d.delay - 0.25) < 1e-12);
	assert_int_equal(d.delay_us, 2000);
	assert_int_equal(d.jitter_us, 30);
	assert_int_equal(d.reorder_us, 77);
	assert_int_equal(d.dist, GALE_IMPAIR_DIST_NORMAL);
	assert_int_equal(seed, 42);
	assert_true(gale_impair_dir_active(&d));
	assert_int_equal(gale_impair_parse("off", &d, NULL), 0);
	assert_false(gale_impair_dir_active(&d));
	assert_int_equal(gale_impair_parse("", &d, NULL), 0);
	assert_int_equal(gale_impair_parse("drop=1.5", &d, NULL), -EINVAL);
	assert_int_equal(gale_impair_parse("drop=x", &d, NULL), -EINVAL);
	assert_int_equal(gale_impair_parse("lose=0.1", &d, NULL), -EINVAL);
	assert_int_equal(gale_impair_parse("drop", &d, NULL), -EINVAL);
	assert_int_equal(gale_impair_parse("dist=pareto", &d, NULL), -EINVAL);
	assert_int_equal(gale_impair_parse("delay=5s", &d, NULL), -EINVAL);
}

static void
test_same_seed_same_decisions(void **state)
{
	static uint64_t a[8000], b[8000], c[8000];
	struct gale_impair_conf conf = { .seed = 7 };
	unsigned int na, nb, nc, i, diff = 0;

	(void)state;
	/* reorder_us is long, so release depends on packet order alone, never on timing. */
	assert_int_equal(
	        gale_impair_parse("drop=0.2,dup=0.1,corrupt=0.1,reorder=0.1,reorder_us=2000000",
	                          &conf.rx, NULL),
	        0);
	na = run_rx(&conf, 6000, a, RTE_DIM(a));
	nb = run_rx(&conf, 6000, b, RTE_DIM(b));
	conf.seed = 8;
	nc = run_rx(&conf, 6000, c, RTE_DIM(c));
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	for (i = 0; i < RTE_MIN(na, nc); i++)
		diff += a[i] != c[i];
	assert_true(na != nc || diff > 0);
	/* Reordering really happened: some delivered sequence number is below an earlier one. */
	for (i = 1, diff = 0; i < na; i++)
		diff += (a[i] >> 32) < (a[i - 1] >> 32);
	assert_true(diff > 0);
	assert_int_equal(gale_port_impair_set(&port, NULL), 0);
	assert_null(port.impair);
	assert_int_equal(rte_mempool_avail_count(port.pool), pool_full);
}

static void
check_rate(uint64_t count, uint64_t n, double p)
{
	const double mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));

	if (fabs((double)count - mean) > 5 * sd + 1)
		fail_msg("count %llu, expected %.0f +- %.0f (5 sd)", (unsigned long long)count,
		         mean, 5 * sd);
}

static void
test_rates(void **state)
{
	struct gale_impair_conf conf = { .seed = 12345 };
	struct gale_impair_stats st;
	unsigned int delivered;
	const unsigned int n = 100000;

	(void)state;
	assert_int_equal(
	        gale_impair_parse("drop=0.1,dup=0.05,corrupt=0.02,reorder=0.03", &conf.rx, NULL),
	        0);
	delivered = run_rx(&conf, n, NULL, 0);
	assert_int_equal(gale_impair_stats_get(port.impair, GALE_IMPAIR_RX, UINT16_MAX, &st), 0);
	assert_int_equal(st.packets, n);
	check_rate(st.dropped, n, 0.1);
	check_rate(st.duplicated, n - st.dropped, 0.05);
	check_rate(st.corrupted, n - st.dropped, 0.02);
	check_rate(st.reordered, n - st.dropped, 0.03);
	assert_int_equal(st.hold_full, 0);
	/* Every packet is accounted for: delivered = seen - dropped + duplicates - still held. */
	assert_int_equal(st.passed, delivered);
	assert_int_equal(delivered,
	                 n - st.dropped + st.duplicated - gale_impair_held(port.impair, 0));
	assert_int_equal(gale_impair_stats_get(port.impair, GALE_IMPAIR_TX, 0, &st), 0);
	assert_int_equal(st.packets, 0);
	assert_int_equal(gale_impair_stats_get(port.impair, GALE_IMPAIR_TX, 1, &st), -EINVAL);
	assert_int_equal(gale_port_impair_set(&port, NULL), 0);
	assert_int_equal(rte_mempool_avail_count(port.pool), pool_full);
}

static void
test_delay(void **state)
{
	struct gale_impair_conf conf = { .seed = 1 };
	struct rte_mbuf *got[32];
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t t0, t_first = 0, deadline;
	unsigned int k = 0;
	uint16_t r;

	(void)state;
	assert_int_equal(gale_impair_parse("delay=3000,jitter=500,dist=uniform", &conf.rx, NULL),
	                 0);
	assert_int_equal(gale_port_impair_set(&port, &conf), 0);
	t0 = rte_get_tsc_cycles();
	send_seq(0, 16);
	deadline = t0 + hz; /* bounded: a second at most */
	while (k < 16 && rte_get_tsc_cycles() < deadline) {
		r = gale_port_rx_burst(&port, 0, got, 32);
		if (r != 0 && k == 0)
			t_first = rte_get_tsc_cycles();
		k += r;
		rte_pktmbuf_free_bulk(got, r);
	}
	assert_int_equal(k, 16);
	/* Not before delay - jitter = 2.5 ms. */
	assert_true(t_first - t0 >= hz * 2500 / 1000000);
	assert_int_equal(gale_port_impair_set(&port, NULL), 0);
	assert_int_equal(rte_mempool_avail_count(port.pool), pool_full);
}

static void
test_tx_dup_and_drop(void **state)
{
	struct gale_impair_conf conf = { .seed = 3 };
	struct gale_impair_stats st;
	struct rte_mbuf *m[32], *got[64];
	unsigned int i, k = 0, tries;

	(void)state;
	assert_int_equal(gale_impair_parse("dup=1", &conf.tx, NULL), 0);
	assert_int_equal(gale_port_impair_set(&port, &conf), 0);
	for (i = 0; i < 32; i++) {
		m[i] = rte_pktmbuf_alloc(port.pool);
		memset(rte_pktmbuf_append(m[i], 60), (int)i, 60);
	}
	assert_int_equal(gale_port_tx_burst(&port, 0, m, 32), 32);
	for (tries = 0; tries < 100 && k < 64; tries++) {
		uint16_t r = rte_eth_rx_burst(port.port_id, 0, &got[k], (uint16_t)(64 - k));

		k += r;
	}
	assert_int_equal(k, 64);
	for (i = 0; i < 64; i += 2) {
		assert_int_equal(*rte_pktmbuf_mtod(got[i], uint8_t *), i / 2);
		assert_int_equal(*rte_pktmbuf_mtod(got[i + 1], uint8_t *), i / 2);
	}
	rte_pktmbuf_free_bulk(got, 64);
	assert_int_equal(gale_impair_stats_get(port.impair, GALE_IMPAIR_TX, 0, &st), 0);
	assert_int_equal(st.duplicated, 32);
	assert_int_equal(st.passed, 64);

	/* drop=1: everything consumed, nothing arrives. */
	assert_int_equal(gale_impair_parse("drop=1", &conf.tx, NULL), 0);
	assert_int_equal(gale_port_impair_set(&port, &conf), 0);
	for (i = 0; i < 32; i++)
		m[i] = rte_pktmbuf_alloc(port.pool);
	assert_int_equal(gale_port_tx_burst(&port, 0, m, 32), 32);
	assert_int_equal(rte_eth_rx_burst(port.port_id, 0, got, 32), 0);
	assert_int_equal(gale_impair_stats_get(port.impair, GALE_IMPAIR_TX, 0, &st), 0);
	assert_int_equal(st.dropped, 32);
	assert_int_equal(gale_port_impair_set(&port, NULL), 0);
	assert_int_equal(rte_mempool_avail_count(port.pool), pool_full);
}

/* An IPv4/UDP frame (200 bytes of payload) asking for checksum offload the DPDK way. */
static struct rte_mbuf *
udp_frame(uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) +
	                                                            sizeof(*udp) + 200);
	memset(eth, 0, rte_pktmbuf_data_len(m));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + 200);
	ip->src_addr = rte_cpu_to_be_32(0xc6120001);
	ip->dst_addr = rte_cpu_to_be_32(0xc6120002);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + 200);
	memcpy(udp + 1, &seq, sizeof(seq));
	m->l2_len = sizeof(*eth);
	m->l3_len = sizeof(*ip);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
	udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	return m;
}

/*
 * Corruption must be visible to a checksum, as on a wire: a tx frame asking for checksum offload is
 * finished in software before its byte is flipped (else the device would checksum the corrupted
 * bytes), and an rx frame loses the device's GOOD verdict. Every corrupted frame whose flipped byte
 * is past the Ethernet header fails verification.
 */
static void
test_corrupt_defeats_checksums(void **state)
{
	const struct gale_offloads trust = { .rx_ipv4_cksum = true,
		                             .rx_udp_cksum = true,
		                             .multi_seg = true };
	struct gale_impair_conf conf = { .seed = 11 };
	struct rte_mbuf *m[32], *got[32];
	unsigned int i, k, dir, checked = 0;
	uint16_t r;

	(void)state;
	for (dir = 0; dir < 2; dir++) {
		memset(&conf, 0, sizeof(conf));
		conf.seed = 11;
		assert_int_equal(
		        gale_impair_parse("corrupt=1", dir == 0 ? &conf.tx : &conf.rx, NULL), 0);
		assert_int_equal(gale_port_impair_set(&port, &conf), 0);
		for (i = 0; i < 32; i++) {
			m[i] = udp_frame(i);
			if (dir == 1) {
				/* Checksums done, and marked GOOD as a NIC would mark them on
				 * receipt. */
				assert_int_equal(gale_offload_tx_prepare(&trust, m[i]), 0);
				m[i]->ol_flags =
				        RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
			}
		}
		if (dir == 0)
			assert_int_equal(gale_port_tx_burst(&port, 0, m, 32), 32);
		else
			assert_int_equal(rte_eth_tx_burst(port.port_id, 0, m, 32), 32);
		for (k = 0, r = 1; k < 32 && r != 0; k += r) {
			r = dir == 0
			            ? rte_eth_rx_burst(port.port_id, 0, &got[k], (uint16_t)(32 - k))
			            : gale_port_rx_burst(&port, 0, &got[k], (uint16_t)(32 - k));
		}
		assert_int_equal(k, 32);
		for (i = 0; i < 32; i++) {
			struct rte_mbuf *ref = udp_frame(0);
			const uint8_t *a = rte_pktmbuf_mtod(got[i], const uint8_t *);
			const uint8_t *b;
			uint32_t seq, off;

			/* The reference: the same frame, checksums in software, uncorrupted. */
			memcpy(&seq, a + 42, sizeof(seq));
			memcpy(rte_pktmbuf_mtod_offset(ref, uint8_t *, 42), &seq, sizeof(seq));
			assert_int_equal(gale_offload_tx_prepare(&trust, ref), 0);
			b = rte_pktmbuf_mtod(ref, const uint8_t *);
			for (off = 0; off < rte_pktmbuf_data_len(ref) && a[off] == b[off]; off++)
				;
			assert_true(off <
			            rte_pktmbuf_data_len(ref)); /* exactly one byte differs ... */
			assert_memory_equal(a + off + 1, b + off + 1,
			                    rte_pktmbuf_data_len(ref) - off - 1);
			assert_int_equal(got[i]->ol_flags &
			                         (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK),
			                 0);
			if (off >= sizeof(struct rte_ether_hdr)) {
				assert_int_equal(gale_offload_rx_cksum(&trust, got[i]), -EBADMSG);
				checked++;
			}
			rte_pktmbuf_free(ref);
		}
		rte_pktmbuf_free_bulk(got, 32);
	}
	assert_true(checked > 40);
	assert_int_equal(gale_port_impair_set(&port, NULL), 0);
	assert_int_equal(rte_mempool_avail_count(port.pool), pool_full);
}

/* The device refuses a frame whose first byte is 0xee, and so everything behind it in a burst. */
static uint16_t
refuse_marked(uint16_t port_id, uint16_t queue, struct rte_mbuf *pkts[], uint16_t n, void *arg)
{
	uint16_t i;

	(void)port_id;
	(void)queue;
	(void)arg;
	for (i = 0; i < n; i++)
		if (*rte_pktmbuf_mtod(pkts[i], const uint8_t *) == 0xee)
			break;
	return i;
}

/*
 * A frame the device never takes must not block the tx hold for good: it and what follows it are
 * held, in order, while the device refuses it; once it has been refused GALE_IMPAIR_STUCK_TRIES
 * times over GALE_IMPAIR_STUCK_US it is dropped and counted in `refused`, and the frames behind it
 * go out in their order.
 */
static void
test_tx_refused_head(void **state)
{
	const struct rte_eth_rxtx_callback *cb;
	struct gale_impair_conf conf = { .seed = 5 };
	struct gale_impair_stats st;
	struct rte_mbuf *m[4], *got[8];
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t t0, deadline;
	unsigned int i, calls = 0, k = 0;

	(void)state;
	cb = rte_eth_add_tx_callback(port.port_id, 0, refuse_marked, NULL);
	assert_non_null(cb);
	/* Attached with nothing to impair: every frame goes through the hold logic only. */
	assert_int_equal(gale_port_impair_set(&port, &conf), 0);
	for (i = 0; i < 4; i++) {
		m[i] = rte_pktmbuf_alloc(port.pool);
		assert_non_null(m[i]);
		memset(rte_pktmbuf_append(m[i], 60), i == 0 ? 0xee : (int)i, 60);
	}
	t0 = rte_get_tsc_cycles();
	assert_int_equal(gale_port_tx_burst(&port, 0, m, 4), 4);
	assert_int_equal(gale_impair_held(port.impair, 0), 4);
	/* Release calls until the head goes (bounded: a second). */
	deadline = t0 + hz;
	while (gale_impair_held(port.impair, 0) > 0 && rte_get_tsc_cycles() < deadline) {
		assert_int_equal(gale_port_tx_burst(&port, 0, NULL, 0), 0);
		calls++;
		k += rte_eth_rx_burst(port.port_id, 0, &got[k], (uint16_t)(RTE_DIM(got) - k));
		/* Nothing passes the refused head before both bounds have. */
		if (k == 0)
			continue;
		assert_true(calls >= GALE_IMPAIR_STUCK_TRIES);
		assert_true(rte_get_tsc_cycles() - t0 >= hz * GALE_IMPAIR_STUCK_US / 1000000);
	}
	for (i = 0; i < 10 && k < 3; i++)
		k += rte_eth_rx_burst(port.port_id, 0, &got[k], (uint16_t)(RTE_DIM(got) - k));
	assert_int_equal(gale_impair_held(port.impair, 0), 0);
	assert_int_equal(k, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(*rte_pktmbuf_mtod(got[i], uint8_t *), i + 1);
	rte_pktmbuf_free_bulk(got, k);
	assert_int_equal(gale_impair_stats_get(port.impair, GALE_IMPAIR_TX, 0, &st), 0);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.passed, 3);
	assert_int_equal(rte_eth_remove_tx_callback(port.port_id, 0, cb), 0);
	assert_int_equal(gale_port_impair_set(&port, NULL), 0);
	assert_int_equal(rte_mempool_avail_count(port.pool), pool_full);
}

static void
test_off_and_bad_conf(void **state)
{
	struct gale_impair_conf conf = { .seed = 3 };
	struct rte_mbuf *m[4], *got[4];
	unsigned int i;

	(void)state;
	/* Off: the wrappers are rte_eth_*_burst. */
	assert_null(port.impair);
	for (i = 0; i < 4; i++)
		m[i] = rte_pktmbuf_alloc(port.pool);
	assert_int_equal(gale_port_tx_burst(&port, 0, m, 4), 4);
	assert_int_equal(gale_port_rx_burst(&port, 0, got, 4), 4);
	rte_pktmbuf_free_bulk(got, 4);
	conf.rx.drop = 2.0;
	assert_int_equal(gale_port_impair_set(&port, &conf), -EINVAL);
	assert_null(port.impair);
	assert_null(gale_impair_create(NULL, 1, port.pool, 0));
	gale_impair_free(NULL);
	assert_int_equal(rte_mempool_avail_count(port.pool), pool_full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_same_seed_same_decisions),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_tx_dup_and_drop),
		cmocka_unit_test(test_corrupt_defeats_checksums),
		cmocka_unit_test(test_tx_refused_head),
		cmocka_unit_test(test_off_and_bad_conf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
