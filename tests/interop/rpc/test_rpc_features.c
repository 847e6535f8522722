/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale's RPC server on the runtime (one worker, kernel backend, loopback) called by gale's client
 * (the blocking form, from a plain thread), for what the interop peers cannot show:
 *
 *   - multi-service dispatch: a first service without `add` passes it on to the next one (-ENOENT
 *     from the generated dispatch), `echo` stays with the first; each handler sees its own user;
 *   - routing by TTHeader TO_SERVICE, which overrides the registration order;
 *   - request metadata from a TTHeader call: transport, a string header, and the deadline derived
 *     from the caller's RPC_TIMEOUT, through gale_rpc_req_current();
 *   - a handler failure answered with TApplicationException INTERNAL_ERROR;
 *   - the middleware chain: before in order, after in reverse order with the status, and a
 *     refusal (header "deny") that never reaches the handler;
 *   - a deferred reply (the handler answers 50 ms later from a timer on its worker) and a call
 *     pipelined behind it on the same connection, answered after it, in order;
 *   - a handler that calls downstream (gale's client on the worker, async, its timers on the
 *     worker's wheel; the downstream server is this one) and replies when that call completes;
 *   - a deferred request whose caller's deadline (TTHeader RPC_TIMEOUT 100 ms) passes before the
 *     handler answers (at 300 ms): the server answers INTERNAL_ERROR "deadline exceeded" itself,
 *     at the deadline, and the handler's late reply is refused with -ETIMEDOUT;
 *   - the idle timeout closing a silent connection, counted;
 *   - the drain: the runtime stops cleanly with the client's connections open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gale/appex.h>
#include <gale/binary.h>
#include <gale/frame.h>
#include <gale/rpc.h>
#include <gale/runtime.h>
#include <gale/thriftc.h>
#include <gale/timer.h>

#include "echo.h"
#include "gale_test_eal.h"
#include <gale/timer.h>
#include <gale/worker.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "test_rpc_features:%d: ", __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static int tag_partial, tag_echo;

/* What the handlers saw (written on the worker, read by the client after the reply). */
static struct {
	const void *user;
	uint8_t transport;
	uint64_t timeout_us;
	char tenant[16];
	unsigned int pings;
	char order[32];
	int last_status;
} seen;

static unsigned int nbefore, nafter;

static void
note(const char *s)
{
	if (s[0] == 'b')
		nbefore++;
	else
		nafter++;
	size_t l = strlen(seen.order);

	snprintf(seen.order + l, sizeof(seen.order) - l, "%s", s);
}

/* The deferred echo: answered by a timer on the worker, 50 ms later. */
static struct gale_rpc_deferred *later_d;
static struct gale_echo_Echo_echo_result later_res;
static struct gale_timer later_timer;

static int
write_echo_result(int proto, struct gale_codec_writer *w, const void *result)
{
	return gale_echo_Echo_echo_result_write(proto, w, result);
}

static void
later_fire(struct gale_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	gale_echo_Echo_echo_result_init(&later_res);
	later_res.success.ptr = (const uint8_t *)"later!";
	later_res.success.len = 6;
	GALE_SET(&later_res, gale_echo_Echo_echo_result_F_success);
	if (gale_rpc_reply(later_d, write_echo_result, &later_res) != 0)
		seen.last_status = -EPIPE;
	later_d = NULL;
}

/* The proxying echo: a downstream add through a client on the worker, then the deferred reply. */
static struct gale_rpc_server *the_srv;
static struct gale_rpc_client *wcl;
static struct gale_tc_channel wch;
static struct gale_echo_Echo_add_args proxy_args;
static struct gale_echo_Echo_add_result proxy_res;
static struct gale_echo_Echo_echo_result proxy_out;
static char proxy_text[32];

static void
proxy_done(void *arg, int status)
{
	struct gale_rpc_deferred *d = arg;

	if (status != 0) {
		gale_rpc_reply_error(d, GALE_APPEX_INTERNAL_ERROR, "downstream failed");
		return;
	}
	snprintf(proxy_text, sizeof(proxy_text), "proxy:%ld", (long)proxy_res.success);
	gale_echo_Echo_echo_result_init(&proxy_out);
	proxy_out.success.ptr = (const uint8_t *)proxy_text;
	proxy_out.success.len = (uint32_t)strlen(proxy_text);
	GALE_SET(&proxy_out, gale_echo_Echo_echo_result_F_success);
	gale_rpc_reply(d, write_echo_result, &proxy_out);
}

static int
proxy(const struct gale_rpc_req *req)
{
	struct gale_rpc_deferred *d;

	if (wcl == NULL) {
		char ep[32];
		const char *eps[1] = { ep };
		struct gale_rpc_client_conf cc;

		snprintf(ep, sizeof(ep), "127.0.0.1:%u",
		         (unsigned int)gale_rpc_server_port(the_srv));
		memset(&cc, 0, sizeof(cc));
		cc.endpoints = eps;
		cc.nb_endpoints = 1;
		cc.proto = GALE_PROTO_BINARY;
		cc.rpc_timeout_ms = 2000;
		wcl = gale_rpc_client_create(&cc, req->w);
		if (wcl == NULL)
			return -ENOMEM;
		gale_rpc_client_channel(wcl, &wch);
	}
	d = gale_rpc_defer();
	if (d == NULL)
		return -EBUSY;
	gale_echo_Echo_add_args_init(&proxy_args);
	proxy_args.a = 20;
	proxy_args.b = 22;
	if (gale_echo_Echo_add_call_async(&wch, &proxy_args, &proxy_res, proxy_done, d) != 0) {
		gale_rpc_reply_error(d, GALE_APPEX_INTERNAL_ERROR, "cannot call downstream");
		return GALE_RPC_DEFERRED;
	}
	return GALE_RPC_DEFERRED;
}

/* The worker's work: the server's, then the worker's own client. */
static unsigned int
work(struct gale_worker *w, void *arg)
{
	unsigned int n = gale_rpc_server_worker_work(w, arg);

	if (wcl != NULL)
		n += gale_rpc_client_poll(wcl);
	return n;
}

static void
fini(struct gale_worker *w, void *arg)
{
	gale_rpc_client_free(wcl);
	wcl = NULL;
	gale_rpc_server_worker_fini(w, arg);
}

/* The sleepy echo: defers and answers only after 300 ms, past a 100 ms deadline. */
static struct gale_rpc_deferred *sleepy_d;
static struct gale_timer sleepy_timer;
static int sleepy_ret = 1;

static void
sleepy_fire(struct gale_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	/* Release: the client thread polls it with an acquire load. */
	__atomic_store_n(&sleepy_ret, gale_rpc_reply(sleepy_d, write_echo_result, &later_res),
	                 __ATOMIC_RELEASE);
	sleepy_d = NULL;
}

static int
h_echo(void *user, const struct gale_echo_Echo_echo_args *args,
       struct gale_echo_Echo_echo_result *res)
{
	const struct gale_rpc_req *req = gale_rpc_req_current();

	seen.user = user;
	if (args->message.len == 5 && memcmp(args->message.ptr, "later", 5) == 0 && req != NULL &&
	    later_d == NULL && (later_d = gale_rpc_defer()) != NULL) {
		gale_timer_init(&later_timer, later_fire, NULL);
		gale_timer_arm(gale_worker_timers(req->w), &later_timer,
		               gale_worker_now_us(req->w) + 50000);
		return GALE_RPC_DEFERRED;
	}
	if (args->message.len == 6 && memcmp(args->message.ptr, "sleepy", 6) == 0 && req != NULL &&
	    sleepy_d == NULL && (sleepy_d = gale_rpc_defer()) != NULL) {
		gale_timer_init(&sleepy_timer, sleepy_fire, NULL);
		gale_timer_arm(gale_worker_timers(req->w), &sleepy_timer,
		               gale_worker_now_us(req->w) + 300000);
		return GALE_RPC_DEFERRED;
	}
	if (args->message.len == 5 && memcmp(args->message.ptr, "proxy", 5) == 0 && req != NULL)
		return proxy(req);
	if (args->message.len == 4 && memcmp(args->message.ptr, "fail", 4) == 0)
		return -EIO;
	res->success = args->message;
	GALE_SET(res, gale_echo_Echo_echo_result_F_success);
	return 0;
}

static int
h_add(void *user, const struct gale_echo_Echo_add_args *args, struct gale_echo_Echo_add_result *res)
{
	const struct gale_rpc_req *req = gale_rpc_req_current();
	struct gale_codec_bytes v;

	seen.user = user;
	if (req != NULL) {
		seen.transport = req->transport;
		seen.timeout_us = req->deadline_us != 0 ? req->deadline_us - req->start_us : 0;
		if (gale_rpc_req_header(req, "tenant", &v) == 0 && v.len < sizeof(seen.tenant)) {
			memcpy(seen.tenant, v.ptr, v.len);
			seen.tenant[v.len] = '\0';
		}
	}
	res->success = args->a + args->b;
	GALE_SET(res, gale_echo_Echo_add_result_F_success);
	return 0;
}

static int
h_ping(void *user, const struct gale_echo_Echo_ping_args *args,
       struct gale_echo_Echo_ping_result *res)
{
	(void)user;
	(void)args;
	(void)res;
	seen.pings++;
	return 0;
}

static int
mw_before(void *arg, struct gale_rpc_req *req)
{
	struct gale_codec_bytes v;

	note(arg == NULL ? "b0" : "b1");
	if (arg == NULL && gale_rpc_req_header(req, "deny", &v) == 0)
		return -EPERM;
	return 0;
}

static void
mw_after(void *arg, const struct gale_rpc_req *req, int status)
{
	(void)req;
	note(arg == NULL ? "a0" : "a1");
	seen.last_status = status;
}

GALE_RPC_DISPATCH(gale_echo_Echo)

static const struct gale_echo_Echo_handlers partial = { .echo = h_echo };
static const struct gale_echo_Echo_handlers full = { .echo = h_echo, .add = h_add, .ping = h_ping };

struct done_rec {
	int order;
	int status;
	uint64_t at;
	int ok; /**< the echo result matched (in the callback) */
	const struct gale_echo_Echo_echo_result
	        *er; /**< checked in the callback: views die after */
};

static int done_seq;

static void
rec_done(void *arg, int status)
{
	struct done_rec *d = arg;

	d->order = ++done_seq;
	d->status = status;
	d->at = gale_timer_now_us();
	d->ok = d->er != NULL && status == 0 && d->er->success.len == 6 &&
	        memcmp(d->er->success.ptr, "later!", 6) == 0;
}

struct ctx {
	struct gale_runtime *rt;
	struct gale_rpc_server *srv;
};

/* Client middleware: counts calls and outcomes, and sees each call's method and seqid. */
static struct {
	unsigned int before, after, failed, bad;
	int32_t last_seqid;
} cmw;

static int
cmw_before(void *arg, struct gale_rpc_req *req)
{
	(void)arg;
	cmw.before++;
	if (req->method_len == 0 || req->seqid <= cmw.last_seqid ||
	    req->deadline_us <= req->start_us)
		cmw.bad++;
	cmw.last_seqid = req->seqid;
	return 0;
}

static void
cmw_after(void *arg, const struct gale_rpc_req *req, int status)
{
	(void)arg;
	(void)req;
	cmw.after++;
	cmw.failed += status != 0;
}

static const struct gale_rpc_middleware client_mw = { cmw_before, cmw_after, NULL };

static struct gale_rpc_client *
client(uint16_t port, uint8_t transport, const struct gale_frame_kv *hdrs, unsigned int nh)
{
	char ep[32];
	const char *eps[1] = { ep };
	struct gale_rpc_client_conf cc;
	struct gale_rpc_client *cl;

	snprintf(ep, sizeof(ep), "127.0.0.1:%u", (unsigned int)port);
	memset(&cc, 0, sizeof(cc));
	cc.endpoints = eps;
	cc.nb_endpoints = 1;
	cc.transport = transport;
	cc.proto = GALE_PROTO_COMPACT;
	cc.rpc_timeout_ms = 1500;
	cc.headers = hdrs;
	cc.nb_headers = nh;
	if (transport == GALE_TRANSPORT_TTHEADER) {
		cc.middleware = &client_mw;
		cc.nb_middleware = 1;
	}
	cl = gale_rpc_client_create(&cc, NULL);
	CHECK(cl != NULL, "client: %s", strerror(errno));
	return cl;
}

static struct gale_codec_bytes
str(const char *s)
{
	struct gale_codec_bytes b = { (const uint8_t *)s, (uint32_t)strlen(s) };

	return b;
}

#define RAW_REPLY 100

/*
 * A raw TTHeader call echo(message) with the given int headers: returns RAW_REPLY for a reply, the
 * exception type for a TApplicationException (its message in msg), or -1.
 */
static int
raw_call(uint16_t port, const struct gale_frame_intkv *kvs, uint16_t nkv, const char *message,
         uint64_t *elapsed_us, char *msg, size_t msg_len)
{
	static uint8_t out[1024], in[1024];
	struct gale_codec_wseg ws = { out, sizeof(out), 0 };
	struct gale_echo_Echo_echo_args ea;
	struct gale_codec_writer w;
	struct gale_codec_reader r;
	struct gale_codec_seg seg;
	struct gale_codec_bytes name;
	struct gale_frame f, g;
	struct gale_appex ex;
	struct sockaddr_in sa;
	struct timeval tv = { 5, 0 };
	size_t got = 0;
	uint64_t t0;
	int32_t seqid;
	uint8_t type;
	long n = -2;
	int fd, ret = -1;

	memset(&f, 0, sizeof(f));
	f.transport = GALE_TRANSPORT_TTHEADER;
	f.proto = GALE_PROTO_BINARY;
	f.seqid = 9;
	f.intkv = kvs;
	f.n_intkv = nkv;
	gale_echo_Echo_echo_args_init(&ea);
	ea.message = str(message);
	gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
	if (gale_frame_encode_begin(&w, &f) != 0 ||
	    gale_echo_Echo_echo_send(GALE_PROTO_BINARY, &w, 9, &ea) != 0 ||
	    gale_frame_encode_end(&w, &f, NULL) != 0)
		return -1;
	gale_codec_writer_finish(&w);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	t0 = gale_timer_now_us();
	if (send(fd, out, ws.len, 0) != (ssize_t)ws.len)
		goto out;
	while (n == -2 && got < sizeof(in)) {
		ssize_t k = recv(fd, in + got, sizeof(in) - got, 0);

		if (k <= 0)
			goto out;
		got += (size_t)k;
		seg.base = in;
		seg.len = got;
		memset(&g, 0, sizeof(g));
		g.transport = GALE_TRANSPORT_TTHEADER;
		n = gale_frame_decode(&seg, 1, NULL, NULL, &g);
	}
	*elapsed_us = gale_timer_now_us() - t0;
	if (n <= 0 || gale_frame_payload_reader(&g, &seg, 1, NULL, NULL, &r) != 0 ||
	    gale_binary_read_message_begin(&r, &name, &type, &seqid) != 0 || seqid != 9)
		goto out;
	if (type == GALE_MSG_REPLY) {
		ret = RAW_REPLY;
		goto out;
	}
	if (type != GALE_MSG_EXCEPTION ||
	    gale_appex_read(&r, gale_proto_ops(GALE_PROTO_BINARY), &ex) != 0)
		goto out;
	snprintf(msg, msg_len, "%.*s", (int)ex.message.len, (const char *)ex.message.ptr);
	ret = ex.type;
out:
	close(fd);
	return ret;
}

static void *
client_thread(void *arg)
{
	struct ctx *x = arg;
	struct gale_frame_kv hdr[2] = { { str("tenant"), str("acme") }, { str("deny"), str("1") } };
	struct gale_echo_Echo_add_args aa;
	struct gale_echo_Echo_add_result ar;
	struct gale_echo_Echo_echo_args ea;
	struct gale_echo_Echo_echo_result er;
	struct gale_echo_Echo_ping_args pa;
	struct gale_echo_Echo_ping_result pr;
	struct gale_rpc_client *cl, *deny;
	struct gale_rpc_stats st;
	struct gale_tc_channel ch, dch;
	struct sockaddr_in sa;
	uint64_t deadline;
	uint16_t port;
	char buf[8], msg[64];
	int rc, fd;
	ssize_t r;

	deadline = gale_timer_now_us() + 10000000u;
	while (gale_rpc_server_listening(x->srv) < 1 && gale_timer_now_us() < deadline)
		usleep(1000);
	port = gale_rpc_server_port(x->srv);
	cl = client(port, GALE_TRANSPORT_TTHEADER, hdr, 1);
	deny = client(port, GALE_TRANSPORT_THEADER, hdr, 2);
	if (cl == NULL || deny == NULL)
		goto out;
	gale_rpc_client_channel(cl, &ch);
	gale_rpc_client_channel(deny, &dch);

	/* add: not in the first service, served by the second, with the TTHeader metadata. */
	gale_echo_Echo_add_args_init(&aa);
	aa.a = 2;
	aa.b = 3;
	seen.order[0] = '\0';
	rc = gale_echo_Echo_add_call(&ch, &aa, &ar);
	CHECK(rc == 0 && ar.success == 5, "add: rc %d", rc);
	CHECK(seen.user == &tag_echo, "add served by the wrong service");
	CHECK(seen.transport == GALE_TRANSPORT_TTHEADER, "transport %u", seen.transport);
	CHECK(seen.timeout_us == 1500000, "deadline - start = %lu us, want 1500000",
	      (unsigned long)seen.timeout_us);
	CHECK(strcmp(seen.tenant, "acme") == 0, "tenant header '%s'", seen.tenant);
	CHECK(strcmp(seen.order, "b0b1a1a0") == 0, "middleware order '%s'", seen.order);
	CHECK(seen.last_status == 0, "middleware saw status %d", seen.last_status);

	/* echo: the first service has it. */
	gale_echo_Echo_echo_args_init(&ea);
	ea.message = str("hi");
	rc = gale_echo_Echo_echo_call(&ch, &ea, &er);
	CHECK(rc == 0 && er.success.len == 2 && memcmp(er.success.ptr, "hi", 2) == 0, "echo rc %d",
	      rc);
	CHECK(seen.user == &tag_partial, "echo served by the wrong service");

	/* A failing handler: TApplicationException INTERNAL_ERROR. */
	ea.message = str("fail");
	rc = gale_echo_Echo_echo_call(&ch, &ea, &er);
	CHECK(rc == -EREMOTEIO, "failing handler: rc %d", rc);
	CHECK(gale_rpc_client_last_appex(cl, msg, sizeof(msg)) == GALE_APPEX_INTERNAL_ERROR,
	      "failing handler: exception type %d (%s)", gale_rpc_client_last_appex(cl, NULL, 0),
	      msg);
	CHECK(seen.last_status == -EIO, "middleware saw status %d, want -EIO", seen.last_status);

	/* The middleware refuses calls carrying "deny": the handler never runs. */
	gale_echo_Echo_ping_args_init(&pa);
	rc = gale_echo_Echo_ping_call(&dch, &pa, &pr);
	CHECK(rc == -EREMOTEIO, "denied ping: rc %d", rc);
	CHECK(seen.pings == 0, "denied ping reached the handler");
	rc = gale_echo_Echo_ping_call(&ch, &pa, &pr);
	CHECK(rc == 0 && seen.pings == 1, "allowed ping: rc %d pings %u", rc, seen.pings);

	/* A deferred reply, and a call pipelined behind it on the same connection. */
	{
		struct gale_echo_Echo_echo_args la;
		struct gale_echo_Echo_echo_result lr;
		struct gale_echo_Echo_add_args ba;
		struct gale_echo_Echo_add_result br;
		struct done_rec d1 = { 0, 0, 0, 0, &lr }, d2 = { 0, 0, 0, 0, NULL };
		uint64_t t0 = gale_timer_now_us(), until = t0 + 5000000u;

		gale_echo_Echo_echo_args_init(&la);
		la.message = str("later");
		gale_echo_Echo_add_args_init(&ba);
		ba.a = 40;
		ba.b = 2;
		done_seq = 0;
		CHECK(gale_echo_Echo_echo_call_async(&ch, &la, &lr, rec_done, &d1) == 0,
		      "later: start");
		CHECK(gale_echo_Echo_add_call_async(&ch, &ba, &br, rec_done, &d2) == 0,
		      "behind: start");
		while ((d1.order == 0 || d2.order == 0) && gale_timer_now_us() < until)
			gale_rpc_client_poll(cl);
		CHECK(d1.order == 1 && d1.status == 0, "deferred call: order %d status %d",
		      d1.order, d1.status);
		CHECK(d2.order == 2 && d2.status == 0 && br.success == 42,
		      "call behind it: order %d status %d", d2.order, d2.status);
		CHECK(d1.at - t0 >= 50000, "deferred reply after %lu us, want >= 50 ms",
		      (unsigned long)(d1.at - t0));
		CHECK(d1.ok, "deferred result did not match");
	}

	/* A handler that calls downstream from its worker and replies on completion. */
	ea.message = str("proxy");
	rc = gale_echo_Echo_echo_call(&ch, &ea, &er);
	CHECK(rc == 0 && er.success.len == 8 && memcmp(er.success.ptr, "proxy:42", 8) == 0,
	      "proxy: rc %d '%.*s'", rc, (int)er.success.len, (const char *)er.success.ptr);

	/* TTHeader TO_SERVICE picks the service: "Echo" serves echo although "Partial" has it. */
	{
		struct gale_frame_intkv kv = { GALE_TTHEADER_TO_SERVICE,
			                       { (const uint8_t *)"Echo", 4 } };
		uint64_t el;
		char xm[64] = "";

		seen.user = NULL;
		CHECK(raw_call(port, &kv, 1, "routed", &el, xm, sizeof(xm)) == RAW_REPLY,
		      "TO_SERVICE call: no reply (%s)", xm);
		CHECK(seen.user == &tag_echo, "TO_SERVICE Echo: served by the wrong service");
		kv.val.ptr = (const uint8_t *)"Partial";
		kv.val.len = 7;
		CHECK(raw_call(port, &kv, 1, "routed", &el, xm, sizeof(xm)) == RAW_REPLY,
		      "TO_SERVICE Partial: no reply (%s)", xm);
		CHECK(seen.user == &tag_partial, "TO_SERVICE Partial: served by the wrong service");
	}

	/* The caller's deadline passes before the deferred reply: the server answers for it. */
	{
		uint64_t el = 0, until;
		char xm[64] = "";
		struct gale_frame_intkv kv = { GALE_TTHEADER_RPC_TIMEOUT,
			                       { (const uint8_t *)"100", 3 } };
		int t = raw_call(port, &kv, 1, "sleepy", &el, xm, sizeof(xm));

		CHECK(t == GALE_APPEX_INTERNAL_ERROR && strcmp(xm, "deadline exceeded") == 0,
		      "past deadline: exception type %d '%s'", t, xm);
		CHECK(el >= 90000 && el < 290000,
		      "past deadline: answered after %lu us, want ~100 ms", (unsigned long)el);
		until = gale_timer_now_us() + 5000000u;
		while (__atomic_load_n(&sleepy_ret, __ATOMIC_ACQUIRE) == 1 &&
		       gale_timer_now_us() < until)
			usleep(1000);
		CHECK(sleepy_ret == -ETIMEDOUT,
		      "late reply after the deadline: %d, want -ETIMEDOUT", sleepy_ret);
	}

	/* A silent connection is closed by the idle timeout (300 ms). */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
	{
		struct timeval tv = { 5, 0 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	r = recv(fd, buf, sizeof(buf), 0);
	CHECK(r == 0, "idle connection: recv %zd (%s), want EOF", r, strerror(errno));
	close(fd);
	/* The TTHeader client's calls: add, echo, echo(fail), ping, later, add, proxy. */
	CHECK(cmw.before == 7 && cmw.after == 7 && cmw.failed == 1 && cmw.bad == 0,
	      "client middleware: before %u after %u failed %u bad %u", cmw.before, cmw.after,
	      cmw.failed, cmw.bad);
	gale_rpc_server_stats(x->srv, &st);
	CHECK(st.idle_closed >= 1, "idle_closed %lu", (unsigned long)st.idle_closed);
	CHECK(st.deferred == 3, "deferred %lu", (unsigned long)st.deferred);
	/* Deferred requests too: every before hook got its after hook, once. */
	CHECK(nbefore == nafter && nbefore != 0, "middleware: %u before, %u after", nbefore,
	      nafter);
	CHECK(st.deadline_exceeded == 1, "deadline_exceeded %lu",
	      (unsigned long)st.deadline_exceeded);
	CHECK(st.ex_handler == 2, "ex_handler %lu, want 2 (failing handler, refusal)",
	      (unsigned long)st.ex_handler);
out:
	/* Stop with the clients' connections still open: the drain closes them. */
	gale_runtime_stop(x->rt);
	gale_rpc_client_free(cl);
	gale_rpc_client_free(deny);
	return NULL;
}

int
main(void)
{
	struct gale_rpc_service svcs[2] = {
		{ "Partial", gale_echo_Echo_gale_rpc_dispatch, &partial, &tag_partial },
		{ "Echo", gale_echo_Echo_gale_rpc_dispatch, &full, &tag_echo },
	};
	struct gale_rpc_middleware mw[2] = { { mw_before, mw_after, NULL },
		                             { mw_before, mw_after, &tag_echo } };
	struct gale_rpc_server_conf sc;
	struct gale_runtime_conf rc;
	struct ctx x;
	pthread_t th;
	int ret;

	if (gale_test_eal_init("0-1", NULL) != 0) {
		fprintf(stderr, "test_rpc_features: the EAL cannot start with two lcores\n");
		return 77;
	}
	memset(&sc, 0, sizeof(sc));
	sc.services = svcs;
	sc.nb_services = 2;
	sc.middleware = mw;
	sc.nb_middleware = 2;
	sc.host = "127.0.0.1";
	sc.idle_timeout_ms = 300;
	x.srv = gale_rpc_server_create(&sc, 1);
	if (x.srv == NULL) {
		fprintf(stderr, "server: %s\n", strerror(errno));
		return 1;
	}
	memset(&rc, 0, sizeof(rc));
	rc.name = "rpcft";
	rc.idle.mode = GALE_IDLE_SLEEP;
	gale_rpc_server_runtime_conf(x.srv, &rc);
	rc.work_cb = work;
	rc.fini_cb = fini;
	the_srv = x.srv;
	x.rt = gale_runtime_create(&rc);
	if (x.rt == NULL) {
		fprintf(stderr, "runtime: %s\n", strerror(errno));
		return 1;
	}
	if (pthread_create(&th, NULL, client_thread, &x) != 0)
		return 1;
	ret = gale_runtime_run(x.rt);
	pthread_join(th, NULL);
	CHECK(ret == 0, "runtime run: %d (a drain with open client connections must be clean)",
	      ret);
	gale_runtime_free(x.rt);
	gale_rpc_server_free(x.srv);
	if (failures != 0) {
		fprintf(stderr, "test_rpc_features: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_rpc_features: multi-service, metadata, deadline, exceptions, middleware, idle "
	       "timeout, drain: ok\n");
	return 0;
}
