/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux-tcp: the Linux side of perf/tcp, gale-tcpecho's workloads on kernel sockets, so that the
 * two stacks run the same traffic and print the same result line.
 *
 *   linux-tcp --listen PORT [--mode echo|discard|source]
 *   linux-tcp --connect A.B.C.D:PORT --client rr|send|recv [--size 64] [--conns N]
 *             --duration S [--warmup S]
 *
 * One thread, non-blocking sockets, one epoll set (level-triggered), TCP_NODELAY on every
 * connection (gale runs with Nagle off too); the caller pins it to one core. Streams carry
 * gale-tcpecho's pattern (byte i of a stream is i % 251): rr checks every echoed byte and recv
 * every received byte against it with memcmp, as gale-tcpecho does, so both sides pay for the same
 * checks. rr: each connection writes a message of --size bytes, reads until its whole echo is back,
 * records the time since the write (CLOCK_MONOTONIC) in gale-tcpecho's histogram (lat_hist.h) and
 * writes the next. send and recv stream 64 KiB writes and reads. After --warmup seconds the
 * counters restart; at --duration it prints
 *
 *   result: stack=linux mode=rr conns=N size=64 secs=... transactions=... tps=... p50_us=...
 *   result: stack=linux mode=send conns=N secs=... bytes=... gbps=...
 *
 * and exits. A server runs until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lat_hist.h"

#define PATTERN_PERIOD 251u
#define CHUNK          (64u * 1024u)
#define MAX_EVENTS     256

enum mode { M_ECHO, M_DISCARD, M_SOURCE, M_RR, M_SEND, M_RECV };

struct conn {
	int fd;
	uint64_t sent, recvd;        /**< stream offsets. */
	uint64_t target;             /**< rr: offset where the message in flight ends. */
	uint64_t t_start;            /**< rr: ns when it was written. */
	uint32_t pend_off, pend_len; /**< echo server: bytes read and not yet written back. */
	uint8_t *pend;
};

static uint8_t pat[PATTERN_PERIOD + CHUNK];
static struct gale_lat_hist lat_hist;
static uint64_t transactions, bytes;
static volatile sig_atomic_t stop_flag;
static int ep;

static struct {
	enum mode mode;
	bool client;
	uint32_t size, conns;
	double duration, warmup;
	struct sockaddr_in addr;
} opt;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "linux-tcp: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
setup_fd(int fd)
{
	int one = 1;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl");
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY");
}

static void
watch(struct conn *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(ep, op, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void
conn_close(struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pend);
	free(c);
}

/* Read what is there and check it against the pattern; false when the peer closed or on error.
 */
static bool
read_verified(struct conn *c, bool verify)
{
	static uint8_t buf[CHUNK];
	ssize_t n;

	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			if (verify &&
			    memcmp(buf, pat + c->recvd % PATTERN_PERIOD, (size_t)n) != 0) {
				fprintf(stderr, "linux-tcp: data mismatch near byte %lu\n",
				        (unsigned long)c->recvd);
				exit(1);
			}
			c->recvd += (uint64_t)n;
			if (opt.mode == M_RECV)
				bytes += (uint64_t)n;
			if (opt.mode == M_RR || (size_t)n < sizeof(buf))
				return true;
			continue;
		}
		if (n == 0)
			return false;
		return errno == EAGAIN || errno == EINTR;
	}
}

/* Write pattern bytes up to limit; false on error. */
static bool
write_pattern(struct conn *c, uint64_t limit)
{
	ssize_t n;
	size_t want;

	while (c->sent < limit) {
		want = limit - c->sent < CHUNK ? (size_t)(limit - c->sent) : CHUNK;
		n = write(c->fd, pat + c->sent % PATTERN_PERIOD, want);
		if (n > 0) {
			c->sent += (uint64_t)n;
			if (opt.mode == M_SEND)
				bytes += (uint64_t)n;
			continue;
		}
		return n < 0 && (errno == EAGAIN || errno == EINTR);
	}
	return true;
}

/* ---- server ---- */

