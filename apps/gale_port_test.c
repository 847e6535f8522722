/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-port-test: bring a DPDK port up with one queue per worker and count what arrives, per worker and per
 * kind of frame; or send a number of test frames. It is the foundation's demonstration (`make run` before the
 * RPC demo exists) and the tool the port fixtures (tap in a netns, memif pair) are tested with.
 *
 * Usage: gale-port-test [EAL args] -- [--port NAME] [--mode rx|tx] [--duration SEC] [--expect N]
 *                       [--count N] [--ready-file PATH] [--idle poll|sleep]
 *
 * Test frames are IPv4/UDP to port 9 (discard); `--expect N` ends an rx run with exit 0 as soon as N of them
 * were counted, exit 3 when the duration ran out first. A tx run sends --count test frames, then stays up until
 * the peer's link goes down (the peer has counted and left) or the duration ends, so that frames still in a
 * shared ring (memif) are not lost by leaving early.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <gale/eal.h>
#include <gale/port.h>

#define BURST 32
#define TEST_UDP_PORT 9

enum frame_kind { KIND_ARP, KIND_IPV4, KIND_TEST, KIND_IPV6, KIND_OTHER, KIND_MAX };
static const char *const kind_names[KIND_MAX] = { "arp", "ipv4", "test", "ipv6", "other" };

/* Per-worker counters: written only by their worker, read by the main lcore after the workers stopped. */
struct worker_stats {
	uint64_t rx[KIND_MAX];
	uint64_t rx_total;
	uint64_t tx;
	uint64_t tx_dropped;
} __rte_cache_aligned;

static struct worker_stats stats[RTE_MAX_LCORE];
static volatile bool stop;
static struct gale_port port;

static struct {
	const char *port_name;
	bool tx;
	double duration;
	uint64_t expect;
	uint64_t count;
	const char *ready_file;
	bool idle_sleep;
} opt = { .duration = 10.0, .count = 1000, .idle_sleep = true };

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

static enum frame_kind
classify(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	uint16_t type;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth))
		return KIND_OTHER;
	type = rte_be_to_cpu_16(eth->ether_type);
	if (type == RTE_ETHER_TYPE_ARP)
		return KIND_ARP;
	if (type == RTE_ETHER_TYPE_IPV6)
		return KIND_IPV6;
	if (type != RTE_ETHER_TYPE_IPV4)
		return KIND_OTHER;
	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*ip) + sizeof(*udp))
		return KIND_IPV4;
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	if (ip->next_proto_id != IPPROTO_UDP || (ip->version_ihl & 0xf) != 5)
		return KIND_IPV4;
	udp = (const struct rte_udp_hdr *)(ip + 1);
	return rte_be_to_cpu_16(udp->dst_port) == TEST_UDP_PORT ? KIND_TEST : KIND_IPV4;
}

static uint64_t
total_test_frames(void)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < RTE_MAX_LCORE; i++)
		n += __atomic_load_n(&stats[i].rx[KIND_TEST], __ATOMIC_RELAXED);
	return n;
}

static struct rte_mbuf *
make_test_frame(uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	const uint16_t payload = 18;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + payload);
	memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&port.mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + payload);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 2));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 1));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(TEST_UDP_PORT);
	udp->dst_port = rte_cpu_to_be_16(TEST_UDP_PORT);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + payload);
	p = (uint8_t *)(udp + 1);
	memset(p, 0, payload);
	memcpy(p, &seq, sizeof(seq));
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return m;
}

