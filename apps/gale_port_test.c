/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-port-test: bring a DPDK port up with one queue per worker and count what arrives, per
 * worker, per kind of frame and per flow; send test frames; or forward (testpmd's io mode, for the
 * port benchmark). It is the foundation's demonstration (`make run` before the RPC demo exists) and
 * the tool the port fixtures (tap in a netns, memif pair, net_ring pair) are tested with.
 *
 * Usage: gale-port-test [EAL args] -- [--port NAME] [--mode rx|tx|fwd] [--duration SEC] [--expect
 * N]
 *                       [--count N] [--flows N] [--ring-pair] [--steer auto|rss|sw] [--ready-file
 * PATH]
 *                       [--idle poll|sleep] [--xstats] [--impair-rx SPEC] [--impair-tx SPEC]
 * [--drain-ms MS]
 *                       [--mbufs N] [--stats-period SEC] [--no-offloads]
 *
 * Test frames are IPv4/UDP to port 9 (discard); `--expect N` ends an rx run with exit 0 as soon as
 * N of them were counted, exit 3 when the duration ran out first. A tx run sends --count test
 * frames (spread over
 * --flows source ports, and over the workers, worker k on queue k), then stays up until the peer's
 * link goes down (the peer has counted and left) or the duration ends, so that frames still in a
 * shared ring (memif) are not lost by leaving early. `--ring-pair` makes a crossed net_ring pair in
 * this process: every worker injects its share of --count frames on the far side's queue and counts
 * on the near side's.
 *
 * Steering: each flow (IPv4 UDP/TCP 4-tuple) is owned by one worker (gale/steer.h). A worker keeps
 * what it owns
 * ("owned"), keeps non-flow frames ("local"), forwards the rest to the owner over a ring
 * ("fwd_out"), and takes what others forwarded to it ("fwd_in"); frames are counted, per kind and
 * per flow, on the worker that ends up with them, so every flow must show up on exactly one worker:
 * its owner. The `flow` lines say which.
 *
 * Shutdown (SIGTERM, SIGINT, --expect reached, duration over): workers stop receiving, then drain
 * their inbound rings once every worker has stopped; the port is stopped and closed (its rx rings
 * give their mbufs back) and the pool must be full again (`mbufs: N/N free`, exit 4 otherwise), all
 * within --drain-ms (exit 5 otherwise).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_udp.h>

#include <gale/eal.h>
#include <gale/impair.h>
#include <gale/pool.h>
#include <gale/port.h>
#include <gale/steer.h>

/* RTE_IPV4 shifts a signed int: undefined for a first byte >= 128 (UBSan); this one does not. */
#define IPV4(a, b, c, d)                                                                           \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

#define BURST           32
#define TEST_UDP_PORT   9
#define TEST_SPORT_BASE 40000
#define MAX_FLOWS       64

enum frame_kind { KIND_ARP, KIND_IPV4, KIND_TEST, KIND_IPV6, KIND_OTHER, KIND_MAX };
static const char *const kind_names[KIND_MAX] = { "arp", "ipv4", "test", "ipv6", "other" };

struct flow_count {
	uint32_t src, dst; /**< CPU order. */
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t packets;
};

/* Per-worker counters: written only by their worker, read by others only as relaxed snapshots. */
struct worker_stats {
	uint64_t rx[KIND_MAX];
	uint64_t rx_total; /**< frames this worker handled (owned + local + fwd_in). */
	uint64_t rx_queue; /**< frames received on its queue. */
	uint64_t tx;
	uint64_t tx_dropped; /**< fwd mode: frames the device refused (freed). */
	uint64_t drained_at_stop;
	struct flow_count flows[MAX_FLOWS];
	unsigned int nb_flows;
	uint64_t flow_overflow;
} __rte_cache_aligned;

static struct worker_stats stats[RTE_MAX_LCORE];
static volatile bool stop;
static unsigned int rx_stopped; /* workers that left their rx loop (atomic) */
static uint64_t stop_tsc;       /* when the stop was first seen (atomic, 0 = not yet) */
static struct gale_port port, peer;
static bool have_peer;
static struct gale_steer *steer;
static uint16_t nb_workers;