static bool
srv_echo(struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->pend_len > 0) {
			n = write(c->fd, c->pend + c->pend_off, c->pend_len);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR;
			c->pend_off += (uint32_t)n;
			c->pend_len -= (uint32_t)n;
			if (c->pend_len > 0) {
				watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
				return true;
			}
		}
		n = read(c->fd, c->pend, CHUNK);
		if (n == 0)
			return false;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				watch(c, EPOLLIN, EPOLL_CTL_MOD);
				return true;
			}
			return false;
		}
		c->pend_off = 0;
		c->pend_len = (uint32_t)n;
	}
}

static void
server(uint16_t port)
{
	struct epoll_event evs[MAX_EVENTS];
	struct conn lc = { .fd = -1 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, n, i, fd;

	lc.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (lc.fd < 0)
		die("socket");
	setsockopt(lc.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lc.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lc.fd, 1024) < 0)
		die("bind/listen");
	fcntl(lc.fd, F_SETFL, fcntl(lc.fd, F_GETFL) | O_NONBLOCK);
	watch(&lc, EPOLLIN, EPOLL_CTL_ADD);
	printf("linux-tcp: server on port %u, mode %s\n", port,
	       opt.mode == M_ECHO      ? "echo"
	       : opt.mode == M_DISCARD ? "discard"
	                               : "source");
	fflush(stdout);
	while (!stop_flag) {
		n = epoll_wait(ep, evs, MAX_EVENTS, 200);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			bool ok = true;

			if (c == &lc) {
				while ((fd = accept(lc.fd, NULL, NULL)) >= 0) {
					c = calloc(1, sizeof(*c));
					if (c == NULL)
						die("calloc");
					c->fd = fd;
					setup_fd(fd);
					if (opt.mode == M_ECHO && (c->pend = malloc(CHUNK)) == NULL)
						die("malloc");
					watch(c,
					      opt.mode == M_SOURCE ? EPOLLIN | EPOLLOUT : EPOLLIN,
					      EPOLL_CTL_ADD);
				}
				continue;
			}
			if (opt.mode == M_ECHO)
				ok = srv_echo(c);
			else if (opt.mode == M_DISCARD)
				ok = read_verified(c, false);
			else
				ok = (!(evs[i].events & EPOLLIN) || read_verified(c, false)) &&
				     write_pattern(c, UINT64_MAX);
			if (!ok || (evs[i].events & (EPOLLHUP | EPOLLERR)))
				conn_close(c);
		}
	}
	close(lc.fd);
}

/* ---- client ---- */

static bool
rr_progress(struct conn *c)
{
	if (!read_verified(c, true))
		return false;
	if (c->target != 0 && c->recvd >= c->target) {
		gale_lat_hist_add(&lat_hist, now_ns() - c->t_start);
		transactions++;
		c->target = 0;
	}
	if (c->target == 0) {
		c->target = c->sent + opt.size;
		c->t_start = now_ns();
	}
	return write_pattern(c, c->target);
}