static bool
link_is_up(void)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	return rte_eth_link_get_nowait(port.port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

static int
worker_main(void *arg)
{
	const uint16_t q = (uint16_t)(uintptr_t)arg;
	struct worker_stats *st = &stats[rte_lcore_id()];
	const uint64_t end = rte_get_tsc_cycles() + (uint64_t)(opt.duration * (double)rte_get_tsc_hz());
	struct rte_mbuf *pkts[BURST];
	unsigned int idle = 0;
	uint64_t to_send = (opt.tx && q == 0) ? opt.count : 0, seq = 0;
	bool sent_all = !opt.tx || q != 0, peer_was_up = false;
	uint16_t n, i, k;

	while (!stop && rte_get_tsc_cycles() < end) {
		n = rte_eth_rx_burst(port.port_id, q, pkts, BURST);
		for (i = 0; i < n; i++) {
			st->rx[classify(pkts[i])]++;
			st->rx_total++;
			rte_pktmbuf_free(pkts[i]);
		}
		if (to_send > 0 && link_is_up()) {
			peer_was_up = true;
			k = 0;
			while (k < BURST && k < to_send && (pkts[k] = make_test_frame((uint32_t)seq + k)) != NULL)
				k++;
			n = rte_eth_tx_burst(port.port_id, q, pkts, k);
			/* The unsent tail is ours: free it and resend those sequence numbers next round. */
			rte_pktmbuf_free_bulk(&pkts[n], k - n);
			st->tx += n;
			to_send -= n;
			seq += n;
			if (to_send == 0)
				sent_all = true;
		} else if (sent_all && opt.tx && q == 0 && peer_was_up && !link_is_up()) {
			break; /* the peer counted what it expected and left */
		}
		if (opt.expect != 0 && q == 0 && total_test_frames() >= opt.expect)
			stop = true;
		if (n == 0 && opt.idle_sleep && ++idle > 64) {
			rte_delay_us_sleep(100); /* idle policy for tests: give the core to the kernel peer */
			idle = 0;
		} else if (n != 0) {
			idle = 0;
		}
	}
	stop = true;
	return 0;
}

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args] -- [options]\n"
	       "  --port NAME        ethdev name or id (default: the first port)\n"
	       "  --mode rx|tx       count what arrives (default), or send --count test frames\n"
	       "  --duration SEC     stop after this long (default 10)\n"
	       "  --expect N         rx: exit 0 as soon as N test frames (IPv4/UDP to port 9) were counted\n"
	       "  --count N          tx: test frames to send (default 1000)\n"
	       "  --ready-file PATH  write the port name and MAC there once the port is up\n"
	       "  --idle poll|sleep  busy-poll, or sleep 100 us when idle (default sleep, for shared cores)\n"
	       "  --help\n"
	       "With no EAL args: one lcore and a net_tap0 port (iface gtap0) in the current network namespace.\n",
	       prog);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },     { "mode", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' }, { "expect", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'c' },    { "ready-file", required_argument, NULL, 'r' },
		{ "idle", required_argument, NULL, 'i' },     { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 0; /* glibc: full re-initialisation after the EAL's own getopt pass */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt.port_name = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "rx") != 0 && strcmp(optarg, "tx") != 0) {
				fprintf(stderr, "--mode: expected rx or tx, got '%s'\n", optarg);
				return -1;
			}
			opt.tx = strcmp(optarg, "tx") == 0;
			break;
		case 'd':
			opt.duration = strtod(optarg, &end);
			if (*end != '\0' || opt.duration <= 0) {
				fprintf(stderr, "--duration: expected seconds > 0, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'e':
		case 'c':
			errno = 0;
			*(c == 'e' ? &opt.expect : &opt.count) = strtoull(optarg, &end, 10);
			if (*end != '\0' || errno != 0 || *optarg == '-') {
				fprintf(stderr, "--%s: expected a count, got '%s'\n", c == 'e' ? "expect" : "count",
					optarg);
				return -1;
			}
			break;
		case 'r':
			opt.ready_file = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "poll") != 0 && strcmp(optarg, "sleep") != 0) {
				fprintf(stderr, "--idle: expected poll or sleep, got '%s'\n", optarg);
				return -1;
			}
			opt.idle_sleep = strcmp(optarg, "sleep") == 0;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const vdevs[] = { "net_tap0,iface=gtap0", NULL };
	const struct gale_eal_defaults def = { .lcores = "0", .vdevs = vdevs };
	struct gale_port_conf conf = { 0 };
	struct gale_eal_info info;
	uint16_t port_id = 0;
	unsigned int lcore, q = 0, i;
	uint64_t sum[KIND_MAX] = { 0 }, rx = 0, tx = 0;
	int ret, k;

	for (k = 1; k < argc; k++)
		if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
			usage(argv[0]);
			return 0;
		}
	ret = gale_eal_init(argc, argv, &def, &info);
	if (ret < 0) {
		fprintf(stderr, "gale-port-test: EAL init failed: %s\n", strerror(-ret));
		return 1;
	}
	if (parse_args(argc - ret, argv + ret) != 0) {
		gale_eal_cleanup();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (opt.port_name != NULL) {
		if (gale_port_lookup(opt.port_name, &port_id) != 0) {
			fprintf(stderr, "gale-port-test: --port: no port '%s'\n", opt.port_name);
			gale_eal_cleanup();
			return 2;
		}
	} else if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "gale-port-test: no DPDK port (give --vdev=... or a PCI device)\n");
		gale_eal_cleanup();
		return 2;
	} else {
		RTE_ETH_FOREACH_DEV(port_id) break;
	}
	conf.nb_queues = (uint16_t)rte_lcore_count();
	ret = gale_port_setup(&port, port_id, &conf);
	if (ret != 0) {
		fprintf(stderr, "gale-port-test: port %u setup failed: %s\n", port_id, strerror(-ret));
		gale_eal_cleanup();
		return 1;
	}
	printf("port %s (id %u) up: mac " RTE_ETHER_ADDR_PRT_FMT ", %u worker(s)/queue(s), %s, link %s\n",
	       port.name, port.port_id, RTE_ETHER_ADDR_BYTES(&port.mac), port.nb_queues,
	       info.huge ? "hugepages" : "no hugepages (--no-huge)", port.link_up ? "up" : "down");
	fflush(stdout);
	if (opt.ready_file != NULL) {
		FILE *f = fopen(opt.ready_file, "w");

		if (f != NULL) {
			fprintf(f, "%s " RTE_ETHER_ADDR_PRT_FMT "\n", port.name, RTE_ETHER_ADDR_BYTES(&port.mac));
			fclose(f);
		}
	}

	RTE_LCORE_FOREACH_WORKER(lcore)
	rte_eal_remote_launch(worker_main, (void *)(uintptr_t)++q, lcore);
	worker_main((void *)(uintptr_t)0);
	rte_eal_mp_wait_lcore();

	q = 0;
	RTE_LCORE_FOREACH(lcore) {
		const struct worker_stats *st = &stats[lcore];

		printf("worker %u (lcore %u, queue %u): rx %" PRIu64, q, lcore, q, st->rx_total);
		for (i = 0; i < KIND_MAX; i++) {
			printf(" %s %" PRIu64, kind_names[i], st->rx[i]);
			sum[i] += st->rx[i];
		}
		printf(" tx %" PRIu64 "\n", st->tx);
		rx += st->rx_total;
		tx += st->tx;
		q++;
	}
	printf("total: rx %" PRIu64, rx);
	for (i = 0; i < KIND_MAX; i++)
		printf(" %s %" PRIu64, kind_names[i], sum[i]);
	printf(" tx %" PRIu64 "\n", tx);

	gale_port_close(&port);
	gale_eal_cleanup();
	if (opt.expect != 0 && sum[KIND_TEST] < opt.expect) {
		fprintf(stderr, "gale-port-test: expected %" PRIu64 " test frames, counted %" PRIu64 "\n", opt.expect,
			sum[KIND_TEST]);
		return 3;
	}
	if (opt.tx && tx < opt.count) {
		fprintf(stderr, "gale-port-test: sent %" PRIu64 " of %" PRIu64 " frames\n", tx, opt.count);
		return 3;
	}
	return 0;
}