enum mode { MODE_RX, MODE_TX, MODE_FWD };

static struct {
	const char *port_name;
	enum mode mode;
	double duration;
	uint64_t expect;
	uint64_t count;
	unsigned int flows;
	const char *ready_file;
	bool idle_sleep;
	bool ring_pair;
	bool xstats;
	bool no_offloads;
	enum gale_steer_mode steer;
	const char *impair_rx, *impair_tx;
	unsigned int drain_ms;
	unsigned int mbufs;
	double stats_period;
} opt = { .duration = 10.0, .count = 1000, .flows = 1, .idle_sleep = true, .drain_ms = 2000 };

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

static void
note_stop(void)
{
	uint64_t zero = 0;

	__atomic_compare_exchange_n(&stop_tsc, &zero, rte_get_tsc_cycles(), false, __ATOMIC_RELAXED,
	                            __ATOMIC_RELAXED);
	stop = true;
}

static enum frame_kind
classify(const struct rte_mbuf *m, struct worker_stats *st)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	struct flow_count *f;
	uint16_t type, sport, dport;
	uint32_t src, dst;
	unsigned int i;

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
	if ((ip->next_proto_id != IPPROTO_UDP && ip->next_proto_id != IPPROTO_TCP) ||
	    (ip->version_ihl & 0xf) != 5 ||
	    (ip->fragment_offset &
	     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return KIND_IPV4;
	udp = (const struct rte_udp_hdr *)(ip + 1); /* TCP's ports sit at the same offsets */
	src = rte_be_to_cpu_32(ip->src_addr);
	dst = rte_be_to_cpu_32(ip->dst_addr);
	sport = rte_be_to_cpu_16(udp->src_port);
	dport = rte_be_to_cpu_16(udp->dst_port);
	for (i = 0; i < st->nb_flows; i++) {
		f = &st->flows[i];
		if (f->src == src && f->dst == dst && f->sport == sport && f->dport == dport &&
		    f->proto == ip->next_proto_id)
			break;
	}
	if (i == st->nb_flows) {
		if (i == MAX_FLOWS) {
			st->flow_overflow++;
			goto kind;
		}
		f = &st->flows[st->nb_flows++];
		f->src = src, f->dst = dst, f->sport = sport, f->dport = dport,
		f->proto = ip->next_proto_id;
		f->packets = 0;
	}
	st->flows[i].packets++;
kind:
	return ip->next_proto_id == IPPROTO_UDP && dport == TEST_UDP_PORT ? KIND_TEST : KIND_IPV4;
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
make_test_frame(const struct gale_port *p, uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	const uint16_t payload = 18;
	uint8_t *d;

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) +
	                                                            sizeof(*udp) + payload);
	memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&p->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + payload);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(IPV4(198, 18, 0, 2));
	ip->dst_addr = rte_cpu_to_be_32(IPV4(198, 18, 0, 1));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	/* One source port per flow: frame seq belongs to flow seq % flows (with one flow: port 9,
	 * as before). */
	udp->src_port = rte_cpu_to_be_16(
	        opt.flows <= 1 ? TEST_UDP_PORT : (uint16_t)(TEST_SPORT_BASE + seq % opt.flows));
	udp->dst_port = rte_cpu_to_be_16(TEST_UDP_PORT);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + payload);
	d = (uint8_t *)(udp + 1);
	memset(d, 0, payload);
	memcpy(d, &seq, sizeof(seq));
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return m;
}

static bool
link_is_up(uint16_t port_id)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	return rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

/*
 * Sleep about us microseconds, or less when a signal arrives. Not rte_delay_us_sleep: it restarts
 * nanosleep after every signal, and net_tap raises SIGIO for every frame the kernel queues; under a
 * flood from the kernel the restarted sleeps starved both workers (no progress for seconds;
 * measured with a 70 kpps UDP flood).
 */
static void
idle_sleep_us(unsigned int us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };

	nanosleep(&ts, NULL);
}

/* Count and free frames this worker ends up with. */
static void
consume(struct worker_stats *st, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		st->rx[classify(pkts[i], st)]++;
	}
	st->rx_total += n;
	rte_pktmbuf_free_bulk(pkts, n);
}