static void
client(void)
{
	struct epoll_event evs[MAX_EVENTS];
	struct conn **cs = calloc(opt.conns, sizeof(*cs));
	uint64_t start, meas = 0, end, t;
	bool measuring = opt.warmup <= 0;
	unsigned int k, open_n = 0;
	int n, i, fail = 0;

	if (cs == NULL)
		die("calloc");
	for (k = 0; k < opt.conns; k++) {
		struct conn *c = calloc(1, sizeof(*c));

		if (c == NULL)
			die("calloc");
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c->fd < 0)
			die("socket");
		/* Blocking connect, then non-blocking: set-up is not measured. */
		if (connect(c->fd, (struct sockaddr *)&opt.addr, sizeof(opt.addr)) < 0)
			die("connect");
		setup_fd(c->fd);
		watch(c, opt.mode == M_SEND ? EPOLLOUT : EPOLLIN, EPOLL_CTL_ADD);
		cs[k] = c;
		open_n++;
	}
	start = now_ns();
	if (measuring)
		meas = start;
	end = start + (uint64_t)(opt.duration * 1e9);
	for (k = 0; k < opt.conns; k++)
		if (opt.mode == M_RR && !rr_progress(cs[k]))
			fail = 1;
	while (!stop_flag && open_n > 0) {
		n = epoll_wait(ep, evs, MAX_EVENTS, 100);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			bool ok;

			if (opt.mode == M_RR)
				ok = rr_progress(c);
			else if (opt.mode == M_SEND)
				ok = write_pattern(c, UINT64_MAX);
			else
				ok = read_verified(c, true);
			if (!ok) {
				fprintf(stderr, "linux-tcp: connection lost\n");
				fail = 1;
				for (k = 0; k < opt.conns; k++)
					if (cs[k] == c)
						cs[k] = NULL;
				conn_close(c);
				open_n--;
			}
		}
		t = now_ns();
		if (!measuring && t - start >= (uint64_t)(opt.warmup * 1e9)) {
			measuring = true;
			meas = t;
			transactions = 0;
			bytes = 0;
			gale_lat_hist_reset(&lat_hist);
		}
		if (t >= end)
			break;
	}
	t = now_ns();
	{
		double secs = measuring && t > meas ? (t - meas) / 1e9 : 0;

		if (opt.mode == M_RR)
			gale_bench_print_rr("linux", opt.conns, opt.size, secs, transactions,
			                    &lat_hist);
		else
			gale_bench_print_bulk("linux", opt.mode == M_SEND ? "send" : "recv",
			                      opt.conns, secs, bytes);
	}
	for (k = 0; k < opt.conns; k++)
		if (cs[k] != NULL)
			conn_close(cs[k]);
	free(cs);
	fflush(stdout);
	if (fail)
		exit(1);
}

static void
usage(const char *prog)
{
	printf("usage: %s --listen PORT [--mode echo|discard|source]\n"
	       "       %s --connect A.B.C.D:PORT --client rr|send|recv [--size N] [--conns N]\n"
	       "          --duration S [--warmup S]\n",
	       prog, prog);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "connect", required_argument, NULL, 'c' },
		{ "client", required_argument, NULL, 'C' },
		{ "size", required_argument, NULL, 'z' },
		{ "conns", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint16_t port = 0;
	char *colon;
	size_t i;
	int c;

	opt.size = 64;
	opt.conns = 1;
	opt.duration = 5;
	opt.mode = M_ECHO;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l':
			port = (uint16_t)atoi(optarg);
			break;
		case 'm':
			opt.mode = strcmp(optarg, "discard") == 0  ? M_DISCARD
			           : strcmp(optarg, "source") == 0 ? M_SOURCE
			                                           : M_ECHO;
			break;
		case 'c':
			colon = strrchr(optarg, ':');
			if (colon == NULL)
				goto bad;
			*colon = '\0';
			opt.addr.sin_family = AF_INET;
			opt.addr.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, optarg, &opt.addr.sin_addr) != 1)
				goto bad;
			opt.client = true;
			break;
		case 'C':
			if (strcmp(optarg, "rr") == 0)
				opt.mode = M_RR;
			else if (strcmp(optarg, "send") == 0)
				opt.mode = M_SEND;
			else if (strcmp(optarg, "recv") == 0)
				opt.mode = M_RECV;
			else
				goto bad;
			break;
		case 'z':
			opt.size = (uint32_t)strtoul(optarg, NULL, 0);
			if (opt.size == 0 || opt.size > CHUNK)
				goto bad;
			break;
		case 'n':
			opt.conns = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			opt.duration = strtod(optarg, NULL);
			break;
		case 'w':
			opt.warmup = strtod(optarg, NULL);
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			goto bad;
		}
	}
	if (!opt.client && port == 0)
		goto bad;
	if (opt.client && opt.mode != M_RR && opt.mode != M_SEND && opt.mode != M_RECV)
		goto bad;
	for (i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i % PATTERN_PERIOD);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	if (opt.client)
		client();
	else
		server(port);
	return 0;
bad:
	usage(argv[0]);
	return 2;
}
