/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-tcpecho: raw TCP echo / discard / source server and client on gale's native stack, the
 * stack's own demonstration and test tool (as Netpoll ships its examples).
 *
 *   gale-tcpecho [EAL args] -- --listen 7 [--mode echo|discard|source] ...
 *   gale-tcpecho [EAL args] -- --connect 198.18.0.1:7 --bytes 1048576 --conns 8 [--client
 * echo|send|recv]
 *   gale-tcpecho [EAL args] -- --connect 198.18.0.1:7 --client rr --size 64 --conns 64 --duration 5
 *
 * Benchmark modes (perf/tcp/run): rr sends a message of --size bytes on each connection, waits for
 * its whole echo, and repeats, timing each transaction with the TSC into a histogram; send and recv
 * with --bytes 0 stream without end until --duration (recv from a server in source mode with
 * --bytes 0). After --warmup seconds the counters restart, and at the end one parseable line
 * `result: mode=... conns=... secs=... tps=... p50_us=... p99_us=...` (rr) or `... bytes=...
 * gbps=...` (send, recv) gives the rate over the measured interval; perf/tcp/linux_tcp.c prints
 * the same line for Linux. --idle poll busy-polls (benchmarks, each side pinned to its own core);
 * the default yields the core when idle. --stack-mtu sets the stack's MTU without asking the port,
 * for net_memif: its ethdev reports a 1500-byte MTU and refuses rte_eth_dev_set_mtu, yet carries
 * frames of any length in chained descriptors, so two gale stacks over memif can use 9000-byte
 * jumbo frames (segments larger than a buffer go out chained, see tcpstack/tcp_output.c).
 * --trust-link, on both ends of such a link, neither fills nor checks IPv4 and TCP checksums (the
 * stack is told the port offloads them and received frames are marked good), as Linux's veth
 * passes CHECKSUM_PARTIAL packets between namespaces without computing a checksum.
 * Segments of up to 64 KiB go to a port with TSO (net_tap) for it to cut; --no-tso says no.
 *
 * Streams carry a fixed pattern (byte i of a stream is i % 251) so both ends can check every byte
 * without keeping a copy: the client verifies what comes back byte by byte, a kernel peer hashes it
 * (SHA-256) against the same pattern. One worker (the main lcore, queue 0) runs the stack: rx
 * burst, stack input, timer wheel, flush, with an idle policy that yields the CPU when nothing
 * arrives (these machines share two cores with the peer). Multi-worker operation (one stack per
 * queue with dpdk_port's steering) is not wired yet.
 *
 * At exit it prints the stack's non-zero counters and the impairment layer's (--stats), the
 * connections still open (a server's with their sequence and window state, last so that a test's
 * log tail shows them) and the packet buffers still held, then frees the stack and checks that
 * every buffer came back to the pool. SIGUSR1 prints the key counters, the device's tx errors and
 * each server connection's state at once, to watch a run that stalls.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <gale/eal.h>
#include <gale/port.h>
#include <gale/tcp.h>
#include <gale/tcpstack.h>
#include <gale/timer.h>

#include "lat_hist.h"

#define PATTERN_PERIOD 251u
#define CHUNK          (64u * 1024u)

enum srv_mode { SRV_ECHO, SRV_DISCARD, SRV_SOURCE };
enum cli_mode { CLI_ECHO, CLI_SEND, CLI_RECV, CLI_RR };

struct conn_state {
	struct gale_tcp_conn *conn;
	struct conn_state *next, **pprev; /**< server: the list of accepted connections. */
	uint64_t sent, recvd;
	uint64_t target;  /**< rr: the stream offset where the message in flight ends. */
	uint64_t t_start; /**< rr: TSC when that message was handed to the stack. */
	bool closing, done, failed;
};

static struct gale_lat_hist lat_hist; /**< rr: transaction latencies. */
static uint64_t transactions;
static uint8_t pat_table[PATTERN_PERIOD + 65536u]; /**< pattern from any phase, any mbuf length. */

static volatile sig_atomic_t stop_flag, report_flag;
static struct gale_port port;
static struct gale_stack *stack;
static struct rte_mempool *pool;
static unsigned int pool_base;

static struct {
	uint32_t ip, netmask, gateway, peer_ip;
	uint16_t listen_port, peer_port, mtu;
	enum srv_mode srv;
	enum cli_mode cli;
	uint64_t bytes;
	unsigned int conns, exit_after, duration_s, max_conns;
	uint32_t delack_us, rto_min_us, rcvbuf, sndbuf;
	enum gale_tcp_cc cc;
	bool nagle, stats, client, poll, trust_link, tx_zerocopy, raw, no_tso;
	uint32_t size, stack_mtu, mbuf_size, nb_mbufs;
	double warmup_s;
	const char *port_name, *ready_file, *impair_rx, *impair_tx;
} opt;

static struct conn_state *cstates;
static struct conn_state *srv_conns; /**< accepted and not yet closed, for the report at exit. */
static unsigned int conns_done, conns_failed, conns_accepted, conns_closed;
static uint64_t total_rx, total_tx;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		report_flag = 1;
	else
		stop_flag = 1;
}

static inline uint8_t
pattern(uint64_t i)
{
	return (uint8_t)(i % PATTERN_PERIOD);
}

static uint16_t
tx_cb(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	(void)ctx;
	return gale_port_tx_burst(&port, 0, pkts, n);
}

