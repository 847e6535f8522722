/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale's RPC client (gale/rpc.h) against a server of the echo service (apps/echo/echo.thrift):
 * Apache Thrift's C++ servers (tests/peers/thrift-echo-server) or gale-echo. The client runs
 * without a worker (its own timer wheel), which is the blocking form; the asynchronous form is
 * driven by polling it from here, as a worker's work callback would.
 *
 *   rpc_client_driver --endpoint HOST:PORT [--endpoint ...] --transport framed|buffered|header|
 *                     ttheader --protocol binary|compact [--calls N] [--payload BYTES]
 *                     [--mode basic|timeout] [--timeout-ms MS]
 *
 * basic:   every method through the blocking stubs N times (echo, echo_binary, echo_all, ping, add,
 *          echo_or_fail both ways, notify), checking each answer; then 64 asynchronous calls
 *          pipelined over the pool, each checked in its callback; the counters must agree.
 * timeout: for a server that stalls every k-th call longer than --timeout-ms: blocking add calls
 *          until some timed out (-ETIMEDOUT) and others succeeded with the right sums; every
 *          late reply must be dropped and counted (late_replies == timeouts), none confused
 *          with a later call.
 * connect-timeout: no server needed: a listener that never accepts, its queue filled, so further
 *          SYNs are dropped; a call with a 200 ms connect timeout (3 s RPC timeout) must fail
 *          with -ETIMEDOUT well before the RPC timeout, counted as a failed connection; and a
 *          call to a port with no listener fails with -ECONNREFUSED.
 * Exit 0 when everything matched; the first mismatch is printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gale/rpc.h>
#include <gale/thriftc.h>
#include <gale/timer.h>

#include "echo.h"

#define MAX_EP  8
#define ASYNC_N 64

static int failures;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "rpc_client_driver: %s:%d: ", __FILE__, __LINE__);         \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static struct gale_codec_bytes
bytes_of(const void *p, size_t n)
{
	struct gale_codec_bytes b = { (const uint8_t *)p, (uint32_t)n };

	return b;
}

static int
same(struct gale_codec_bytes a, const void *p, size_t n)
{
	return a.len == n && (n == 0 || memcmp(a.ptr, p, n) == 0);
}

struct async_slot {
	struct gale_echo_Echo_add_args args;
	struct gale_echo_Echo_add_result res;
	int status;
	int done;
	int64_t want;
};

static void
async_done(void *arg, int status)
{
	struct async_slot *s = arg;

	s->done++;
	s->status = status;
	if (status == 0 && (!GALE_ISSET(&s->res, gale_echo_Echo_add_result_F_success) ||
	                    s->res.success != s->want))
		s->status = -EBADMSG;
}