/* Worker q's share of the frames to send: seq q, q + W, q + 2W, ... below opt.count. */
static uint64_t
share(uint16_t q)
{
	return opt.count / nb_workers + (q < opt.count % nb_workers ? 1 : 0);
}

static void
print_period(uint64_t *last_rx, uint64_t *last_tx, uint64_t *last_tsc)
{
	const uint64_t now = rte_get_tsc_cycles();
	uint64_t rx = 0, tx = 0;
	unsigned int i;
	double secs;

	for (i = 0; i < RTE_MAX_LCORE; i++) {
		rx += __atomic_load_n(&stats[i].rx_queue, __ATOMIC_RELAXED);
		tx += __atomic_load_n(&stats[i].tx, __ATOMIC_RELAXED);
	}
	secs = (double)(now - *last_tsc) / (double)rte_get_tsc_hz();
	printf("pps: rx %.0f tx %.0f\n", (double)(rx - *last_rx) / secs,
	       (double)(tx - *last_tx) / secs);
	fflush(stdout);
	*last_rx = rx, *last_tx = tx, *last_tsc = now;
}

/*
 * Forwarding with nothing else to do (one worker, no steering): testpmd's io loop. Counters live in
 * registers and are published, and the clock read, once every 1024 iterations: with small bursts (a
 * ping-pong over memif) two TSC reads and a few global checks per iteration were measurable next to
 * testpmd.
 */
static void
fwd_loop(uint16_t q, struct worker_stats *st, uint64_t end, uint64_t period)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t rx = 0, tx = 0, drop = 0, now, last_rx = 0, last_tx = 0,
	         last_tsc = rte_get_tsc_cycles();
	uint64_t next_period = last_tsc + period;
	unsigned int iter = 0;
	uint16_t n, sent;

	for (;;) {
		n = gale_port_rx_burst(&port, q, pkts, BURST);
		if (n != 0) {
			sent = gale_port_tx_burst(&port, q, pkts, n);
			if (unlikely(sent < n)) {
				drop += n - sent;
				rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
			}
			rx += n;
			tx += sent;
		}
		if (unlikely((++iter & 1023) == 0)) {
			__atomic_store_n(&st->rx_queue, rx, __ATOMIC_RELAXED);
			__atomic_store_n(&st->tx, tx, __ATOMIC_RELAXED);
			now = rte_get_tsc_cycles();
			if (stop || now >= end)
				break;
			if (period != 0 && now >= next_period) {
				print_period(&last_rx, &last_tx, &last_tsc);
				next_period += period;
			}
		}
	}
	st->rx_queue = rx;
	st->rx_total = rx;
	st->tx = tx;
	st->tx_dropped = drop;
}