/* A chain of len bytes: pattern from off, or copied from src at soff. NULL without buffers. */
static struct rte_mbuf *
make_chain(uint32_t len, uint64_t off, const struct rte_mbuf *src, uint32_t soff)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM, n;
	uint8_t *p;

	while (len > 0) {
		m = rte_pktmbuf_alloc(pool);
		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		n = len < room ? len : room;
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		if (src != NULL) {
			const void *q = rte_pktmbuf_read(src, soff, n, p);

			if (q != p)
				memcpy(p, q, n);
			soff += n;
		} else {
			memcpy(p, pat_table + off % PATTERN_PERIOD, n);
			off += n;
		}
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		len -= n;
	}
	return head;
}

/* Send pattern bytes from cs->sent up to opt.bytes as space allows. */
static void
pump_pattern(struct conn_state *cs, uint64_t limit)
{
	uint32_t space, n;
	struct rte_mbuf *m;

	while (cs->sent < limit && (space = gale_tcp_send_space(cs->conn)) > 0) {
		n = (uint32_t)(limit - cs->sent < space ? limit - cs->sent : space);
		if (n > CHUNK)
			n = CHUNK;
		m = make_chain(n, cs->sent, NULL, 0);
		if (m == NULL)
			return;
		if (gale_tcp_send(cs->conn, m) != 0) {
			rte_pktmbuf_free(m);
			return;
		}
		cs->sent += n;
		total_tx += n;
	}
}

/* Check and consume what arrived; false on a mismatch. */
static bool
take_verified(struct conn_state *cs, bool verify)
{
	const struct rte_mbuf *rc, *seg;
	uint32_t len;
	uint64_t off = cs->recvd;

	rc = gale_tcp_recv_peek(cs->conn, &len);
	if (rc == NULL)
		return true;
	if (verify) {
		for (seg = rc; seg != NULL; seg = seg->next) {
			if (memcmp(rte_pktmbuf_mtod(seg, const uint8_t *),
			           pat_table + off % PATTERN_PERIOD, seg->data_len) != 0)
				return false;
			off += seg->data_len;
		}
	}
	cs->recvd += len;
	total_rx += len;
	gale_tcp_consume(cs->conn, len);
	return true;
}

static void
finish(struct conn_state *cs, bool ok)
{
	if (cs->done)
		return;
	cs->done = true;
	if (ok)
		conns_done++;
	else
		conns_failed++;
}

/* ---- server ---- */

static void
srv_pump(struct gale_tcp_conn *c, struct conn_state *cs)
{
	const struct rte_mbuf *rc;
	struct rte_mbuf *m;
	uint32_t len, space, n;

	if (opt.srv == SRV_SOURCE) {
		/* --bytes 0: an endless stream, until the peer closes. */
		pump_pattern(cs, opt.bytes != 0 ? opt.bytes : UINT64_MAX);
		if (opt.bytes != 0 && cs->sent >= opt.bytes && !cs->closing) {
			cs->closing = true;
			gale_tcp_shutdown(c);
		}
		take_verified(cs, false);
		if (gale_tcp_eof(c) && (opt.bytes == 0 || cs->sent >= opt.bytes))
			gale_tcp_close(c);
		return;
	}
	for (;;) {
		rc = gale_tcp_recv_peek(c, &len);
		if (rc == NULL)
			break;
		if (opt.srv == SRV_DISCARD) {
			total_rx += len;
			gale_tcp_consume(c, len);
			continue;
		}
		space = gale_tcp_send_space(c);
		if (space == 0)
			return; /* writable resumes; the window closes meanwhile (flow control) */
		n = len < space ? len : space;
		if (n > CHUNK)
			n = CHUNK;
		m = make_chain(n, 0, rc, 0);
		if (m == NULL)
			return;
		if (gale_tcp_send(c, m) != 0) {
			rte_pktmbuf_free(m);
			return;
		}
		total_rx += n;
		total_tx += n;
		cs->recvd += n;
		cs->sent += n;
		gale_tcp_consume(c, n);
	}
	if (gale_tcp_eof(c) && !cs->closing) {
		cs->closing = true;
		gale_tcp_close(c);
	}
}

static void
srv_readable(struct gale_tcp_conn *c, void *arg)
{
	srv_pump(c, arg);
}

static void
srv_closed(struct gale_tcp_conn *c, void *arg)
{
	struct conn_state *cs = arg;

	(void)c;
	if (cs->pprev != NULL) {
		*cs->pprev = cs->next;
		if (cs->next != NULL)
			cs->next->pprev = cs->pprev;
	}
	free(cs);
	conns_closed++;
	if (opt.exit_after != 0 && conns_closed >= opt.exit_after)
		stop_flag = 1;
}

static const struct gale_tcp_callbacks srv_cbs = {
	.readable = srv_readable,
	.writable = srv_readable,
	.closed = srv_closed,
};

static int
srv_accept(void *arg, struct gale_tcp_conn *c)
{
	struct conn_state *cs = calloc(1, sizeof(*cs));

	(void)arg;
	if (cs == NULL)
		return -ENOMEM;
	cs->conn = c;
	cs->next = srv_conns;
	if (srv_conns != NULL)
		srv_conns->pprev = &cs->next;
	cs->pprev = &srv_conns;
	srv_conns = cs;
	conns_accepted++;
	gale_tcp_set_callbacks(c, &srv_cbs, cs);
	if (opt.srv == SRV_SOURCE)
		srv_pump(c, cs);
	return 0;
}

/* ---- client ---- */

static void
lat_record(uint64_t cycles)
{
	static uint64_t hz;

	if (hz == 0)
		hz = rte_get_tsc_hz();
	gale_lat_hist_add(&lat_hist, cycles * 1000000000ull / hz);
}

