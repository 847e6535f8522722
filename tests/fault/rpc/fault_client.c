/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault_client: gale's RPC client (no worker: its own timer wheel, driven by polling) against
 * fault_server, for the RPC fault tests (test_rpc_faults.sh). The script and this program take
 * turns through files in --sync DIR: the client creates DIR/NAME when it reached a point and waits
 * (polling the client meanwhile) for DIR/NAME.go, which the script creates once it did its part.
 *
 *   fault_client [EAL-ARGS --] --mode M --endpoint HOST:PORT [--endpoint ...] --sync DIR
 *
 * timeout:  echo("stall:1500") with a 200 ms RPC timeout fails with -ETIMEDOUT after 200..1400 ms;
 *           the server's reply comes later, is discarded and counted (late_replies 1, none
 *           confused with a later call); the same connection then serves a call.
 *           Sync point "hold": the script reads the counters through telemetry.
 * failover: two endpoints (servers 0 and 1): calls reach both; a stalled call is in flight on
 *           each when the script kills server 0 ("kill" point): the one on server 0 fails with a
 *           connection error well before its timeout, the one on server 1 succeeds; then every
 *           call succeeds, on server 1.
 * single:   one endpoint: calls succeed; the script kills the server ("kill"); each call then
 *           fails at once with a connection error (never a hang); the script restarts the server
 *           on the same port ("restart"); the client recovers within a few seconds.
 * idle:     the server closes the connection as idle while the client, blocking, is not polling
 *           ("idle" point): the next call notices first and goes out on a new connection.
 * dead:     the first endpoint has no server (a port just closed), the second one has: every call
 *           succeeds (those routed to the dead one fail over); the dead endpoint is down, retried
 *           after its wait (marked down again), and never costs a call.
 * Given EAL arguments (with "--"), the EAL starts first, so /gale/rpc/client is on its telemetry
 * socket. Exit 0 when every check held; each failed one is printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include <gale/eal.h>
#include <gale/rpc.h>
#include <gale/thriftc.h>
#include <gale/timer.h>

#include "echo.h"

#define MAX_EP 4

static int failures;
static const char *sync_dir;
static struct gale_rpc_client *cl;
static struct gale_tc_channel ch;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fault_client: %s:%d: ", __FILE__, __LINE__);              \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Poll the client for ms milliseconds (replies, timers). */
static void
poll_for(unsigned int ms)
{
	uint64_t end = now_us() + (uint64_t)ms * 1000;

	while (now_us() < end)
		if (gale_rpc_client_poll(cl) == 0)
			usleep(1000);
}

/* Announce sync point name and wait (at most 30 s, polling the client unless told not to) for the
 * script's go. */
static int
sync_point_poll(const char *name, bool poll)
{
	char path[4096], go[4200];
	uint64_t end = now_us() + 30 * 1000000ull;
	struct stat sb;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sync_dir, name);
	snprintf(go, sizeof(go), "%s.go", path);
	f = fopen(path, "w");
	if (f == NULL || fclose(f) != 0) {
		fprintf(stderr, "fault_client: cannot create %s\n", path);
		return -1;
	}
	while (stat(go, &sb) != 0) {
		if (now_us() > end) {
			fprintf(stderr, "fault_client: no go for '%s' within 30 s\n", name);
			return -1;
		}
		if (!poll || gale_rpc_client_poll(cl) == 0)
			usleep(2000);
	}
	return 0;
}

static int
sync_point(const char *name)
{
	return sync_point_poll(name, true);
}

static struct gale_codec_bytes
text(const char *s)
{
	struct gale_codec_bytes b = { (const uint8_t *)s, (uint32_t)strlen(s) };

	return b;
}

/* A blocking echo; 0 and the answer in out, or the call's status. */
static int
echo(const char *msg, char *out, size_t len)
{
	struct gale_echo_Echo_echo_args a;
	struct gale_echo_Echo_echo_result r;
	int ret;

	gale_echo_Echo_echo_args_init(&a);
	a.message = text(msg);
	GALE_SET(&a, gale_echo_Echo_echo_args_F_message);
	gale_echo_Echo_echo_result_init(&r);
	ret = gale_echo_Echo_echo_call(&ch, &a, &r);
	if (ret == 0)
		snprintf(out, len, "%.*s", (int)r.success.len, (const char *)r.success.ptr);
	return ret;
}