static int
worker_main(void *arg)
{
	const uint16_t q = (uint16_t)(uintptr_t)arg;
	struct worker_stats *st = &stats[rte_lcore_id()];
	const uint64_t hz = rte_get_tsc_hz();
	const uint64_t end = rte_get_tsc_cycles() + (uint64_t)(opt.duration * (double)hz);
	const uint64_t period = (uint64_t)(opt.stats_period * (double)hz);
	const struct gale_port *txp = have_peer ? &peer : &port;
	const bool sender = opt.mode == MODE_TX || opt.ring_pair;
	struct rte_mbuf *pkts[BURST];
	uint64_t to_send = sender ? share(q) : 0, seq = q, last_rx = 0, last_tx = 0,
	         last_tsc = rte_get_tsc_cycles();
	uint64_t next_period = last_tsc + period, deadline;
	bool peer_was_up = false;
	unsigned int idle = 0;
	uint16_t n, k, sent;

	if (opt.mode == MODE_FWD && steer == NULL && !opt.ring_pair)
		fwd_loop(q, st, end, period);
	while (opt.mode != MODE_FWD || steer != NULL || opt.ring_pair) {
		if (stop || rte_get_tsc_cycles() >= end)
			break;
		/* Back-pressure: take no more than the forwarding rings can hold (a slow owner then
		 * slows the device queue, where the sender sees it, instead of making us drop). */
		n = steer != NULL
		            ? (uint16_t)RTE_MIN(gale_steer_room(steer, q), (unsigned int)BURST)
		            : BURST;
		/* A sender that has sent everything leaves the device alone while it waits for the peer
		 * to leave: memif unmaps the shared rings on disconnect, under a burst still polling. */
		if (opt.mode == MODE_TX && to_send == 0 && peer_was_up)
			n = 0;
		n = n != 0 ? gale_port_rx_burst(&port, q, pkts, n) : 0;
		st->rx_queue += n;
		if (opt.mode == MODE_FWD) {
			/* testpmd's io forwarding: straight back out of the same queue, untouched.
			 */
			if (steer != NULL && n != 0)
				n = gale_steer_rx_burst(steer, q, pkts, n);
			sent = n != 0 ? gale_port_tx_burst(&port, q, pkts, n) : 0;
			if (sent < n) {
				st->tx_dropped += n - sent;
				rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
			}
			st->rx_total += n;
			st->tx += sent;
			if (steer != NULL) {
				k = gale_steer_drain(steer, q, pkts, BURST);
				sent = k != 0 ? gale_port_tx_burst(&port, q, pkts, k) : 0;
				rte_pktmbuf_free_bulk(&pkts[sent], k - sent);
				st->tx_dropped += k - sent;
				st->tx += sent;
				st->rx_total += k;
				n += k;
			}
		} else {
			if (steer != NULL && n != 0)
				n = gale_steer_rx_burst(steer, q, pkts, n);
			consume(st, pkts, n);
			if (steer != NULL) {
				k = gale_steer_drain(steer, q, pkts, BURST);
				consume(st, pkts, k);
				n += k;
			}
		}
		if (to_send > 0 && link_is_up(txp->port_id)) {
			peer_was_up = true;
			k = 0;
			while (k < BURST && k < to_send &&
			       (pkts[k] = make_test_frame(
			                txp, (uint32_t)(seq + (uint64_t)k * nb_workers))) != NULL)
				k++;
			sent = gale_port_tx_burst(txp, q, pkts, k);
			/* The unsent tail is ours: free it and resend those sequence numbers next
			 * round. */
			rte_pktmbuf_free_bulk(&pkts[sent], k - sent);
			st->tx += sent;
			to_send -= sent;
			seq += (uint64_t)sent * nb_workers;
			n += k;
		} else if (opt.mode == MODE_TX && to_send == 0 && q == 0 && peer_was_up &&
		           !link_is_up(txp->port_id)) {
			break; /* the peer counted what it expected and left */
		}
		if (opt.expect != 0 && q == 0 && total_test_frames() >= opt.expect)
			break;
		if (period != 0 && q == 0 && rte_get_tsc_cycles() >= next_period) {
			print_period(&last_rx, &last_tx, &last_tsc);
			next_period += period;
		}
		if (n == 0 && opt.idle_sleep && ++idle > 64) {
			idle_sleep_us(
			        100); /* idle policy for tests: give the core to the kernel peer */
			idle = 0;
		} else if (n != 0) {
			idle = 0;
		}
	}
	note_stop();

	/* Drain: once every worker has stopped receiving, nothing new enters our rings; empty them
	 * (bounded). */
	__atomic_fetch_add(&rx_stopped, 1, __ATOMIC_RELEASE);
	deadline = rte_get_tsc_cycles() + (uint64_t)opt.drain_ms * hz / 1000;
	while (steer != NULL && rte_get_tsc_cycles() < deadline) {
		const bool all_stopped =
		        __atomic_load_n(&rx_stopped, __ATOMIC_ACQUIRE) == nb_workers;

		k = gale_steer_drain(steer, q, pkts, BURST);
		st->drained_at_stop += k;
		if (opt.mode == MODE_FWD)
			rte_pktmbuf_free_bulk(pkts, k);
		else
			consume(st, pkts, k);
		if (k == 0 && all_stopped && gale_steer_pending(steer, q) == 0)
			break;
		if (k == 0)
			idle_sleep_us(50);
	}
	return 0;
}

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args] -- [options]\n"
	       "  --port NAME        ethdev name or id (default: the first port)\n"
	       "  --mode rx|tx|fwd   count what arrives (default); send --count test frames; or "
	       "forward what\n"
	       "                     arrives back out of the same queue (testpmd io mode, for "
	       "perf/port)\n"
	       "  --duration SEC     stop after this long (default 10)\n"
	       "  --expect N         rx: exit 0 as soon as N test frames (IPv4/UDP to port 9) were "
	       "counted\n"
	       "  --count N          tx / --ring-pair: test frames to send (default 1000)\n"
	       "  --flows N          spread test frames over N flows (UDP source ports 40000..; "
	       "default 1: port 9)\n"
	       "  --ring-pair        make a crossed net_ring pair here; inject --count frames on "
	       "one side, count\n"
	       "                     them on the other\n"
	       "  --steer MODE       auto (default: RSS when the port has it, else software), rss "
	       "(required), sw\n"
	       "  --ready-file PATH  write the port name and MAC there once the port is up\n"
	       "  --idle poll|sleep  busy-poll, or sleep 100 us when idle (default sleep, for "
	       "shared cores)\n"
	       "  --xstats           print the port's nonzero extended statistics at the end\n"
	       "  --impair-rx SPEC   impair received frames, e.g. "
	       "drop=0.01,dup=0.01,delay=100,jitter=20,seed=1\n"
	       "  --impair-tx SPEC   impair sent frames (same keys; see gale/impair.h)\n"
	       "  --drain-ms MS      shutdown deadline: rings drained, port closed, pool full "
	       "(default 2000)\n"
	       "  --mbufs N          mbufs in the pool (default: enough for every ring)\n"
	       "  --stats-period S   print rx/tx packets per second every S seconds\n"
	       "  --no-offloads      enable no offload (software checksums)\n"
	       "  --help\n"
	       "With no EAL args: one lcore and a net_tap0 port (iface gtap0) in the current "
	       "network namespace.\n",
	       prog);
}

