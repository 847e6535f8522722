/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking RPC calls from plain threads through a worker's client (gale/rpc_remote.h), on either
 * backend. One process: a runtime with one worker that serves Echo (apps/echo/echo.thrift) on a
 * kernel socket and owns the remote handles' clients (kernel sockets, or gale's TCP stack on a DPDK
 * port with --backend native); plain pthreads call through the handles.
 *
 *   1. T threads x M calls each through the generated blocking stubs, every argument distinct
 *      (thread, call, a length that varies up to 20 KiB so slot buffers grow): echo, add,
 *      echo_all (lists, a struct, strings decoded into the caller's arena), echo_or_fail (the
 *      declared exception as a result), every reply checked; a oneway notify; a method the server
 *      does not know (-EREMOTEIO, TApplicationException UNKNOWN_METHOD in the caller); a second
 *      handle on TTHeader + Compact;
 *   2. a server that never answers (a kernel listener nobody accepts from): the call fails with
 *      -ETIMEDOUT from the worker's timer wheel (rpc_timeout 300 ms), within [300 ms, 1.3 s], not
 *      from the caller's own bound;
 *   3. a handle with max_calls 2: two calls waiting on the silent server, a third refused at once
 *      with -EBUSY;
 *   4. stop the runtime while 6 calls wait (rpc_timeout 30 s): each returns -ECANCELED within 10 s
 *      of the stop; a call after the stop is refused with -ECANCELED;
 *   5. the handles' counters add up (started = completed + failed, refused, cancelled, no expired
 *      wait), then the handles, runtime and port are freed (native: the pool gets every mbuf back).
 *
 * Usage: test_rpc_remote [EAL args --] [--backend kernel|native --ip ...] [--peer IP]
 *        [--threads T] [--calls M]. Without EAL args, the test EAL (tests/lib) with two lcores.
 * --peer is the address the clients call (the server listens on every address): 127.0.0.1 by
 * default; in a namespace with a tap, the kernel's side of the tap. On native the first calls wait
 * (bounded, 30 s) until the tap's kernel side has its address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include <gale/appex.h>
#include <gale/netopt.h>
#include <gale/rpc.h>
#include <gale/rpc_remote.h>
#include <gale/runtime.h>
#include <gale/thriftc.h>

#include "echo.h"
#include "gale_test_eal.h"

#define PROG "test_rpc_remote"

static int failures;
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			pthread_mutex_lock(&fail_mu);                                              \
			fprintf(stderr, PROG ":%d: ", __LINE__);                                   \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
			pthread_mutex_unlock(&fail_mu);                                            \
		}                                                                                  \
	} while (0)

static struct {
	struct gale_netopt net;
	const char *peer;
	unsigned int threads, calls;
} opt = { .peer = "127.0.0.1", .threads = 4, .calls = 200 };

static struct gale_runtime *rt;
static struct gale_rpc_server *srv;
/* echo (framed binary), echo2 (TTHeader compact), shortw (silent, 300 ms), busy (silent, two
 * slots), longw (silent, 30 s). */