static bool
conn_error(int st)
{
	return st == -ECONNRESET || st == -ECONNREFUSED || st == -EPIPE || st == -ENOTCONN ||
	       st == -ECONNABORTED;
}

static struct gale_rpc_client_stats
stats(void)
{
	struct gale_rpc_client_stats st;

	gale_rpc_client_stats_get(cl, &st);
	return st;
}

static void
mode_timeout(void)
{
	struct gale_rpc_client_stats st;
	char out[64] = "";
	uint64_t t0, dt;
	int ret;

	ret = echo("hello", out, sizeof(out));
	EXPECT(ret == 0 && strcmp(out, "hello") == 0, "first call: %d '%s'", ret, out);
	t0 = now_us();
	ret = echo("stall:1500", out, sizeof(out));
	dt = now_us() - t0;
	EXPECT(ret == -ETIMEDOUT, "stalled call: status %d, want -ETIMEDOUT", ret);
	EXPECT(dt >= 190000 && dt < 1400000, "stalled call failed after %lu us, want 200..1400 ms",
	       (unsigned long)dt);
	st = stats();
	EXPECT(st.timeouts == 1 && st.late_replies == 0, "after the timeout: timeouts %lu late %lu",
	       (unsigned long)st.timeouts, (unsigned long)st.late_replies);
	/* The server answers 1.5 s after the call: the reply is late, dropped and counted. */
	t0 = now_us();
	while (stats().late_replies == 0 && now_us() - t0 < 5000000)
		poll_for(10);
	st = stats();
	EXPECT(st.late_replies == 1, "late replies %lu, want 1", (unsigned long)st.late_replies);
	/* The same connection serves the next calls, each getting its own answer. */
	ret = echo("after", out, sizeof(out));
	EXPECT(ret == 0 && strcmp(out, "after") == 0, "call after the late reply: %d '%s'", ret,
	       out);
	ret = echo("again", out, sizeof(out));
	EXPECT(ret == 0 && strcmp(out, "again") == 0, "second call after: %d '%s'", ret, out);
	st = stats();
	EXPECT(st.conns_opened == 1 && st.conns_open == 1 && st.conns_failed == 0,
	       "connections: opened %lu open %lu failed %lu, want the first one still open",
	       (unsigned long)st.conns_opened, (unsigned long)st.conns_open,
	       (unsigned long)st.conns_failed);
	EXPECT(st.calls == 4 && st.completed == 3 && st.failed == 1 && st.in_flight == 0,
	       "calls %lu completed %lu failed %lu in flight %lu", (unsigned long)st.calls,
	       (unsigned long)st.completed, (unsigned long)st.failed, (unsigned long)st.in_flight);
	(void)sync_point("hold");
}

/* An asynchronous stalled echo and what became of it. */
struct pending {
	struct gale_echo_Echo_echo_args a;
	struct gale_echo_Echo_echo_result r;
	bool done;
	int status;
	uint64_t at;
	char answer[32];
};

static void
pending_done(void *arg, int status)
{
	struct pending *p = arg;

	p->done = true;
	p->status = status;
	p->at = now_us();
	if (status == 0)
		snprintf(p->answer, sizeof(p->answer), "%.*s", (int)p->r.success.len,
		         (const char *)p->r.success.ptr);
}