static int
parse_count(const char *name, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || *s == '-' || *s == '\0') {
		fprintf(stderr, "--%s: expected a count, got '%s'\n", name, s);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' },
		{ "expect", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'c' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "idle", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "flows", required_argument, NULL, 'f' },
		{ "ring-pair", no_argument, NULL, 'R' },
		{ "steer", required_argument, NULL, 's' },
		{ "xstats", no_argument, NULL, 'x' },
		{ "impair-rx", required_argument, NULL, 'I' },
		{ "impair-tx", required_argument, NULL, 'T' },
		{ "drain-ms", required_argument, NULL, 'D' },
		{ "mbufs", required_argument, NULL, 'M' },
		{ "stats-period", required_argument, NULL, 'P' },
		{ "no-offloads", no_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	char *end;
	int c;

	optind = 0; /* glibc: full re-initialisation after the EAL's own getopt pass */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt.port_name = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "rx") == 0)
				opt.mode = MODE_RX;
			else if (strcmp(optarg, "tx") == 0)
				opt.mode = MODE_TX;
			else if (strcmp(optarg, "fwd") == 0)
				opt.mode = MODE_FWD;
			else {
				fprintf(stderr, "--mode: expected rx, tx or fwd, got '%s'\n",
				        optarg);
				return -1;
			}
			break;
		case 'd':
		case 'P':
			*(c == 'd' ? &opt.duration : &opt.stats_period) = strtod(optarg, &end);
			if (*end != '\0' || (c == 'd' ? opt.duration : opt.stats_period) <= 0) {
				fprintf(stderr, "--%s: expected seconds > 0, got '%s'\n",
				        c == 'd' ? "duration" : "stats-period", optarg);
				return -1;
			}
			break;
		case 'e':
			if (parse_count("expect", optarg, &opt.expect) != 0)
				return -1;
			break;
		case 'c':
			if (parse_count("count", optarg, &opt.count) != 0)
				return -1;
			break;
		case 'f':
		case 'D':
		case 'M':
			if (parse_count(c == 'f'   ? "flows"
			                : c == 'D' ? "drain-ms"
			                           : "mbufs",
			                optarg, &v) != 0)
				return -1;
			if (v == 0 || v > UINT32_MAX || (c == 'f' && v > 20000)) {
				fprintf(stderr, "--%s: out of range: %s\n",
				        c == 'f'   ? "flows"
				        : c == 'D' ? "drain-ms"
				                   : "mbufs",
				        optarg);
				return -1;
			}
			*(c == 'f'   ? &opt.flows
			  : c == 'D' ? &opt.drain_ms
			             : &opt.mbufs) = (unsigned int)v;
			break;
		case 'R':
			opt.ring_pair = true;
			break;
		case 's':
			if (gale_steer_mode_parse(optarg, &opt.steer) != 0) {
				fprintf(stderr, "--steer: expected auto, rss or sw, got '%s'\n",
				        optarg);
				return -1;
			}
			break;
		case 'x':
			opt.xstats = true;
			break;
		case 'O':
			opt.no_offloads = true;
			break;
		case 'I':
			opt.impair_rx = optarg;
			break;
		case 'T':
			opt.impair_tx = optarg;
			break;
		case 'r':
			opt.ready_file = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "poll") != 0 && strcmp(optarg, "sleep") != 0) {
				fprintf(stderr, "--idle: expected poll or sleep, got '%s'\n",
				        optarg);
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
	if (opt.ring_pair && opt.expect == 0)
		opt.expect = opt.count;
	return 0;
}