static struct gale_rpc_remote *h_echo, *h_echo2, *h_short, *h_busy, *h_long;
static unsigned int notified;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait (bounded) for a condition another thread makes true: a short pause between looks. */
static bool
wait_until(bool (*cond)(void *), void *arg, uint64_t ms)
{
	uint64_t end = now_ms() + ms;
	struct timespec ts = { 0, 5 * 1000000L };

	while (!cond(arg)) {
		if (now_ms() >= end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* ---- the server (on the worker) ---- */

static int
h_echo_fn(void *user, const struct gale_echo_Echo_echo_args *args,
          struct gale_echo_Echo_echo_result *res)
{
	(void)user;
	res->success = args->message;
	GALE_SET(res, gale_echo_Echo_echo_result_F_success);
	return 0;
}

static int
h_ping_fn(void *user, const struct gale_echo_Echo_ping_args *args,
          struct gale_echo_Echo_ping_result *res)
{
	(void)user;
	(void)args;
	(void)res;
	return 0;
}

static int
h_add_fn(void *user, const struct gale_echo_Echo_add_args *args,
         struct gale_echo_Echo_add_result *res)
{
	(void)user;
	res->success = args->a + args->b;
	GALE_SET(res, gale_echo_Echo_add_result_F_success);
	return 0;
}

static int
h_fail_fn(void *user, const struct gale_echo_Echo_echo_or_fail_args *args,
          struct gale_echo_Echo_echo_or_fail_result *res)
{
	(void)user;
	if (args->code != 0) {
		res->err.code = args->code;
		res->err.message = args->message;
		GALE_SET(&res->err, gale_echo_EchoError_F_code);
		GALE_SET(&res->err, gale_echo_EchoError_F_message);
		GALE_SET(res, gale_echo_Echo_echo_or_fail_result_F_err);
		return 0;
	}
	res->success = args->message;
	GALE_SET(res, gale_echo_Echo_echo_or_fail_result_F_success);
	return 0;
}

static int
h_all_fn(void *user, const struct gale_echo_Echo_echo_all_args *args,
         struct gale_echo_Echo_echo_all_result *res)
{
	(void)user;
	res->success = args->v;
	GALE_SET(res, gale_echo_Echo_echo_all_result_F_success);
	return 0;
}

static int
h_notify_fn(void *user, const struct gale_echo_Echo_notify_args *args)
{
	(void)user;
	(void)args;
	__atomic_add_fetch(&notified, 1, __ATOMIC_RELAXED);
	return 0;
}

static const struct gale_echo_Echo_handlers handlers = {
	.echo = h_echo_fn,
	.ping = h_ping_fn,
	.add = h_add_fn,
	.echo_or_fail = h_fail_fn,
	.echo_all = h_all_fn,
	.notify = h_notify_fn,
};

GALE_RPC_DISPATCH(gale_echo_Echo)

/* ---- callers ---- */

struct caller {
	struct gale_rpc_caller c;
	struct gale_tc_channel ch;
	struct gale_arena arena;
	uint8_t *mem;
	char *text;
};

#define ARENA_SIZE (256u << 10)
#define TEXT_MAX   (20u << 10)

static int
caller_init(struct caller *k, struct gale_rpc_remote *h)
{
	k->mem = malloc(ARENA_SIZE);
	k->text = malloc(TEXT_MAX + 64);
	if (k->mem == NULL || k->text == NULL)
		return -ENOMEM;
	gale_arena_init(&k->arena, k->mem, ARENA_SIZE);
	gale_rpc_caller_init(&k->c, h, &k->arena);
	gale_rpc_caller_channel(&k->c, &k->ch);
	return 0;
}

static void
caller_fini(struct caller *k)
{
	free(k->mem);
	free(k->text);
}

static int
call_echo(struct caller *k, const char *msg, size_t len, struct gale_echo_Echo_echo_result *res)
{
	struct gale_echo_Echo_echo_args a;

	gale_echo_Echo_echo_args_init(&a);
	a.message.ptr = (const uint8_t *)msg;
	a.message.len = (uint32_t)len;
	GALE_SET(&a, gale_echo_Echo_echo_args_F_message);
	gale_echo_Echo_echo_result_init(res);
	return gale_echo_Echo_echo_call(&k->ch, &a, res);
}

/* A distinct message for (thread, call): its name, then filler up to a length that varies. */
static size_t
make_text(char *buf, unsigned int t, unsigned int i)
{
	size_t len = (size_t)snprintf(buf, 64, "t%u-c%u:", t, i);
	size_t want = i % 50 == 7 ? TEXT_MAX : (size_t)(i * 37 + t * 11) % 3000;

	for (; len < want; len++)
		buf[len] = (char)('a' + (len + t + i) % 26);
	return len;
}

struct worker_arg {
	unsigned int t;
	struct gale_rpc_remote *h;
	unsigned int ok;
};

static void *
echo_thread(void *arg)
{
	struct worker_arg *wa = arg;
	struct caller k;
	unsigned int i;
	int ret;

	if (caller_init(&k, wa->h) != 0) {
		CHECK(0, "no memory");
		return NULL;
	}
	for (i = 0; i < opt.calls; i++) {
		gale_arena_reset(&k.arena);
		switch (i % 4) {
		case 0:
		case 1: {
			struct gale_echo_Echo_echo_result r;
			size_t len = make_text(k.text, wa->t, i);

			ret = call_echo(&k, k.text, len, &r);
			CHECK(ret == 0, "thread %u call %u: echo: %d", wa->t, i, ret);
			if (ret != 0)
				break;
			CHECK(GALE_ISSET(&r, gale_echo_Echo_echo_result_F_success) &&
			              r.success.len == len &&
			              memcmp(r.success.ptr, k.text, len) == 0,
			      "thread %u call %u: echo reply differs (%u bytes, %zu sent)", wa->t, i,
			      r.success.len, len);
			/* The reply lives in the caller's arena, not in a buffer of the worker's. */
			CHECK(len == 0 || (r.success.ptr >= k.mem && r.success.ptr < k.mem + ARENA_SIZE),
			      "thread %u call %u: echo reply is not in the caller's arena", wa->t, i);
			wa->ok += ret == 0;
			break;
		}
		case 2: {
			struct gale_echo_Echo_add_args a;
			struct gale_echo_Echo_add_result r;

			gale_echo_Echo_add_args_init(&a);
			a.a = (int64_t)wa->t * 1000000 + i;
			a.b = -(int64_t)i * 3;
			GALE_SET(&a, gale_echo_Echo_add_args_F_a);
			GALE_SET(&a, gale_echo_Echo_add_args_F_b);
			gale_echo_Echo_add_result_init(&r);
			ret = gale_echo_Echo_add_call(&k.ch, &a, &r);
			CHECK(ret == 0 && r.success == a.a + a.b, "thread %u call %u: add: %d, %lld",
			      wa->t, i, ret, (long long)r.success);
			wa->ok += ret == 0;
			break;
		}
		default: {
			struct gale_echo_Echo_echo_all_args a;
			struct gale_echo_Echo_echo_all_result r;
			int32_t li[40];
			char s[64];
			unsigned int n = (i + wa->t) % 40;

			gale_echo_Echo_echo_all_args_init(&a);
			for (unsigned int j = 0; j < n; j++)
				li[j] = (int32_t)(wa->t * 100000 + i * 100 + j);
			snprintf(s, sizeof(s), "all-t%u-c%u", wa->t, i);
			a.v.i32v = (int32_t)i;
			a.v.i64v = (int64_t)wa->t << 40;
			a.v.s.ptr = (const uint8_t *)s;
			a.v.s.len = (uint32_t)strlen(s);
			a.v.li.v = li;
			a.v.li.n = n;
			a.v.inner.id = (int32_t)wa->t;
			a.v.inner.name = a.v.s;
			a.v.color = gale_echo_Color_GREEN;
			GALE_SET(&a, gale_echo_Echo_echo_all_args_F_v);
			gale_echo_Echo_echo_all_result_init(&r);
			ret = gale_echo_Echo_echo_all_call(&k.ch, &a, &r);
			CHECK(ret == 0 && GALE_ISSET(&r, gale_echo_Echo_echo_all_result_F_success) &&
			              gale_echo_AllTypes_equal(&r.success, &a.v),
			      "thread %u call %u: echo_all: %d or the value differs", wa->t, i, ret);
			wa->ok += ret == 0;
			break;
		}
		}
	}
	caller_fini(&k);
	return NULL;
}

/* A method the server does not have: ping's (empty) arguments under another name. */
static int
w_ping_args(int proto, struct gale_codec_writer *w, const void *args)
{
	return gale_echo_Echo_ping_args_write(proto, w, args);
}

static int
r_ping_result(int proto, struct gale_codec_reader *r, void *res)
{
	return gale_echo_Echo_ping_result_read(proto, r, res);
}

static void
check_misc(void)
{
	struct gale_echo_Echo_echo_or_fail_args fa;
	struct gale_echo_Echo_echo_or_fail_result fr;
	struct gale_echo_Echo_notify_args na;
	struct gale_echo_Echo_ping_args pa;
	struct gale_echo_Echo_ping_result pr;
	struct gale_echo_Echo_echo_result er;
	struct gale_tc_call call;
	struct caller k, k2;
	int ret;

	if (caller_init(&k, h_echo) != 0 || caller_init(&k2, h_echo2) != 0) {
		CHECK(0, "no memory");
		return;
	}
	/* The declared exception is a result. */
	gale_echo_Echo_echo_or_fail_args_init(&fa);
	fa.message.ptr = (const uint8_t *)"boom";
	fa.message.len = 4;
	fa.code = 42;
	GALE_SET(&fa, gale_echo_Echo_echo_or_fail_args_F_message);
	GALE_SET(&fa, gale_echo_Echo_echo_or_fail_args_F_code);
	gale_echo_Echo_echo_or_fail_result_init(&fr);
	ret = gale_echo_Echo_echo_or_fail_call(&k.ch, &fa, &fr);
	CHECK(ret == 0 && GALE_ISSET(&fr, gale_echo_Echo_echo_or_fail_result_F_err) &&
	              fr.err.code == 42 && fr.err.message.len == 4 &&
	              memcmp(fr.err.message.ptr, "boom", 4) == 0,
	      "echo_or_fail: %d, the declared exception did not come back", ret);
	/* Oneway: 0 once sent; the server counts it. */
	gale_echo_Echo_notify_args_init(&na);
	na.message.ptr = (const uint8_t *)"hi";
	na.message.len = 2;
	GALE_SET(&na, gale_echo_Echo_notify_args_F_message);
	ret = gale_echo_Echo_notify_call(&k.ch, &na);
	CHECK(ret == 0, "notify: %d", ret);
	/* An unknown method: TApplicationException UNKNOWN_METHOD, type and message in the caller. */
	gale_echo_Echo_ping_args_init(&pa);
	gale_echo_Echo_ping_result_init(&pr);
	memset(&call, 0, sizeof(call));
	call.method = "no_such_method";
	call.method_len = strlen(call.method);
	call.write_args = w_ping_args;
	call.read_result = r_ping_result;
	call.args = &pa;
	call.result = &pr;
	ret = gale_rpc_remote_call(&k.c, &call);
	CHECK(ret == -EREMOTEIO && k.c.appex_type == GALE_APPEX_UNKNOWN_METHOD &&
	              strstr(k.c.appex_msg, "unknown method") != NULL,
	      "unknown method: %d, appex %d '%s'", ret, (int)k.c.appex_type, k.c.appex_msg);
	/* The asynchronous stubs are not for plain threads. */
	ret = gale_echo_Echo_ping_call_async(&k.ch, &pa, &pr, NULL, NULL);
	CHECK(ret == -ENOTSUP, "async stub on a caller's channel: %d", ret);
	/* A result that does not fit the caller's arena: -ENOMEM, nothing written past it. */
	{
		struct gale_arena tiny;
		uint8_t mem[16];
		struct gale_rpc_caller c;
		struct gale_tc_channel ch;
		struct gale_echo_Echo_echo_args a;

		gale_arena_init(&tiny, mem, sizeof(mem));
		gale_rpc_caller_init(&c, h_echo, &tiny);
		gale_rpc_caller_channel(&c, &ch);
		gale_echo_Echo_echo_args_init(&a);
		a.message.ptr = (const uint8_t *)"a message longer than sixteen bytes";
		a.message.len = (uint32_t)strlen((const char *)a.message.ptr);
		GALE_SET(&a, gale_echo_Echo_echo_args_F_message);
		gale_echo_Echo_echo_result_init(&er);
		ret = gale_echo_Echo_echo_call(&ch, &a, &er);
		CHECK(ret == -ENOMEM, "reply larger than the arena: %d", ret);
	}
	/* TTHeader + Compact through a second handle on the same worker. */
	for (unsigned int i = 0; i < 50; i++) {
		size_t len = make_text(k2.text, 99, i);

		gale_arena_reset(&k2.arena);
		ret = call_echo(&k2, k2.text, len, &er);
		CHECK(ret == 0 && er.success.len == len && memcmp(er.success.ptr, k2.text, len) == 0,
		      "ttheader/compact echo %u: %d", i, ret);
	}
	/* The server counted the oneway: it ran before the calls behind it on that connection. */
	CHECK(__atomic_load_n(&notified, __ATOMIC_RELAXED) == 1, "notify reached the server %u times",
	      notified);
	caller_fini(&k);
	caller_fini(&k2);
}

/* ---- silent server, timeouts, -EBUSY, stop ---- */

struct waiter {
	struct gale_rpc_remote *h;
	int ret;
	uint64_t done_ms;
	pthread_t th;
};

static void *
wait_thread(void *arg)
{
	struct waiter *x = arg;
	struct gale_echo_Echo_echo_result r;
	struct caller k;

	if (caller_init(&k, x->h) != 0) {
		x->ret = -ENOMEM;
		return NULL;
	}
	x->ret = call_echo(&k, "nobody answers", 14, &r);
	x->done_ms = now_ms();
	caller_fini(&k);
	return NULL;
}

struct inflight_want {
	struct gale_rpc_remote *h;
	uint64_t n;
};

static bool
inflight_is(void *arg)
{
	struct inflight_want *iw = arg;
	struct gale_rpc_remote_stats st;

	gale_rpc_remote_stats_get(iw->h, &st);
	return st.in_flight == iw->n;
}

static void *
driver(void *arg)
{
	struct worker_arg *wa;
	struct waiter busy[2], longw[4], shortw;
	struct inflight_want iw;
	struct caller k;
	uint64_t t0, t_stop;
	unsigned int i;
	int ret = -1;

	(void)arg;
	if (caller_init(&k, h_echo) != 0) {
		CHECK(0, "no memory");
		goto stop;
	}
	/* Ready: the server listens and (native) the tap's far side answers. Bounded. */
	t0 = now_ms();
	while (now_ms() - t0 < 30000) {
		struct gale_echo_Echo_ping_args pa;
		struct gale_echo_Echo_ping_result pr;
		struct timespec ts = { 0, 50 * 1000000L };

		gale_echo_Echo_ping_args_init(&pa);
		gale_echo_Echo_ping_result_init(&pr);
		ret = gale_echo_Echo_ping_call(&k.ch, &pa, &pr);
		if (ret == 0)
			break;
		nanosleep(&ts, NULL);
	}
	caller_fini(&k);
	CHECK(ret == 0, "the server never answered a ping within 30 s: %d", ret);
	if (ret != 0)
		goto stop;

	/* 1. Many threads, distinct calls, every reply checked. */
	wa = calloc(opt.threads, sizeof(*wa));
	pthread_t *th = calloc(opt.threads, sizeof(*th));

	if (wa == NULL || th == NULL) {
		CHECK(0, "no memory");
		goto stop;
	}
	t0 = now_ms();
	for (i = 0; i < opt.threads; i++) {
		wa[i].t = i;
		wa[i].h = h_echo;
		pthread_create(&th[i], NULL, echo_thread, &wa[i]);
	}
	unsigned int ok = 0;

	for (i = 0; i < opt.threads; i++) {
		pthread_join(th[i], NULL);
		ok += wa[i].ok;
	}
	CHECK(ok == opt.threads * opt.calls, "%u of %u calls succeeded", ok,
	      opt.threads * opt.calls);
	printf(PROG ": %u threads x %u blocking calls (echo up to %u bytes, add, echo_all), every "
	       "reply checked: %u ok in %llu ms\n",
	       opt.threads, opt.calls, TEXT_MAX, ok, (unsigned long long)(now_ms() - t0));
	free(wa);
	free(th);
	check_misc();

	/* 2. A server that never answers: the worker's timer ends the call. */
	shortw.h = h_short;
	t0 = now_ms();
	wait_thread(&shortw);
	CHECK(shortw.ret == -ETIMEDOUT && shortw.done_ms - t0 >= 300 &&
	              shortw.done_ms - t0 <= 1300,
	      "silent server: %d after %llu ms (want -ETIMEDOUT in [300, 1300] ms)", shortw.ret,
	      (unsigned long long)(shortw.done_ms - t0));
	printf(PROG ": silent server: -ETIMEDOUT after %llu ms (rpc timeout 300 ms)\n",
	       (unsigned long long)(shortw.done_ms - t0));

	/* 3. Two slots: two calls wait, the third is refused. */
	for (i = 0; i < 2; i++) {
		busy[i].h = h_busy;
		pthread_create(&busy[i].th, NULL, wait_thread, &busy[i]);
	}
	iw.h = h_busy;
	iw.n = 2;
	CHECK(wait_until(inflight_is, &iw, 10000), "two calls never got in flight on h_busy");
	{
		struct waiter third = { .h = h_busy };

		t0 = now_ms();
		wait_thread(&third);
		CHECK(third.ret == -EBUSY && third.done_ms - t0 < 1000,
		      "third call on two slots: %d after %llu ms (want -EBUSY at once)", third.ret,
		      (unsigned long long)(third.done_ms - t0));
	}

	/* 4. Stop while calls wait. */
	for (i = 0; i < 4; i++) {
		longw[i].h = h_long;
		pthread_create(&longw[i].th, NULL, wait_thread, &longw[i]);
	}
	iw.h = h_long;
	iw.n = 4;
	CHECK(wait_until(inflight_is, &iw, 10000), "four calls never got in flight on h_long");
	t_stop = now_ms();
	gale_runtime_stop(rt);
	for (i = 0; i < 4; i++) {
		pthread_join(longw[i].th, NULL);
		CHECK(longw[i].ret == -ECANCELED && longw[i].done_ms - t_stop < 10000,
		      "waiting call %u at stop: %d after %llu ms (want -ECANCELED)", i, longw[i].ret,
		      (unsigned long long)(longw[i].done_ms - t_stop));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(busy[i].th, NULL);
		CHECK(busy[i].ret == -ECANCELED, "busy call %u at stop: %d (want -ECANCELED)", i,
		      busy[i].ret);
	}
	printf(PROG ": runtime stopped with 6 calls waiting: all -ECANCELED within %llu ms\n",
	       (unsigned long long)(now_ms() - t_stop));
	{
		struct waiter late = { .h = h_echo };

		wait_thread(&late);
		CHECK(late.ret == -ECANCELED, "call after the stop: %d (want -ECANCELED)", late.ret);
	}
	return NULL;
stop:
	gale_runtime_stop(rt);
	return NULL;
}

/* ---- set-up ---- */

/* A port for the server, held (SO_REUSEPORT, bound, not listening) so that nothing else takes it
 * before the worker's listener (also SO_REUSEPORT) binds it. */
static int
reserve_port(uint16_t *port, bool listening)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	if ((!listening && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (listening && listen(fd, 64) != 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static struct gale_rpc_remote *
remote(unsigned int port, uint8_t transport, uint8_t proto, uint32_t timeout_ms,
       unsigned int max_calls)
{
	struct gale_rpc_client_conf cc;
	struct gale_rpc_remote_conf rc;
	struct gale_rpc_remote *h;
	char ep[32];
	const char *eps[1] = { ep };

	snprintf(ep, sizeof(ep), "%s:%u", opt.peer, port);
	memset(&cc, 0, sizeof(cc));
	cc.endpoints = eps;
	cc.nb_endpoints = 1;
	cc.transport = transport;
	cc.proto = proto;
	cc.rpc_timeout_ms = timeout_ms;
	cc.ep_retry_ms = 50;
	cc.backend = opt.net.backend;
	memset(&rc, 0, sizeof(rc));
	rc.max_calls = max_calls;
	h = gale_rpc_remote_create(rt, 0, &cc, &rc);
	if (h == NULL)
		fprintf(stderr, PROG ": remote handle: %s\n", strerror(errno));
	return h;
}

/* refused + cancelled must be `stopped`, of which `cancelled` after posting. */
static void
check_stats(const char *name, struct gale_rpc_remote *h, uint64_t stopped, uint64_t cancelled)
{
	struct gale_rpc_remote_stats st;

	gale_rpc_remote_stats_get(h, &st);
	CHECK(st.started == st.completed + st.failed && st.in_flight == 0 && st.wait_expired == 0 &&
	              st.refused + st.cancelled == stopped && st.cancelled >= cancelled,
	      "%s counters: started %llu completed %llu failed %llu refused %llu cancelled %llu "
	      "expired %llu in flight %llu",
	      name, (unsigned long long)st.started, (unsigned long long)st.completed,
	      (unsigned long long)st.failed, (unsigned long long)st.refused,
	      (unsigned long long)st.cancelled, (unsigned long long)st.wait_expired,
	      (unsigned long long)st.in_flight);
	printf(PROG ": %s: started %llu, completed %llu, failed %llu, refused %llu, cancelled %llu\n",
	       name, (unsigned long long)st.started, (unsigned long long)st.completed,
	       (unsigned long long)st.failed, (unsigned long long)st.refused,
	       (unsigned long long)st.cancelled);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		GALE_NETOPT_LONGOPTS,
		{ "peer", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "calls", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct gale_rpc_service svc = { "Echo", gale_echo_Echo_gale_rpc_dispatch, &handlers, NULL };
	struct gale_rpc_server_conf sc;
	struct gale_runtime_conf rc;
	int c, ret, srv_fd, silent_fd, leaked = 0;
	uint16_t srv_port, silent_port;
	pthread_t th;
	bool has_dd = false;

	for (c = 1; c < argc; c++)
		has_dd |= strcmp(argv[c], "--") == 0;
	if (has_dd) {
		ret = rte_eal_init(argc, argv);
		if (ret < 0) {
			fprintf(stderr, PROG ": the EAL cannot start\n");
			return 1;
		}
		argc -= ret;
		argv += ret;
	} else if (gale_test_eal_init("0-1", NULL) != 0) {
		fprintf(stderr, PROG ": the EAL cannot start with two lcores\n");
		return 77;
	}
	gale_netopt_init(&opt.net);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'p')
			opt.peer = optarg;
		else if (c == 't')
			opt.threads = (unsigned int)strtoul(optarg, NULL, 10);
		else if (c == 'c')
			opt.calls = (unsigned int)strtoul(optarg, NULL, 10);
		else if (gale_netopt_parse(&opt.net, c, optarg, PROG) != 1)
			return 2;
	}
	if (opt.threads == 0 || opt.threads > 64 || opt.calls == 0) {
		fprintf(stderr, PROG ": --threads 1..64, --calls >= 1\n");
		return 2;
	}
	srv_fd = reserve_port(&srv_port, false);
	silent_fd = reserve_port(&silent_port, true);
	if (srv_fd < 0 || silent_fd < 0) {
		fprintf(stderr, PROG ": cannot reserve ports\n");
		return 1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.services = &svc;
	sc.nb_services = 1;
	sc.backend = GALE_CONN_KERNEL; /* the peer: the kernel's side of the tap, or loopback */
	sc.port = srv_port;
	srv = gale_rpc_server_create(&sc, 1);
	if (srv == NULL) {
		fprintf(stderr, PROG ": server: %s\n", strerror(errno));
		return 1;
	}
	memset(&rc, 0, sizeof(rc));
	rc.name = "rremote";
	rc.nb_workers = 1;
	rc.idle.mode = GALE_IDLE_SLEEP;
	gale_rpc_server_runtime_conf(srv, &rc);
	if (gale_netopt_start(&opt.net, 1, &rc, PROG) != 0)
		return 1;
	rt = gale_runtime_create(&rc);
	if (rt == NULL) {
		fprintf(stderr, PROG ": runtime: %s\n", strerror(errno));
		return 1;
	}
	h_echo = remote(srv_port, GALE_TRANSPORT_FRAMED, GALE_PROTO_BINARY, 5000, 0);
	h_echo2 = remote(srv_port, GALE_TRANSPORT_TTHEADER, GALE_PROTO_COMPACT, 5000, 0);
	h_short = remote(silent_port, GALE_TRANSPORT_FRAMED, GALE_PROTO_BINARY, 300, 0);
	h_busy = remote(silent_port, GALE_TRANSPORT_FRAMED, GALE_PROTO_BINARY, 30000, 2);
	h_long = remote(silent_port, GALE_TRANSPORT_FRAMED, GALE_PROTO_BINARY, 30000, 0);
	if (h_echo == NULL || h_echo2 == NULL || h_short == NULL || h_busy == NULL ||
	    h_long == NULL)
		return 1;
	printf(PROG ": backend %s, server on port %u, silent listener on port %u, peer %s\n",
	       gale_netopt_backend_name(opt.net.backend), srv_port, silent_port, opt.peer);
	if (pthread_create(&th, NULL, driver, NULL) != 0)
		return 1;
	ret = gale_runtime_run(rt);
	pthread_join(th, NULL);
	CHECK(ret == 0, "runtime run: %d", ret);
	/* The call after the stop: refused at once, or cancelled if it was posted while the worker
	 * drained. */
	check_stats("echo", h_echo, 1, 0);
	check_stats("ttheader/compact", h_echo2, 0, 0);
	check_stats("silent 300 ms", h_short, 0, 0);
	check_stats("two slots", h_busy, 3, 2);
	check_stats("silent 30 s", h_long, 4, 4);
	gale_netopt_conns_left(&opt.net, rt, PROG);
	gale_rpc_remote_free(h_echo);
	gale_rpc_remote_free(h_echo2);
	gale_rpc_remote_free(h_short);
	gale_rpc_remote_free(h_busy);
	gale_rpc_remote_free(h_long);
	gale_runtime_free(rt);
	gale_rpc_server_free(srv);
	leaked = gale_netopt_stop(&opt.net, PROG);
	CHECK(leaked == 0, "%d mbufs not returned", leaked);
	close(srv_fd);
	close(silent_fd);
	if (failures != 0) {
		fprintf(stderr, PROG ": %d check(s) failed\n", failures);
		return 1;
	}
	printf(PROG ": blocking calls from plain threads (%s backend): ok\n",
	       gale_netopt_backend_name(opt.net.backend));
	return 0;
}