static void
mode_failover(void)
{
	struct pending p[2];
	struct gale_rpc_client_stats st;
	unsigned int seen[2] = { 0, 0 }, i, ok_after = 0;
	char out[64];
	uint64_t t_kill, t_end;
	int ret;

	for (i = 0; i < 10; i++) {
		ret = echo("who", out, sizeof(out));
		EXPECT(ret == 0, "call %u before the kill: %d", i, ret);
		if (ret == 0 && strncmp(out, "server-", 7) == 0 && out[7] >= '0' && out[7] <= '1')
			seen[out[7] - '0']++;
	}
	EXPECT(seen[0] == 5 && seen[1] == 5,
	       "round-robin before the kill: server-0 %u, server-1 %u", seen[0], seen[1]);
	/* One stalled call in flight on each endpoint (round-robin alternates). */
	for (i = 0; i < 2; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		gale_echo_Echo_echo_args_init(&p[i].a);
		p[i].a.message = text("stall:600");
		GALE_SET(&p[i].a, gale_echo_Echo_echo_args_F_message);
		gale_echo_Echo_echo_result_init(&p[i].r);
		ret = gale_echo_Echo_echo_call_async(&ch, &p[i].a, &p[i].r, pending_done, &p[i]);
		EXPECT(ret == 0, "async call %u: %d", i, ret);
	}
	poll_for(50); /* both sent and read by their servers */
	t_kill = now_us();
	if (sync_point("kill") != 0) {
		failures++;
		return;
	}
	t_end = now_us() + 5000000;
	while ((!p[0].done || !p[1].done) && now_us() < t_end)
		poll_for(5);
	/* Round-robin sent p[0] to server 0 (the 11th call) and p[1] to server 1. */
	EXPECT(p[0].done && conn_error(p[0].status),
	       "call in flight on the killed server: done %d status %d, want a connection error",
	       p[0].done, p[0].status);
	EXPECT(p[0].done && p[0].at - t_kill < 2000000,
	       "call on the killed server failed %lu us after the kill (timeout 2500 ms)",
	       (unsigned long)(p[0].at - t_kill));
	EXPECT(p[1].done && p[1].status == 0 && strcmp(p[1].answer, "stall:600") == 0,
	       "call in flight on the survivor: done %d status %d '%s'", p[1].done, p[1].status,
	       p[1].answer);
	for (i = 0; i < 20; i++) {
		ret = echo("who", out, sizeof(out));
		EXPECT(ret == 0 && strcmp(out, "server-1") == 0, "call %u after the kill: %d '%s'",
		       i, ret, ret == 0 ? out : "");
		ok_after += ret == 0;
	}
	st = stats();
	printf("fault_client failover: %u of 20 calls after the kill succeeded; endpoint down %lu "
	       "times, %lu failovers, %lu connections failed\n",
	       ok_after, (unsigned long)st.ep_down, (unsigned long)st.failovers,
	       (unsigned long)st.conns_failed);
	EXPECT(st.ep_down >= 1, "the killed endpoint was never marked down");
	EXPECT(st.conns_failed >= 1, "the killed server's connection did not count as failed");
	EXPECT(st.conn_errors >= 1,
	       "the call on the killed server did not count as a connection error");
	EXPECT(st.in_flight == 0, "in flight %lu at the end", (unsigned long)st.in_flight);
}

static void
mode_dead(void)
{
	struct gale_rpc_client_stats st;
	unsigned int ok = 0, i;
	char out[64];
	uint64_t end;
	int ret;

	/* Long enough to see the dead endpoint retried after its 500 ms wait (then 1 s). */
	end = now_us() + 1800000;
	for (i = 0; now_us() < end || i < 20; i++) {
		ret = echo("who", out, sizeof(out));
		EXPECT(ret == 0 && strcmp(out, "server-1") == 0, "call %u: %d '%s'", i, ret,
		       ret == 0 ? out : "");
		ok += ret == 0;
		poll_for(20);
	}
	st = stats();
	printf("fault_client dead: %u of %u calls succeeded; dead endpoint down %lu times, %lu "
	       "failovers\n",
	       ok, i, (unsigned long)st.ep_down, (unsigned long)st.failovers);
	EXPECT(st.ep_down >= 2, "the dead endpoint was marked down %lu times, want it retried",
	       (unsigned long)st.ep_down);
	EXPECT(st.ep_down <= 4,
	       "the dead endpoint was tried %lu times in 1.8 s (waits 0.5, 1, 2 s)",
	       (unsigned long)st.ep_down);
	EXPECT(st.failed == 0 && st.completed == i, "failed %lu completed %lu of %u",
	       (unsigned long)st.failed, (unsigned long)st.completed, i);
}

static void
mode_idle(void)
{
	struct gale_rpc_client_stats st;
	char out[64];
	int ret;

	ret = echo("one", out, sizeof(out));
	EXPECT(ret == 0 && strcmp(out, "one") == 0, "first call: %d", ret);
	if (sync_point_poll("idle", false) != 0) {
		failures++;
		return;
	}
	ret = echo("two", out, sizeof(out));
	EXPECT(ret == 0 && strcmp(out, "two") == 0,
	       "call after the server closed the idle connection: %d", ret);
	st = stats();
	EXPECT(st.conns_opened == 2 && st.conns_closed == 1 && st.failed == 0,
	       "connections opened %lu closed %lu, calls failed %lu: want a second connection, no "
	       "failure",
	       (unsigned long)st.conns_opened, (unsigned long)st.conns_closed,
	       (unsigned long)st.failed);
}