static void
print_xstat(const char *name, uint64_t value, void *arg)
{
	printf("xstat %s %s %" PRIu64 "\n", (const char *)arg, name, value);
}

static void
print_impair(const struct gale_port *p)
{
	static const char *const dir_names[2] = { "rx", "tx" };
	struct gale_impair_stats s;
	unsigned int d;

	if (p->impair == NULL)
		return;
	for (d = 0; d < 2; d++) {
		if (gale_impair_stats_get(p->impair, (enum gale_impair_dir)d, UINT16_MAX, &s) != 0)
			continue;
		printf("impair %s: packets %" PRIu64 " dropped %" PRIu64 " duplicated %" PRIu64
		       " corrupted %" PRIu64 " reordered %" PRIu64 " delayed %" PRIu64
		       " hold_full %" PRIu64 " passed %" PRIu64 "\n",
		       dir_names[d], s.packets, s.dropped, s.duplicated, s.corrupted, s.reordered,
		       s.delayed, s.hold_full, s.passed);
	}
}

/* Take whatever still sits in the port's rx queues (a net_ring peer's rings are not the port's to
 * free). */
static void
flush_rx(const struct gale_port *p)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t q, n;
	unsigned int rounds;

	for (q = 0; q < p->nb_queues; q++)
		for (rounds = 0; rounds < 100000; rounds++) {
			n = rte_eth_rx_burst(p->port_id, q, pkts, BURST);
			if (n == 0)
				break;
			rte_pktmbuf_free_bulk(pkts, n);
		}
}

static int
setup_impair(struct gale_port *p)
{
	struct gale_impair_conf ic;
	int ret;

	if (opt.impair_rx == NULL && opt.impair_tx == NULL)
		return 0;
	memset(&ic, 0, sizeof(ic));
	if ((opt.impair_rx != NULL && gale_impair_parse(opt.impair_rx, &ic.rx, &ic.seed) != 0) ||
	    (opt.impair_tx != NULL && gale_impair_parse(opt.impair_tx, &ic.tx, &ic.seed) != 0))
		return -EINVAL;
	ret = gale_port_impair_set(p, &ic);
	if (ret == 0)
		printf("impairments on (seed %" PRIu64 "): rx '%s' tx '%s'\n", ic.seed,
		       opt.impair_rx != NULL ? opt.impair_rx : "off",
		       opt.impair_tx != NULL ? opt.impair_tx : "off");
	return ret;
}