static int
run_basic(struct gale_rpc_client *cl, unsigned int calls, size_t payload)
{
	struct gale_tc_channel ch;
	static struct async_slot slots[ASYNC_N];
	struct gale_rpc_client_stats st;
	uint8_t *text, *blob;
	unsigned int i, done, max_pending = 0;
	uint64_t deadline;
	size_t k;
	int rc;

	gale_rpc_client_channel(cl, &ch);
	text = malloc(payload + 1);
	blob = malloc(payload + 1);
	if (text == NULL || blob == NULL)
		return 1;
	for (k = 0; k < payload; k++) {
		text[k] = (uint8_t)('a' + k % 26);
		blob[k] = (uint8_t)(k * 7);
	}
	for (i = 0; i < calls; i++) {
		struct gale_echo_Echo_echo_args ea;
		struct gale_echo_Echo_echo_result er;
		struct gale_echo_Echo_echo_binary_args ba;
		struct gale_echo_Echo_echo_binary_result br;
		struct gale_echo_Echo_ping_args pa;
		struct gale_echo_Echo_ping_result pr;
		struct gale_echo_Echo_add_args aa;
		struct gale_echo_Echo_add_result ar;
		struct gale_echo_Echo_echo_or_fail_args fa;
		struct gale_echo_Echo_echo_or_fail_result fr;
		struct gale_echo_Echo_notify_args na;

		gale_echo_Echo_echo_args_init(&ea);
		ea.message = bytes_of(text, payload);
		rc = gale_echo_Echo_echo_call(&ch, &ea, &er);
		EXPECT(rc == 0 && GALE_ISSET(&er, gale_echo_Echo_echo_result_F_success) &&
		               same(er.success, text, payload),
		       "echo %u: rc %d", i, rc);
		gale_echo_Echo_echo_binary_args_init(&ba);
		ba.data = bytes_of(blob, payload);
		rc = gale_echo_Echo_echo_binary_call(&ch, &ba, &br);
		EXPECT(rc == 0 && same(br.success, blob, payload), "echo_binary %u: rc %d", i, rc);
		gale_echo_Echo_ping_args_init(&pa);
		rc = gale_echo_Echo_ping_call(&ch, &pa, &pr);
		EXPECT(rc == 0, "ping %u: rc %d", i, rc);
		gale_echo_Echo_add_args_init(&aa);
		aa.a = (int64_t)i;
		aa.b = -3 * (int64_t)i + (1LL << 40);
		rc = gale_echo_Echo_add_call(&ch, &aa, &ar);
		EXPECT(rc == 0 && ar.success == (1LL << 40) - 2 * (int64_t)i, "add %u: rc %d", i,
		       rc);
		gale_echo_Echo_echo_or_fail_args_init(&fa);
		fa.message = bytes_of("fine", 4);
		fa.code = 0;
		rc = gale_echo_Echo_echo_or_fail_call(&ch, &fa, &fr);
		EXPECT(rc == 0 && GALE_ISSET(&fr, gale_echo_Echo_echo_or_fail_result_F_success) &&
		               same(fr.success, "fine", 4),
		       "echo_or_fail ok %u: rc %d", i, rc);
		{
			/* Every type through a whole RPC. Sets and map keys in sorted order:
			 * Apache's C++ server keeps them in std::set / std::map and answers in that
			 * order. */
			static int32_t li[] = { 0, -1, INT32_MAX, INT32_MIN };
			static struct gale_codec_bytes ss[3], mk[2], l1[2], l3[1];
			static int64_t mv[] = { -1, 1LL << 40 };
			static struct gale_echo_Inner inners[3];
			static char names[3][4];
			static int32_t nk[] = { -2, 1, 3 };
			static struct gale_list_string nv[3];
			static uint8_t bin[256];
			struct gale_echo_Echo_echo_all_args xa;
			struct gale_echo_Echo_echo_all_result xr;
			struct gale_echo_AllTypes *v = &xa.v;
			unsigned int j;

			ss[0] = bytes_of("", 0);
			ss[1] = bytes_of("a", 1);
			ss[2] = bytes_of("\xc3\xa9", 2);
			mk[0] = bytes_of("", 0);
			mk[1] = bytes_of("k", 1);
			l1[0] = bytes_of("x", 1);
			l1[1] = bytes_of("y", 1);
			l3[0] = bytes_of("\xc3\xa9", 2);
			nv[0].v = NULL;
			nv[0].n = 0;
			nv[1].v = l1;
			nv[1].n = 2;
			nv[2].v = l3;
			nv[2].n = 1;
			for (j = 0; j < 256; j++)
				bin[j] = (uint8_t)j;
			for (j = 0; j < 3; j++) {
				gale_echo_Inner_init(&inners[j]);
				inners[j].id = (int32_t)j;
				snprintf(names[j], sizeof(names[j]), "n%u", j);
				inners[j].name = bytes_of(names[j], strlen(names[j]));
			}
			gale_echo_Echo_echo_all_args_init(&xa);
			v->b = true;
			v->i8v = INT8_MIN;
			v->i16v = INT16_MIN;
			v->i32v = INT32_MAX;
			v->i64v = INT64_MIN;
			v->d = -1.25e-300;
			v->s = bytes_of(text, payload);
			v->bin = bytes_of(bin, sizeof(bin));
			v->li.v = li;
			v->li.n = 4;
			v->ss.v = ss;
			v->ss.n = 3;
			v->m.k = mk;
			v->m.v = mv;
			v->m.n = 2;
			v->inner.id = 7;
			v->inner.name = bytes_of("inner", 5);
			v->inners.v = inners;
			v->inners.n = 3;
			v->nested.k = nk;
			v->nested.v = nv;
			v->nested.n = 3;
			v->color = 3;
			v->opt = bytes_of("set", 3);
			GALE_SET(v, gale_echo_AllTypes_F_opt);
			rc = gale_echo_Echo_echo_all_call(&ch, &xa, &xr);
			EXPECT(rc == 0 &&
			               GALE_ISSET(&xr, gale_echo_Echo_echo_all_result_F_success) &&
			               gale_echo_AllTypes_equal(&xr.success, v),
			       "echo_all %u: rc %d (or the struct came back different)", i, rc);
		}
		fa.message = bytes_of("boom", 4);
		fa.code = 7 + (int32_t)i;
		rc = gale_echo_Echo_echo_or_fail_call(&ch, &fa, &fr);
		EXPECT(rc == 0 && GALE_ISSET(&fr, gale_echo_Echo_echo_or_fail_result_F_err) &&
		               fr.err.code == 7 + (int32_t)i && same(fr.err.message, "boom", 4),
		       "echo_or_fail raise %u: rc %d", i, rc);
		gale_echo_Echo_notify_args_init(&na);
		na.message = bytes_of("n", 1);
		rc = gale_echo_Echo_notify_call(&ch, &na);
		EXPECT(rc == 0, "notify %u: rc %d", i, rc);
	}
	/* Asynchronous: all started at once, pipelined over the pool, completed by polling. */
	for (i = 0; i < ASYNC_N; i++) {
		struct async_slot *s = &slots[i];

		gale_echo_Echo_add_args_init(&s->args);
		s->args.a = 1000 * (int64_t)i;
		s->args.b = (int64_t)i;
		s->want = 1001 * (int64_t)i;
		s->done = 0;
		rc = gale_echo_Echo_add_call_async(&ch, &s->args, &s->res, async_done, s);
		EXPECT(rc == 0, "add_async %u: rc %d", i, rc);
		EXPECT(s->done == 0, "add_async %u completed inside the call", i);
	}
	deadline = gale_timer_now_us() + 10u * 1000000u;
	for (;;) {
		if (gale_rpc_client_pending(cl) > max_pending)
			max_pending = gale_rpc_client_pending(cl);
		for (done = 0, i = 0; i < ASYNC_N; i++)
			done += slots[i].done != 0;
		if (done == ASYNC_N || gale_timer_now_us() > deadline)
			break;
		gale_rpc_client_poll(cl);
	}
	EXPECT(done == ASYNC_N, "async: %u of %u completed in 10 s", done, ASYNC_N);
	for (i = 0; i < ASYNC_N; i++)
		EXPECT(slots[i].done == 1 && slots[i].status == 0, "async %u: done %d status %d", i,
		       slots[i].done, slots[i].status);
	EXPECT(max_pending == ASYNC_N, "async: %u in flight at most, want %u", max_pending,
	       ASYNC_N);
	gale_rpc_client_stats_get(cl, &st);
	EXPECT(st.calls == (uint64_t)calls * 8 + ASYNC_N, "calls counted %lu",
	       (unsigned long)st.calls);
	EXPECT(st.completed == st.calls && st.failed == 0 && st.timeouts == 0,
	       "completed %lu failed %lu timeouts %lu", (unsigned long)st.completed,
	       (unsigned long)st.failed, (unsigned long)st.timeouts);
	free(text);
	free(blob);
	printf("rpc_client_driver: %u x 8 blocking calls (echo_all with every type among them) and "
	       "%u pipelined async calls ok "
	       "(%lu connections)\n",
	       calls, ASYNC_N, (unsigned long)st.conns_opened);
	return 0;
}