static void
cli_progress(struct conn_state *cs)
{
	if (cs->done || cs->conn == NULL)
		return;
	switch (opt.cli) {
	case CLI_RR:
		if (!take_verified(cs, true)) {
			fprintf(stderr, "tcpecho: data mismatch at byte %lu\n",
			        (unsigned long)cs->recvd);
			finish(cs, false);
			gale_tcp_abort(cs->conn);
			return;
		}
		if (cs->target != 0 && cs->recvd >= cs->target) {
			lat_record(rte_rdtsc() - cs->t_start);
			transactions++;
			cs->target = 0;
		}
		if (cs->target == 0 && !stop_flag) {
			cs->target = cs->sent + opt.size;
			cs->t_start = rte_rdtsc();
		}
		if (cs->target != 0 && cs->sent < cs->target)
			pump_pattern(cs, cs->target);
		break;
	case CLI_ECHO:
		pump_pattern(cs, opt.bytes);
		if (!take_verified(cs, true)) {
			fprintf(stderr, "tcpecho: data mismatch at byte %lu\n",
			        (unsigned long)cs->recvd);
			finish(cs, false);
			gale_tcp_abort(cs->conn);
			return;
		}
		if (cs->recvd >= opt.bytes && !cs->closing) {
			cs->closing = true;
			gale_tcp_close(cs->conn);
		}
		break;
	case CLI_SEND:
		pump_pattern(cs, opt.bytes != 0 ? opt.bytes : UINT64_MAX);
		if (opt.bytes != 0 && cs->sent >= opt.bytes && !cs->closing) {
			cs->closing = true;
			gale_tcp_shutdown(cs->conn);
		}
		take_verified(cs, false);
		if (gale_tcp_eof(cs->conn) && cs->closing)
			gale_tcp_close(cs->conn);
		break;
	case CLI_RECV:
		if (!take_verified(cs, true)) {
			fprintf(stderr, "tcpecho: data mismatch at byte %lu\n",
			        (unsigned long)cs->recvd);
			finish(cs, false);
			gale_tcp_abort(cs->conn);
			return;
		}
		if (gale_tcp_eof(cs->conn) && !cs->closing) {
			cs->closing = true;
			gale_tcp_close(cs->conn);
		}
		break;
	}
}

static void
cli_event(struct gale_tcp_conn *c, void *arg)
{
	(void)c;
	cli_progress(arg);
}

static void
cli_error(struct gale_tcp_conn *c, void *arg, int err)
{
	struct conn_state *cs = arg;

	(void)c;
	fprintf(stderr, "tcpecho: connection error: %s\n", strerror(-err));
	cs->failed = true;
}

static void
cli_closed(struct gale_tcp_conn *c, void *arg)
{
	struct conn_state *cs = arg;
	bool ok;

	(void)c;
	cs->conn = NULL;
	conns_closed++;
	ok = !cs->failed && (opt.cli == CLI_RR     ? true
	                     : opt.bytes == 0      ? true
	                     : opt.cli == CLI_SEND ? cs->sent == opt.bytes
	                     : opt.cli == CLI_RECV ? (opt.bytes == 0 || cs->recvd == opt.bytes)
	                                           : cs->recvd == opt.bytes);
	finish(cs, ok);
}

static const struct gale_tcp_callbacks cli_cbs = {
	.connected = cli_event,
	.readable = cli_event,
	.writable = cli_event,
	.error = cli_error,
	.closed = cli_closed,
};

/* ---- main ---- */

/* What a connection still open at exit was doing: the first thing to read when a run stalls. */
static void
print_conn(const char *what, unsigned int i, const struct conn_state *cs)
{
	struct gale_tcp_info ti;

	gale_tcp_get_info(cs->conn, &ti);
	printf("tcpecho: %s conn %u: %s sent=%lu recvd=%lu snd_una=%u snd_nxt=%u snd_wnd=%u "
	       "cwnd=%u ssthresh=%u rcv_nxt=%u rcv_wnd=%u snd_buf=%u rcv_buf=%u ooo=%u rto=%u "
	       "rexmits=%u\n",
	       what, i, gale_tcp_state_name(ti.state), (unsigned long)cs->sent,
	       (unsigned long)cs->recvd, ti.snd_una, ti.snd_nxt, ti.snd_wnd, ti.cwnd, ti.ssthresh,
	       ti.rcv_nxt, ti.rcv_wnd, ti.snd_buffered, ti.rcv_buffered, ti.ooo_segs, ti.rto_us,
	       ti.rexmits);
}