static void
mode_single(void)
{
	struct gale_rpc_client_stats st;
	unsigned int failed = 0, i;
	char out[64];
	uint64_t t0, dt, end;
	int ret;

	for (i = 0; i < 5; i++) {
		ret = echo("up", out, sizeof(out));
		EXPECT(ret == 0, "call %u before the kill: %d", i, ret);
	}
	if (sync_point("kill") != 0) {
		failures++;
		return;
	}
	poll_for(100); /* the close reaches the client */
	for (i = 0; i < 5; i++) {
		t0 = now_us();
		ret = echo("down", out, sizeof(out));
		dt = now_us() - t0;
		EXPECT(conn_error(ret), "call %u while down: status %d, want a connection error", i,
		       ret);
		EXPECT(dt < 1000000, "call %u while down took %lu us (must fail at once)", i,
		       (unsigned long)dt);
		failed += ret != 0;
	}
	if (sync_point("restart") != 0) {
		failures++;
		return;
	}
	/* Back: within the endpoint's retry wait (500 ms doubling, at most 4 s) a call succeeds. */
	end = now_us() + 8000000;
	do {
		ret = echo("back", out, sizeof(out));
		if (ret != 0)
			poll_for(50);
	} while (ret != 0 && now_us() < end);
	EXPECT(ret == 0 && strcmp(out, "back") == 0, "no recovery after the restart: %d", ret);
	st = stats();
	printf("fault_client single: %u calls failed cleanly while down; endpoint down %lu times; "
	       "recovered: %s\n",
	       failed, (unsigned long)st.ep_down, ret == 0 ? "yes" : "no");
	EXPECT(st.ep_down >= 1, "the endpoint was never marked down");
	EXPECT(st.conn_errors + st.no_endpoint >= 5 && st.no_endpoint >= 1,
	       "calls failed with the connection %lu, refused with every endpoint down %lu",
	       (unsigned long)st.conn_errors, (unsigned long)st.no_endpoint);
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "sync", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *eps[MAX_EP], *mode = NULL;
	struct gale_rpc_client_conf cc;
	unsigned int neps = 0;
	int i, opt, ret, eal = 0;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			eal = 1;
	if (eal) {
		ret = rte_eal_init(argc, argv);
		if (ret < 0) {
			fprintf(stderr, "fault_client: the EAL cannot start\n");
			return 77;
		}
		argv[ret] = argv[0];
		argc -= ret;
		argv += ret;
	}
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (opt) {
		case 'm':
			mode = optarg;
			break;
		case 'e':
			if (neps < MAX_EP)
				eps[neps++] = optarg;
			break;
		case 's':
			sync_dir = optarg;
			break;
		default:
			return 2;
		}
	}
	if (mode == NULL || neps == 0 || sync_dir == NULL) {
		fprintf(stderr, "fault_client: need --mode, --endpoint and --sync\n");
		return 2;
	}
	memset(&cc, 0, sizeof(cc));
	cc.endpoints = eps;
	cc.nb_endpoints = neps;
	cc.proto = GALE_PROTO_BINARY;
	cc.connect_timeout_ms = 1000;
	cc.rpc_timeout_ms = strcmp(mode, "timeout") == 0 ? 200 : 2500;
	cl = gale_rpc_client_create(&cc, NULL);
	if (cl == NULL) {
		fprintf(stderr, "fault_client: client: %s\n", strerror(errno));
		return 1;
	}
	gale_rpc_client_channel(cl, &ch);
	if (strcmp(mode, "timeout") == 0)
		mode_timeout();
	else if (strcmp(mode, "failover") == 0)
		mode_failover();
	else if (strcmp(mode, "single") == 0)
		mode_single();
	else if (strcmp(mode, "dead") == 0)
		mode_dead();
	else if (strcmp(mode, "idle") == 0)
		mode_idle();
	else {
		fprintf(stderr, "fault_client: unknown mode '%s'\n", mode);
		failures++;
	}
	gale_rpc_client_free(cl);
	if (eal)
		gale_eal_cleanup();
	if (failures != 0) {
		fprintf(stderr, "fault_client %s: %d check(s) failed\n", mode, failures);
		return 1;
	}
	printf("fault_client %s: ok\n", mode);
	return 0;
}