static int
run_timeout(struct gale_rpc_client *cl, unsigned int calls)
{
	struct gale_tc_channel ch;
	struct gale_rpc_client_stats st;
	unsigned int i, ok = 0, timeouts = 0;

	gale_rpc_client_channel(cl, &ch);
	for (i = 0; i < calls; i++) {
		struct gale_echo_Echo_add_args aa;
		struct gale_echo_Echo_add_result ar;
		uint64_t deadline;
		int rc;

		gale_echo_Echo_add_args_init(&aa);
		aa.a = 5 * (int64_t)i;
		aa.b = 1;
		rc = gale_echo_Echo_add_call(&ch, &aa, &ar);
		if (rc == -ETIMEDOUT) {
			timeouts++;
			/* Wait (bounded) for the late reply: it must be dropped, not given to a
			 * call. */
			deadline = gale_timer_now_us() + 10u * 1000000u;
			do {
				gale_rpc_client_poll(cl);
				gale_rpc_client_stats_get(cl, &st);
			} while (st.late_replies < timeouts && gale_timer_now_us() < deadline);
			EXPECT(st.late_replies == timeouts, "late replies %lu after %u timeouts",
			       (unsigned long)st.late_replies, timeouts);
			continue;
		}
		EXPECT(rc == 0 && ar.success == 5 * (int64_t)i + 1, "add %u: rc %d sum %ld", i, rc,
		       (long)ar.success);
		ok += rc == 0;
	}
	gale_rpc_client_stats_get(cl, &st);
	EXPECT(timeouts >= 1, "no call timed out (is the server stalling?)");
	EXPECT(ok >= 1, "no call succeeded");
	EXPECT(st.timeouts == timeouts && st.late_replies == timeouts,
	       "counted %lu timeouts, %lu late replies; saw %u timeouts",
	       (unsigned long)st.timeouts, (unsigned long)st.late_replies, timeouts);
	printf("rpc_client_driver: %u calls: %u answered, %u timed out, %lu late replies dropped\n",
	       calls, ok, timeouts, (unsigned long)st.late_replies);
	return 0;
}