/* SIGUSR1: the server's connections and the key counters now, to watch a run that stalls. */
static void
report(void)
{
	static const char *const keys[] = { "tcp_rexmt_timeout",   "tcp_rexmt_seg",
		                            "tcp_drop_cksum",      "tcp_persist_probe",
		                            "tcp_ooo_seg",         "tcp_dup_seg",
		                            "tcp_drop_reass_full", "tcp_nombuf",
		                            "eth_drop_dst",        "tcp_drop_out_of_window",
		                            "tcp_ack_tx" };
	const uint64_t *v = (const uint64_t *)gale_stack_stats(stack);
	struct conn_state *cs;
	unsigned int i, k;

	printf("report us=%lu open=%u", (unsigned long)gale_timer_now_us(),
	       gale_stack_conn_count_in(stack, ~(uint32_t)GALE_TCPS_TIME_WAIT));
	for (i = 0; i < GALE_STACK_NB_STATS; i++)
		for (k = 0; k < RTE_DIM(keys); k++)
			if (strcmp(gale_stack_stat_names[i], keys[k]) == 0)
				printf(" %s=%lu", keys[k], (unsigned long)v[i]);
	if (port.impair != NULL) {
		struct gale_impair_stats is;
		struct rte_eth_stats es;

		memset(&es, 0, sizeof(es));
		(void)rte_eth_stats_get(port.port_id, &es);
		(void)gale_impair_stats_get(port.impair, GALE_IMPAIR_TX, UINT16_MAX, &is);
		printf(" impair_held=%u tx_released=%lu tx_passed=%lu tx_hold_full=%lu opackets=%lu"
		       " oerrors=%lu",
		       gale_impair_held(port.impair, 0), (unsigned long)is.released,
		       (unsigned long)is.passed, (unsigned long)is.hold_full,
		       (unsigned long)es.opackets, (unsigned long)es.oerrors);
	}
	printf("\n");
	for (cs = srv_conns, i = 0; cs != NULL; cs = cs->next, i++)
		print_conn("now", i, cs);
	fflush(stdout);
}

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args] -- [options]\n"
	       "  --port NAME          ethdev to use (default: the first)\n"
	       "  --ip A.B.C.D[/LEN]   our address (default 198.18.0.2/24)\n"
	       "  --gw A.B.C.D         gateway for off-link peers\n"
	       "  --mtu N              IP MTU (default: the port's, else 1500)\n"
	       "  --listen PORT        server on PORT\n"
	       "  --mode M             server: echo (default), discard, source\n"
	       "  --connect A.B.C.D:P  client to A.B.C.D port P\n"
	       "  --client M           client: echo (default: send, read back, verify), send, "
	       "recv,\n"
	       "                       rr (request/response: --size bytes, wait for the echo, "
	       "repeat)\n"
	       "  --bytes N            bytes per connection (client; server in source mode); 0 "
	       "with\n"
	       "                       send, recv or a source server: endless (until --duration)\n"
	       "  --size N             rr: message size (default 64)\n"
	       "  --warmup S           benchmark modes: restart the counters after S seconds\n"
	       "  --idle poll|yield    busy-poll, or yield the core when idle (default)\n"
	       "  --stack-mtu N        the stack's MTU, port untouched (memif: jumbo frames)\n"
	       "  --mbuf-size N        data room (headroom included) of the port's packet buffers\n"
	       "  --nb-mbufs N         packet buffers in the port's pool (default 16383)\n"
	       "  --trust-link         no IPv4/TCP checksums, sent or checked (both ends of a "
	       "memif\n"
	       "                       link between gale processes, as Linux's veth skips them)\n"
	       "  --tx-zerocopy        segments reference the send buffer instead of copying it\n"
	       "                       (not with --impair-*: a corrupted frame would corrupt it)\n"
	       "  --raw                no stack, the port's floor: an echo server reflects frames,\n"
	       "                       an rr client (1 conn) ping-pongs one frame as long as a\n"
	       "                       TCP segment of --size bytes\n"
	       "  --no-tso             segment to MSS in the stack even when the port has TSO\n"
	       "  --conns N            concurrent client connections (default 1)\n"
	       "  --exit-after N       server: exit after N connections closed\n"
	       "  --duration S         exit after S seconds (0 = no limit)\n"
	       "  --max-conns N        connection table size (default 4096)\n"
	       "  --rcvbuf N --sndbuf N  per-connection buffers (default 256 KiB)\n"
	       "  --delack US          delayed ACK (default 0 = off)\n"
	       "  --rto-min US         minimum RTO (default 5000)\n"
	       "  --cc newreno|cubic   congestion control\n"
	       "  --nagle              Nagle's algorithm on\n"
	       "  --impair-rx SPEC --impair-tx SPEC  dpdk_port impairments (see gale/impair.h)\n"
	       "  --ready-file PATH    written once listening / connecting\n"
	       "  --stats              print the stack's counters at exit\n"
	       "  --help\n",
	       prog);
}