int
main(int argc, char **argv)
{
	static const char *const vdevs[] = { "net_tap0,iface=gtap0", NULL };
	const struct gale_eal_defaults def = { .lcores = "0", .vdevs = vdevs };
	struct gale_port_conf conf = { 0 };
	struct gale_pool_conf pconf = { 0 };
	struct gale_eal_info info;
	struct rte_mempool *pool;
	struct gale_steer_stats ss;
	uint16_t port_id = 0, peer_id = 0;
	unsigned int lcore, q = 0, i, pool_size, pool_free;
	uint64_t sum[KIND_MAX] = { 0 }, rx = 0, tx = 0, owned = 0, fwd = 0, fwd_drop = 0,
	         elapsed_ms;
	char offl[256];
	int ret, k, status = 0;

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
	nb_workers = (uint16_t)rte_lcore_count();

	if (opt.ring_pair) {
		ret = gale_port_ring_pair("gring", nb_workers, 0, (int)rte_socket_id(), &peer_id,
		                          &port_id);
		if (ret != 0) {
			fprintf(stderr, "gale-port-test: --ring-pair: %s\n", strerror(-ret));
			gale_eal_cleanup();
			return 1;
		}
	} else if (opt.port_name != NULL) {
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

	/* One pool per socket, shared by the port(s); ours, so it can be checked full after the
	 * ports close. */
	pconf.nb_mbufs = opt.mbufs != 0 ? opt.mbufs
	                                : (opt.ring_pair ? 2u : 1u) * nb_workers *
	                                                  (1024u + 1024u + 4u * BURST) +
	                                          nb_workers * 256u + 4096u;
	ret = gale_pool_init(&pconf);
	pool = gale_pool_get(rte_eth_dev_socket_id(port_id));
	if (ret != 0 || pool == NULL) {
		fprintf(stderr, "gale-port-test: pool: %s\n", strerror(ret != 0 ? -ret : ENOMEM));
		gale_eal_cleanup();
		return 1;
	}
	conf.nb_queues = nb_workers;
	conf.steer = opt.steer;
	conf.pool = pool;
	conf.no_offloads = opt.no_offloads;
	ret = gale_port_setup(&port, port_id, &conf);
	if (ret == 0 && opt.ring_pair) {
		ret = gale_port_setup(&peer, peer_id, &conf);
		have_peer = ret == 0;
	}
	if (ret == 0)
		ret = setup_impair(&port);
	if (ret != 0) {
		fprintf(stderr, "gale-port-test: port %u setup failed: %s%s\n", port_id,
		        strerror(-ret),
		        ret == -ENOTSUP && opt.steer == GALE_STEER_RSS
		                ? " (the port has no usable RSS)"
		                : "");
		gale_port_close(&port);
		gale_pool_fini();
		gale_eal_cleanup();
		return 1;
	}
	if (nb_workers > 1 || opt.steer == GALE_STEER_SW) {
		steer = gale_port_steer_create(&port, 0);
		if (steer == NULL) {
			fprintf(stderr, "gale-port-test: steering: %s\n", rte_strerror(rte_errno));
			gale_port_close(&port);
			gale_pool_fini();
			gale_eal_cleanup();
			return 1;
		}
	}
	gale_offload_format(&port.on, offl, sizeof(offl));
	printf("port %s (id %u) up: mac " RTE_ETHER_ADDR_PRT_FMT
	       ", %u worker(s)/queue(s), %s, link %s, steer %s, "
	       "offloads: %s\n",
	       port.name, port.port_id, RTE_ETHER_ADDR_BYTES(&port.mac), port.nb_queues,
	       info.huge ? "hugepages" : "no hugepages (--no-huge)", port.link_up ? "up" : "down",
	       port.rss ? "rss" : "sw", offl);
	fflush(stdout);
	if (opt.ready_file != NULL) {
		FILE *f = fopen(opt.ready_file, "w");

		if (f != NULL) {
			fprintf(f, "%s " RTE_ETHER_ADDR_PRT_FMT "\n", port.name,
			        RTE_ETHER_ADDR_BYTES(&port.mac));
			fclose(f);
		}
	}

	RTE_LCORE_FOREACH_WORKER(lcore)
	rte_eal_remote_launch(worker_main, (void *)(uintptr_t)++q, lcore);
	worker_main((void *)(uintptr_t)0);
	rte_eal_mp_wait_lcore();

	q = 0;
	RTE_LCORE_FOREACH(lcore)
	{
		const struct worker_stats *st = &stats[lcore];

		memset(&ss, 0, sizeof(ss));
		if (steer != NULL)
			gale_steer_stats_get(steer, (uint16_t)q, &ss);
		else
			ss.owned = st->rx_total;
		printf("worker %u (lcore %u, queue %u): rx %" PRIu64, q, lcore, q, st->rx_total);
		for (i = 0; i < KIND_MAX; i++) {
			printf(" %s %" PRIu64, kind_names[i], st->rx[i]);
			sum[i] += st->rx[i];
		}
		printf(" tx %" PRIu64 " queue_rx %" PRIu64 " owned %" PRIu64 " local %" PRIu64
		       " fwd_out %" PRIu64 " fwd_in %" PRIu64 " fwd_drop %" PRIu64
		       " tx_drop %" PRIu64 "\n",
		       st->tx, st->rx_queue, ss.owned, ss.local, ss.forwarded, ss.drained,
		       ss.fwd_dropped, st->tx_dropped);
		for (i = 0; i < st->nb_flows; i++) {
			const struct flow_count *f = &st->flows[i];

			printf("flow %s %u.%u.%u.%u:%u > %u.%u.%u.%u:%u worker %u packets %" PRIu64
			       "\n",
			       f->proto == IPPROTO_TCP ? "tcp" : "udp", f->src >> 24,
			       (f->src >> 16) & 0xff, (f->src >> 8) & 0xff, f->src & 0xff, f->sport,
			       f->dst >> 24, (f->dst >> 16) & 0xff, (f->dst >> 8) & 0xff,
			       f->dst & 0xff, f->dport, q, f->packets);
		}
		if (st->flow_overflow != 0)
			printf("worker %u: %" PRIu64
			       " frames of flows beyond the first %u not listed\n",
			       q, st->flow_overflow, MAX_FLOWS);
		rx += st->rx_total;
		tx += st->tx;
		owned += ss.owned;
		fwd += ss.forwarded;
		fwd_drop += ss.fwd_dropped;
		q++;
	}
	printf("total: rx %" PRIu64, rx);
	for (i = 0; i < KIND_MAX; i++)
		printf(" %s %" PRIu64, kind_names[i], sum[i]);
	printf(" tx %" PRIu64 "\n", tx);
	printf("steer: %s owned %" PRIu64 " forwarded %" PRIu64 " fwd_drop %" PRIu64 "\n",
	       port.rss ? "rss" : "sw", owned, fwd, fwd_drop);
	print_impair(&port);
	if (opt.xstats) {
		gale_port_xstats_foreach(port.port_id, true, print_xstat, port.name);
		if (have_peer)
			gale_port_xstats_foreach(peer.port_id, true, print_xstat, peer.name);
	}

	/* Shutdown: rings, ports, then the pool must be whole again. */
	gale_steer_free(steer);
	flush_rx(&port);
	if (have_peer)
		flush_rx(&peer);
	gale_port_close(&port);
	gale_port_close(&peer);
	pool_size = pool->size;
	pool_free = rte_mempool_avail_count(pool);
	elapsed_ms = (rte_get_tsc_cycles() - __atomic_load_n(&stop_tsc, __ATOMIC_RELAXED)) * 1000 /
	             rte_get_tsc_hz();
	printf("mbufs: %u/%u free\n", pool_free, pool_size);
	printf("shutdown: %" PRIu64 " ms (deadline %u ms)\n", elapsed_ms, opt.drain_ms);
	fflush(stdout);
	gale_pool_fini();
	gale_eal_cleanup();
	if (opt.expect != 0 && sum[KIND_TEST] < opt.expect) {
		fprintf(stderr,
		        "gale-port-test: expected %" PRIu64 " test frames, counted %" PRIu64 "\n",
		        opt.expect, sum[KIND_TEST]);
		status = 3;
	} else if (opt.mode == MODE_TX && tx < opt.count) {
		fprintf(stderr, "gale-port-test: sent %" PRIu64 " of %" PRIu64 " frames\n", tx,
		        opt.count);
		status = 3;
	} else if (pool_free != pool_size) {
		fprintf(stderr, "gale-port-test: %u mbufs not returned to the pool\n",
		        pool_size - pool_free);
		status = 4;
	} else if (elapsed_ms > opt.drain_ms) {
		fprintf(stderr,
		        "gale-port-test: shutdown took %" PRIu64 " ms, over the %u ms deadline\n",
		        elapsed_ms, opt.drain_ms);
		status = 5;
	}
	return status;
}