static int
run_connect_timeout(void)
{
	struct gale_rpc_client_conf conf;
	struct gale_rpc_client_stats st;
	struct gale_echo_Echo_ping_args pa;
	struct gale_echo_Echo_ping_result pr;
	struct gale_rpc_client *cl;
	struct gale_tc_channel ch;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char ep[32];
	const char *eps[1] = { ep };
	int lfd, fill[8], i, rc;
	uint64_t t0, el;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 0) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		return 1;
	/* Fill the accept queue (backlog 0 holds one): later SYNs are dropped, connects hang. */
	for (i = 0; i < 8; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100000);
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", (unsigned int)ntohs(sa.sin_port));
	memset(&conf, 0, sizeof(conf));
	conf.endpoints = eps;
	conf.nb_endpoints = 1;
	conf.connect_timeout_ms = 200;
	conf.rpc_timeout_ms = 3000;
	cl = gale_rpc_client_create(&conf, NULL);
	if (cl == NULL)
		return 1;
	gale_rpc_client_channel(cl, &ch);
	gale_echo_Echo_ping_args_init(&pa);
	t0 = gale_timer_now_us();
	rc = gale_echo_Echo_ping_call(&ch, &pa, &pr);
	el = gale_timer_now_us() - t0;
	gale_rpc_client_stats_get(cl, &st);
	EXPECT(rc == -ETIMEDOUT, "connect timeout: rc %d", rc);
	EXPECT(el >= 150000 && el < 1500000, "connect timeout after %lu us, want ~200 ms",
	       (unsigned long)el);
	EXPECT(st.timeouts == 1 && st.conns_failed == 1 && st.conns_opened == 0,
	       "timeouts %lu conns_failed %lu opened %lu", (unsigned long)st.timeouts,
	       (unsigned long)st.conns_failed, (unsigned long)st.conns_opened);
	gale_rpc_client_free(cl);
	for (i = 0; i < 8; i++)
		close(fill[i]);
	close(lfd);

	/* Nothing listens there any more: refused. */
	cl = gale_rpc_client_create(&conf, NULL);
	if (cl == NULL)
		return 1;
	gale_rpc_client_channel(cl, &ch);
	rc = gale_echo_Echo_ping_call(&ch, &pa, &pr);
	EXPECT(rc == -ECONNREFUSED, "no listener: rc %d", rc);
	gale_rpc_client_free(cl);
	printf("rpc_client_driver: connect timeout after %lu us; refused connect reported\n",
	       (unsigned long)el);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "transport", required_argument, NULL, 't' },
		{ "protocol", required_argument, NULL, 'p' },
		{ "calls", required_argument, NULL, 'n' },
		{ "payload", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "timeout-ms", required_argument, NULL, 'o' },
		{ "conns", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *eps[MAX_EP];
	struct gale_rpc_client_conf conf;
	struct gale_rpc_client *cl;
	unsigned int nep = 0, calls = 10;
	size_t payload = 100;
	const char *mode = "basic";
	int c, ret;

	memset(&conf, 0, sizeof(conf));
	conf.conns_per_endpoint = 2;
	conf.rpc_timeout_ms = 5000;
	conf.connect_timeout_ms = 2000;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (nep < MAX_EP)
				eps[nep++] = optarg;
			break;
		case 't':
			conf.transport = strcmp(optarg, "buffered") == 0   ? GALE_TRANSPORT_BUFFERED
			                 : strcmp(optarg, "header") == 0   ? GALE_TRANSPORT_THEADER
			                 : strcmp(optarg, "ttheader") == 0 ? GALE_TRANSPORT_TTHEADER
			                                                   : GALE_TRANSPORT_FRAMED;
			break;
		case 'p':
			conf.proto = strcmp(optarg, "compact") == 0 ? GALE_PROTO_COMPACT
			                                            : GALE_PROTO_BINARY;
			break;
		case 'n':
			calls = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 's':
			payload = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			mode = optarg;
			break;
		case 'o':
			conf.rpc_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			conf.conns_per_endpoint = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
			        "usage: see the comment at the top of rpc_client_driver.c\n");
			return 2;
		}
	}
	if (strcmp(mode, "connect-timeout") == 0) {
		ret = run_connect_timeout();
		return ret != 0 || failures != 0 ? 1 : 0;
	}
	if (nep == 0) {
		fprintf(stderr, "rpc_client_driver: --endpoint is required\n");
		return 2;
	}
	conf.endpoints = eps;
	conf.nb_endpoints = nep;
	cl = gale_rpc_client_create(&conf, NULL);
	if (cl == NULL) {
		fprintf(stderr, "rpc_client_driver: client: %s\n", strerror(errno));
		return 1;
	}
	ret = strcmp(mode, "timeout") == 0 ? run_timeout(cl, calls) : run_basic(cl, calls, payload);
	gale_rpc_client_free(cl);
	if (ret != 0 || failures != 0) {
		fprintf(stderr, "rpc_client_driver: %d check(s) failed\n", failures);
		return 1;
	}
	return 0;
}