static int
parse_ip(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[64], *slash;
	struct in_addr a;
	long len = 24;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		len = strtol(slash + 1, NULL, 10);
		if (len < 1 || len > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	if (mask != NULL)
		*mask = len == 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "ip", required_argument, NULL, 'i' },
		{ "gw", required_argument, NULL, 'g' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "listen", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "connect", required_argument, NULL, 'c' },
		{ "client", required_argument, NULL, 'C' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "conns", required_argument, NULL, 'n' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-conns", required_argument, NULL, 'N' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "sndbuf", required_argument, NULL, 's' },
		{ "delack", required_argument, NULL, 'D' },
		{ "rto-min", required_argument, NULL, 'R' },
		{ "cc", required_argument, NULL, 'k' },
		{ "nagle", no_argument, NULL, 'G' },
		{ "impair-rx", required_argument, NULL, 'I' },
		{ "impair-tx", required_argument, NULL, 'T' },
		{ "ready-file", required_argument, NULL, 'f' },
		{ "stats", no_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 'z' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "idle", required_argument, NULL, 'y' },
		{ "stack-mtu", required_argument, NULL, 'U' },
		{ "mbuf-size", required_argument, NULL, 'B' },
		{ "nb-mbufs", required_argument, NULL, 'P' },
		{ "trust-link", no_argument, NULL, 'X' },
		{ "tx-zerocopy", no_argument, NULL, 'Z' },
		{ "raw", no_argument, NULL, 'W' },
		{ "no-tso", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *colon;

	opt.ip = 0xc6120002u;
	opt.netmask = 0xffffff00u;
	opt.conns = 1;
	opt.max_conns = 4096;
	opt.rto_min_us = 5000;
	opt.bytes = 1024;
	opt.size = 64;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt.port_name = optarg;
			break;
		case 'i':
			if (parse_ip(optarg, &opt.ip, &opt.netmask) < 0)
				goto bad;
			break;
		case 'g':
			if (parse_ip(optarg, &opt.gateway, NULL) < 0)
				goto bad;
			break;
		case 'M':
			opt.mtu = (uint16_t)atoi(optarg);
			break;
		case 'l':
			opt.listen_port = (uint16_t)atoi(optarg);
			break;
		case 'm':
			if (strcmp(optarg, "echo") == 0)
				opt.srv = SRV_ECHO;
			else if (strcmp(optarg, "discard") == 0)
				opt.srv = SRV_DISCARD;
			else if (strcmp(optarg, "source") == 0)
				opt.srv = SRV_SOURCE;
			else
				goto bad;
			break;
		case 'c':
			colon = strrchr(optarg, ':');
			if (colon == NULL)
				goto bad;
			*colon = '\0';
			if (parse_ip(optarg, &opt.peer_ip, NULL) < 0)
				goto bad;
			opt.peer_port = (uint16_t)atoi(colon + 1);
			opt.client = true;
			break;
		case 'C':
			if (strcmp(optarg, "echo") == 0)
				opt.cli = CLI_ECHO;
			else if (strcmp(optarg, "send") == 0)
				opt.cli = CLI_SEND;
			else if (strcmp(optarg, "recv") == 0)
				opt.cli = CLI_RECV;
			else if (strcmp(optarg, "rr") == 0)
				opt.cli = CLI_RR;
			else
				goto bad;
			break;
		case 'b':
			opt.bytes = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			opt.conns = (unsigned int)atoi(optarg);
			break;
		case 'x':
			opt.exit_after = (unsigned int)atoi(optarg);
			break;
		case 'd':
			opt.duration_s = (unsigned int)atoi(optarg);
			break;
		case 'N':
			opt.max_conns = (unsigned int)atoi(optarg);
			break;
		case 'r':
			opt.rcvbuf = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			opt.sndbuf = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'D':
			opt.delack_us = (uint32_t)atoi(optarg);
			break;
		case 'R':
			opt.rto_min_us = (uint32_t)atoi(optarg);
			break;
		case 'k':
			if (strcmp(optarg, "newreno") == 0)
				opt.cc = GALE_TCP_CC_NEWRENO;
			else if (strcmp(optarg, "cubic") == 0)
				opt.cc = GALE_TCP_CC_CUBIC;
			else
				goto bad;
			break;
		case 'G':
			opt.nagle = true;
			break;
		case 'I':
			opt.impair_rx = optarg;
			break;
		case 'T':
			opt.impair_tx = optarg;
			break;
		case 'f':
			opt.ready_file = optarg;
			break;
		case 'S':
			opt.stats = true;
			break;
		case 'z':
			opt.size = (uint32_t)strtoul(optarg, NULL, 0);
			if (opt.size == 0)
				goto bad;
			break;
		case 'w':
			opt.warmup_s = strtod(optarg, NULL);
			break;
		case 'y':
			if (strcmp(optarg, "poll") == 0)
				opt.poll = true;
			else if (strcmp(optarg, "yield") == 0)
				opt.poll = false;
			else
				goto bad;
			break;
		case 'U':
			opt.stack_mtu = (uint32_t)strtoul(optarg, NULL, 0);
			if (opt.stack_mtu < 576 || opt.stack_mtu > 65535)
				goto bad;
			break;
		case 'B':
			opt.mbuf_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'P':
			opt.nb_mbufs = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'X':
			opt.trust_link = true;
			break;
		case 'Z':
			opt.tx_zerocopy = true;
			break;
		case 'W':
			opt.raw = true;
			break;
		case 'O':
			opt.no_tso = true;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			goto bad;
		}
	}
	if (opt.tx_zerocopy && (opt.impair_rx != NULL || opt.impair_tx != NULL)) {
		fprintf(stderr, "tcpecho: --tx-zerocopy with impairments would corrupt the send "
		                "buffer\n");
		return -EINVAL;
	}
	if (opt.raw && (opt.client ? opt.cli != CLI_RR || opt.conns != 1 : opt.srv != SRV_ECHO)) {
		fprintf(stderr, "tcpecho: --raw is for an echo server or an rr client on 1 conn\n");
		return -EINVAL;
	}
	if (opt.listen_port == 0 && !opt.client) {
		fprintf(stderr, "tcpecho: give --listen PORT or --connect ADDR:PORT (--help)\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "tcpecho: bad option value%s%s (--help)\n", optarg ? ": " : "",
	        optarg ? optarg : "");
	return -EINVAL;
}

/* The idle policy of both loops: busy-poll, or after 256 empty polls yield the core, after 4096
 * sleep 20 us. idle counts empty polls; n is this poll's frames. */
static void
idle_step(uint64_t *idle, uint16_t n)
{
	if (opt.poll) {
		/* Busy-poll: nothing else should run on this core. */
	} else if (n == 0 && ++*idle > 256) {
		/* Give the core to the peer and the test driver (a yield when they are runnable, a
		 * short sleep after a long idle stretch). */
		if (*idle < 4096) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
		}
	} else if (n > 0) {
		*idle = 0;
	}
}

#define RAW_ETHERTYPE 0x88b5 /* IEEE 802 local experimental */

/*
 * --raw: the port's floor under rr, no stack. The server sends every frame back with the MAC
 * addresses swapped; the client sends one frame at a time, as long as a TCP rr segment of --size
 * bytes (Ethernet, IPv4, TCP with timestamps: 66 bytes of headers), waits for it to come back
 * (sequence number checked), and records the round trip in the same histogram, with the same idle
 * policy. Returns the exit code.
 */
static int
run_raw(void)
{
	const uint32_t flen = 66 + opt.size;
	uint64_t start_us, now, meas_us = 0, idle = 0, seq = 0, t0 = 0;
	struct rte_mbuf *pkts[32], *m;
	struct rte_ether_hdr *eh;
	struct rte_ether_addr tmp;
	bool measuring = opt.warmup_s <= 0, waiting = false;
	uint16_t n, i, sent;

	start_us = gale_timer_now_us();
	meas_us = start_us;
	while (!stop_flag) {
		n = gale_port_rx_burst(&port, 0, pkts, 32);
		if (!opt.client) {
			for (i = 0; i < n; i++) {
				eh = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
				tmp = eh->dst_addr;
				eh->dst_addr = eh->src_addr;
				eh->src_addr = tmp;
			}
			sent = n > 0 ? gale_port_tx_burst(&port, 0, pkts, n) : 0;
			if (sent < n)
				rte_pktmbuf_free_bulk(pkts + sent, n - sent);
			total_rx += n;
			idle_step(&idle, n);
			continue;
		}
		for (i = 0; i < n; i++) {
			eh = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
			if (waiting && eh->ether_type == rte_cpu_to_be_16(RAW_ETHERTYPE) &&
			    rte_pktmbuf_pkt_len(pkts[i]) == flen &&
			    memcmp(eh + 1, &seq, sizeof(seq)) == 0) {
				lat_record(rte_rdtsc() - t0);
				transactions++;
				waiting = false;
			}
			rte_pktmbuf_free(pkts[i]);
		}
		now = gale_timer_now_us();
		if (!measuring && now - start_us >= opt.warmup_s * 1e6) {
			measuring = true;
			meas_us = now;
			transactions = 0;
			gale_lat_hist_reset(&lat_hist);
		}
		if (now - start_us > opt.duration_s * 1000000ull)
			break;
		if (!waiting) {
			m = rte_pktmbuf_alloc(port.pool);
			if (m == NULL || rte_pktmbuf_append(m, (uint16_t)flen) == NULL) {
				fprintf(stderr, "tcpecho: raw: no packet buffer\n");
				rte_pktmbuf_free(m);
				return 1;
			}
			eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
			eh->src_addr = port.mac;
			eh->ether_type = rte_cpu_to_be_16(RAW_ETHERTYPE);
			memset(eh + 1, 0, flen - sizeof(*eh));
			seq++;
			memcpy(eh + 1, &seq, sizeof(seq));
			t0 = rte_rdtsc();
			if (gale_port_tx_burst(&port, 0, &m, 1) == 1)
				waiting = true;
			else
				rte_pktmbuf_free(m);
		}
		idle_step(&idle, n);
	}
	if (opt.client) {
		now = gale_timer_now_us();
		gale_bench_print_rr("gale-port", 1, opt.size,
		                    measuring && now > meas_us ? (now - meas_us) / 1e6 : 0, transactions,
		                    &lat_hist);
	} else {
		printf("tcpecho: raw server reflected %lu frames\n", (unsigned long)total_rx);
	}
	fflush(stdout);
	return 0;
}

static void
write_ready(void)
{
	FILE *f;

	if (opt.ready_file == NULL)
		return;
	f = fopen(opt.ready_file, "w");
	if (f != NULL) {
		fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x\n", port.mac.addr_bytes[0],
		        port.mac.addr_bytes[1], port.mac.addr_bytes[2], port.mac.addr_bytes[3],
		        port.mac.addr_bytes[4], port.mac.addr_bytes[5]);
		fclose(f);
	}
}

int
main(int argc, char **argv)
{
	static const char *const def_vdevs[] = { "net_tap0,iface=gale0", NULL };
	struct gale_eal_defaults def = { .lcores = "0",
		                         .vdevs = def_vdevs,
		                         .log_level = "lib.eal:warning" };
	struct gale_eal_info info;
	struct gale_port_conf pconf;
	struct gale_stack_conf sc;
	struct gale_timer_wheel *wheel;
	struct rte_mbuf *pkts[32];
	uint16_t port_id = 0, n, i;
	uint64_t start_us, now, idle = 0, meas_us = 0, rx0 = 0, tx0 = 0;
	unsigned int started = 0, active;
	bool bench, measuring;
	int ret, rc = 0;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(argv[0]);
			return 0;
		}
	ret = gale_eal_init(argc, argv, &def, &info);
	if (ret < 0) {
		fprintf(stderr, "tcpecho: EAL init failed: %s\n", strerror(-ret));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_args(argc, argv) < 0)
		return 2;
	for (size_t k = 0; k < sizeof(pat_table); k++)
		pat_table[k] = pattern(k);
	/* Benchmark runs: rr, or an endless send or recv, ended by --duration. */
	bench = opt.client && (opt.cli == CLI_RR || (opt.bytes == 0 && opt.cli != CLI_ECHO));
	if (bench && opt.duration_s == 0) {
		fprintf(stderr, "tcpecho: rr and endless send/recv need --duration\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	if (opt.port_name != NULL && gale_port_lookup(opt.port_name, &port_id) < 0) {
		fprintf(stderr, "tcpecho: no port %s\n", opt.port_name);
		return 1;
	}
	if (opt.port_name == NULL && rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "tcpecho: no port (give a --vdev)\n");
		return 1;
	}
	if (opt.port_name == NULL)
		port_id = (uint16_t)rte_eth_find_next(0);
	memset(&pconf, 0, sizeof(pconf));
	pconf.nb_queues = 1;
	pconf.nb_mbufs = opt.nb_mbufs != 0 ? opt.nb_mbufs : 16383;
	if (opt.mtu)
		pconf.mtu = opt.mtu;
	pconf.mbuf_size = opt.mbuf_size;
	ret = gale_port_setup(&port, port_id, &pconf);
	if (ret < 0) {
		fprintf(stderr, "tcpecho: port setup failed: %s\n", strerror(-ret));
		return 1;
	}
	pool = port.pool;
	pool_base = rte_mempool_in_use_count(pool);
	if (opt.raw) {
		write_ready();
		rc = run_raw();
		gale_port_close(&port);
		return rc;
	}
	if (opt.impair_rx != NULL || opt.impair_tx != NULL) {
		struct gale_impair_conf ic;

		memset(&ic, 0, sizeof(ic));
		ic.seed = 1;
		if ((opt.impair_rx != NULL &&
		     gale_impair_parse(opt.impair_rx, &ic.rx, &ic.seed) < 0) ||
		    (opt.impair_tx != NULL &&
		     gale_impair_parse(opt.impair_tx, &ic.tx, &ic.seed) < 0) ||
		    gale_port_impair_set(&port, &ic) < 0) {
			fprintf(stderr, "tcpecho: bad impairment spec\n");
			gale_port_close(&port);
			return 2;
		}
	}
	wheel = gale_timer_wheel_create(gale_timer_now_us());
	gale_stack_conf_init(&sc);
	sc.ip = opt.ip;
	sc.netmask = opt.netmask;
	sc.gateway = opt.gateway;
	sc.mac = port.mac;
	if (opt.mtu)
		sc.mtu = opt.mtu;
	if (opt.stack_mtu)
		sc.mtu = (uint16_t)opt.stack_mtu;
	sc.pool = pool;
	sc.wheel = wheel;
	sc.tx_burst = tx_cb;
	sc.max_conns = opt.max_conns;
	if (opt.rcvbuf)
		sc.rcvbuf = opt.rcvbuf;
	if (opt.sndbuf)
		sc.sndbuf = opt.sndbuf;
	sc.delack_us = opt.delack_us;
	sc.rto_min_us = opt.rto_min_us;
	sc.cc = opt.cc;
	sc.nagle = opt.nagle;
	if (opt.trust_link)
		sc.tx_offloads = GALE_STACK_OFFLOAD_IPV4_CKSUM | GALE_STACK_OFFLOAD_TCP_CKSUM;
	sc.tx_zerocopy = opt.tx_zerocopy;
	/* TSO when the port has it (net_tap: librte_gso in the PMD; port.on.tso is off under tx
	 * corruption, see gale_port_impair_set). */
	if (port.on.tso && !opt.no_tso) {
		sc.tx_offloads |= GALE_STACK_OFFLOAD_TSO;
		sc.tso_frame_max = port.on.tso_frame_max;
	}
	stack = gale_stack_create(&sc);
	if (wheel == NULL || stack == NULL) {
		fprintf(stderr, "tcpecho: cannot create the stack\n");
		gale_port_close(&port);
		return 1;
	}
	gale_stack_arp_announce(stack);
	if (opt.listen_port != 0 &&
	    gale_tcp_listen(stack, opt.listen_port, 0, srv_accept, NULL) < 0) {
		fprintf(stderr, "tcpecho: cannot listen on %u\n", opt.listen_port);
		return 1;
	}
	if (opt.client) {
		cstates = calloc(opt.conns, sizeof(*cstates));
		if (cstates == NULL)
			return 1;
	}
	printf("tcpecho: %s on %s (%02x:%02x:%02x:%02x:%02x:%02x), ip %u.%u.%u.%u, 1 worker\n",
	       opt.client ? "client" : "server", port.name, port.mac.addr_bytes[0],
	       port.mac.addr_bytes[1], port.mac.addr_bytes[2], port.mac.addr_bytes[3],
	       port.mac.addr_bytes[4], port.mac.addr_bytes[5], opt.ip >> 24, (opt.ip >> 16) & 255,
	       (opt.ip >> 8) & 255, opt.ip & 255);
	fflush(stdout);
	write_ready();
	start_us = gale_timer_now_us();
	measuring = opt.warmup_s <= 0;
	if (measuring)
		meas_us = start_us;
	while (!stop_flag) {
		n = gale_port_rx_burst(&port, 0, pkts, 32);
		if (opt.trust_link)
			for (i = 0; i < n; i++)
				pkts[i]->ol_flags |=
				        RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		if (n > 0)
			gale_stack_input(stack, pkts, n);
		/* One clock reading per iteration: the wheel, the warm-up and the duration. */
		now = gale_timer_now_us();
		gale_timer_wheel_advance(wheel, now);
		if (report_flag) {
			report_flag = 0;
			report();
		}
		/* Open client connections in batches so that a thousand do not all start in one
		 * instant. */
		if (opt.client && started < opt.conns) {
			for (active = 0; active < 64 && started < opt.conns; active++, started++) {
				struct conn_state *cs = &cstates[started];

				ret = gale_tcp_connect(stack, opt.peer_ip, opt.peer_port, &cli_cbs,
				                       cs, &cs->conn);
				if (ret < 0) {
					fprintf(stderr, "tcpecho: connect: %s\n", strerror(-ret));
					finish(cs, false);
				}
			}
		}
		gale_stack_flush(stack);
		/* The impairment layer releases delayed and reordered frames when tx_burst is
		 * called. */
		if (port.impair != NULL)
			gale_port_tx_burst(&port, 0, pkts, 0);
		if (opt.client && conns_done + conns_failed >= opt.conns)
			break;
		if (!measuring && now - start_us >= opt.warmup_s * 1e6) {
			/* Warm-up over: the measured interval starts now. */
			measuring = true;
			meas_us = now;
			rx0 = total_rx;
			tx0 = total_tx;
			transactions = 0;
			gale_lat_hist_reset(&lat_hist);
		}
		if (opt.duration_s != 0 && now - start_us > opt.duration_s * 1000000ull)
			break;
		idle_step(&idle, n);
	}
	if (bench) {
		uint64_t end = gale_timer_now_us();
		double secs = measuring && end > meas_us ? (end - meas_us) / 1e6 : 0;

		if (opt.cli == CLI_RR)
			gale_bench_print_rr("gale", opt.conns, opt.size, secs, transactions,
			                    &lat_hist);
		else
			gale_bench_print_bulk(
			        "gale", opt.cli == CLI_SEND ? "send" : "recv", opt.conns, secs,
			        opt.cli == CLI_SEND ? total_tx - tx0 : total_rx - rx0);
		fflush(stdout);
		/* A benchmark ends by the clock: reset what is still open and count it done. */
		for (i = 0; i < opt.conns; i++) {
			if (cstates[i].conn == NULL || cstates[i].done)
				continue;
			finish(&cstates[i], !cstates[i].failed);
			gale_tcp_abort(cstates[i].conn);
		}
	}
	/* Let the last ACKs and FINs out. */
	for (i = 0; i < 200 && gale_stack_tx_pending(stack) > 0; i++)
		gale_stack_flush(stack);
	if (opt.client) {
		printf("tcpecho: client conns=%u ok=%u failed=%u rx=%lu tx=%lu\n", opt.conns,
		       conns_done, conns_failed, (unsigned long)total_rx, (unsigned long)total_tx);
		if (conns_done != opt.conns)
			rc = 1;
		for (i = 0; i < opt.conns; i++) {
			if (cstates[i].conn == NULL || cstates[i].done)
				continue;
			print_conn("unfinished", i, &cstates[i]);
		}
	} else {
		printf("tcpecho: server accepted=%u closed=%u rx=%lu tx=%lu\n", conns_accepted,
		       conns_closed, (unsigned long)total_rx, (unsigned long)total_tx);
	}
	if (opt.stats) {
		const uint64_t *v = (const uint64_t *)gale_stack_stats(stack);

		for (i = 0; i < GALE_STACK_NB_STATS; i++)
			if (v[i] != 0)
				printf("stat %s %lu\n", gale_stack_stat_names[i],
				       (unsigned long)v[i]);
	}
	if (opt.stats) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(port.port_id, &es) == 0)
			printf("port ipackets=%lu opackets=%lu imissed=%lu ierrors=%lu oerrors=%lu "
			       "rx_nombuf=%lu\n",
			       (unsigned long)es.ipackets, (unsigned long)es.opackets,
			       (unsigned long)es.imissed, (unsigned long)es.ierrors,
			       (unsigned long)es.oerrors, (unsigned long)es.rx_nombuf);
	}
	if (opt.stats && port.impair != NULL) {
		struct gale_impair_stats is;
		int d;

		for (d = GALE_IMPAIR_RX; d <= GALE_IMPAIR_TX; d++)
			if (gale_impair_stats_get(port.impair, (enum gale_impair_dir)d, UINT16_MAX,
			                          &is) == 0)
				printf("impair %s packets=%lu dropped=%lu duplicated=%lu "
				       "corrupted=%lu "
				       "reordered=%lu delayed=%lu hold_full=%lu released=%lu "
				       "passed=%lu refused=%lu\n",
				       d == GALE_IMPAIR_RX ? "rx" : "tx", (unsigned long)is.packets,
				       (unsigned long)is.dropped, (unsigned long)is.duplicated,
				       (unsigned long)is.corrupted, (unsigned long)is.reordered,
				       (unsigned long)is.delayed, (unsigned long)is.hold_full,
				       (unsigned long)is.released, (unsigned long)is.passed,
				       (unsigned long)is.refused);
	}
	if (!opt.client) {
		struct conn_state *cs;

		/* Last, so that a test printing the tail of this log shows them. */
		for (cs = srv_conns, i = 0; cs != NULL; cs = cs->next, i++)
			print_conn("open", i, cs);
	}
	printf("tcpecho: conns_open=%u conns_timewait=%u mbufs_held=%u\n",
	       gale_stack_conn_count_in(stack, ~(uint32_t)GALE_TCPS_TIME_WAIT),
	       gale_stack_conn_count_in(stack, GALE_TCPS_TIME_WAIT), gale_stack_mbufs_held(stack));
	gale_stack_free(stack);
	gale_timer_wheel_free(wheel);
	{
		unsigned int in_use;

		/* Buffers still in the port's rx ring are not leaks: count only what the stack
		 * could hold. */
		rte_eth_dev_stop(port.port_id);
		unsigned int held = port.impair != NULL ? gale_impair_held(port.impair, 0) : 0;

		in_use = rte_mempool_in_use_count(pool);
		/* What the port's rx ring held at start it holds now, and the impairment layer
		 * holds what it delays; anything above that is a leak. */
		printf("tcpecho: impair_held=%u pool_leaked=%d\n", held,
		       (int)in_use - (int)pool_base - (int)held);
	}
	fflush(stdout);
	gale_port_close(&port);
	free(cstates);
	return rc;
}
