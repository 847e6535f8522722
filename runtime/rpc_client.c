/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Thrift RPC client (gale/rpc.h) over the connection interface (gale/conn.h), offered to the
 * code gale-thriftc generates as a channel (<gale/thriftc.h>).
 *
 * A client belongs to one worker (or one non-worker thread) and owns everything it uses: a backend
 * instance, a pool of connections per endpoint, a fixed table of call slots (max_pending, taken
 * from a free list: no allocation per call), one arena for decoding replies, and its counters.
 *
 * A call takes a slot, an endpoint (round-robin) and that endpoint's least-loaded connection
 * (opened on demand, with a connect timer), gets the next sequence id, writes its envelope and
 * arguments straight into the connection's send buffer inside the transport's frame, and arms its
 * RPC timer. Calls made while the connection is still opening wait on it, unsent, and go out in
 * order once it is open. Replies are matched by sequence id against the connection's list of calls
 * (normally the first one: servers answer in order), so out-of-order replies are fine too. A call
 * that times out leaves the list at once; its reply, should it come, finds no call and is dropped
 * and counted. Done callbacks run from gale_rpc_client_poll (or the wheel's advance), never from
 * inside the call that started them.
 *
 * Endpoint faults: a connection that fails before it opens (refused, unreachable, connect timeout)
 * marks its endpoint down for ep_retry_ms, doubled per consecutive failure up to 8x; round-robin
 * skips endpoints that are down, and the next call after the wait tries the endpoint again (an
 * open connection clears it). The calls that waited unsent on such a connection move to another
 * endpoint that is up (a failover; their RPC timer keeps running, so none outlives its timeout);
 * calls already sent are never resent (a call need not be idempotent): when their connection
 * closes they fail with its error (-ECONNRESET when the peer vanished). With every endpoint down,
 * a call fails at once with the last endpoint error (e.g. -ECONNREFUSED) instead of waiting.
 *
 * Timers: on a worker, the worker's wheel (advanced by the loop); without one, the client's own
 * wheel, advanced by gale_rpc_client_poll from gale_timer_now_us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/appex.h>
#include <gale/proto.h>
#include <gale/rpc.h>
#include <gale/thriftc.h>
#include <gale/timer.h>
#include <gale/worker.h>

#include "runtime_private.h"

#define GALE__CL_SEGS 8

struct gale__cl_conn;

struct gale__cl_call {
	struct gale_tc_call call;
	gale_tc_done_cb_t done;
	void *arg;
	struct gale_rpc_client *cl;
	struct gale__cl_conn *cc; /**< NULL once off its connection's list */
	struct gale_timer timer;
	struct gale_rpc_req req;
	unsigned int mw_done;
	bool sent;
	bool copy_reply;
	bool busy;
	unsigned int moves; /**< failovers so far (at most nb_endpoints - 1) */
	int status;
	struct gale__cl_call *next; /**< connection list, done list or free list */
};

struct gale__cl_conn {
	struct gale_rpc_client *cl;
	struct gale__cl_ep *ep;
	struct gale_conn *c; /**< NULL: none (open one on demand) */
	bool open;
	bool was_open; /**< opened since connect (closing before marks the endpoint down) */
	int err;       /**< why it is closing */
	unsigned int npending;
	struct gale_timer ctimer;
	struct gale__cl_call *head, *tail;
};

struct gale__cl_ep {
	char host[16];
	uint16_t port;
	unsigned int fails;     /**< consecutive connection failures */
	int err;                /**< the last one's errno (negative) */
	uint64_t down_until_us; /**< skipped by round-robin until then */
	unsigned int next_pick; /**< where gale__cl_pick starts looking */
	struct gale__cl_conn *conns;
};

struct gale_rpc_client {
	struct gale_rpc_client_conf conf;
	struct gale_worker *w;
	struct gale_timer_wheel *wheel;
	bool own_wheel;
	struct gale_conn_backend *be;
	struct gale__cl_ep *eps;
	unsigned int rr;
	int32_t seq;
	struct gale__cl_call *calls;
	struct gale__cl_call *free_calls;
	struct gale__cl_call *done_head, *done_tail;
	unsigned int pending;
	struct gale_arena arena;
	uint8_t *arena_mem;
	uint8_t *rbuf;
	size_t rcap;
	struct gale_frame_intkv tmo_kv; /**< TTHeader RPC_TIMEOUT, from rpc_timeout_ms */
	char tmo_str[16];
	int32_t last_ex_type;
	char last_ex_msg[128];
	struct gale_rpc_client_stats st;
};

#define GALE__CCNT(cl, f) __atomic_store_n(&(cl)->st.f, (cl)->st.f + 1, __ATOMIC_RELAXED)

static uint64_t
gale__cl_now(const struct gale_rpc_client *cl)
{
	return cl->w != NULL ? gale_worker_now_us(cl->w) : gale_timer_now_us();
}

static void gale__cl_rpc_timeout(struct gale_timer *t, void *arg);
static void gale__cl_connect_timeout(struct gale_timer *t, void *arg);

struct gale_rpc_client *
gale_rpc_client_create(const struct gale_rpc_client_conf *conf, struct gale_worker *w)
{
	struct gale_rpc_client *cl;
	struct gale_conn_conf cc;
	unsigned int i, k;

	if (conf == NULL || conf->endpoints == NULL || conf->nb_endpoints == 0 ||
	    (conf->nb_middleware != 0 && conf->middleware == NULL) ||
	    gale_proto_ops(conf->proto) == NULL || conf->transport > GALE_TRANSPORT_THEADER) {
		errno = EINVAL;
		return NULL;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		goto nomem;
	cl->conf = *conf;
	cl->conf.endpoints = NULL;
	if (cl->conf.transport == GALE_TRANSPORT_NONE)
		cl->conf.transport = GALE_TRANSPORT_FRAMED;
	if (cl->conf.conns_per_endpoint == 0)
		cl->conf.conns_per_endpoint = 1;
	if (cl->conf.max_pending == 0)
		cl->conf.max_pending = 1024;
	if (cl->conf.connect_timeout_ms == 0)
		cl->conf.connect_timeout_ms = 1000;
	if (cl->conf.rpc_timeout_ms == 0)
		cl->conf.rpc_timeout_ms = 1000;
	if (cl->conf.ep_retry_ms == 0)
		cl->conf.ep_retry_ms = 500;
	if (cl->conf.arena_size == 0)
		cl->conf.arena_size = 1u << 20;
	cl->w = w;
	snprintf(cl->tmo_str, sizeof(cl->tmo_str), "%u", cl->conf.rpc_timeout_ms);
	cl->tmo_kv.key = GALE_TTHEADER_RPC_TIMEOUT;
	cl->tmo_kv.val.ptr = (const uint8_t *)cl->tmo_str;
	cl->tmo_kv.val.len = (uint32_t)strlen(cl->tmo_str);
	cl->eps = calloc(conf->nb_endpoints, sizeof(*cl->eps));
	cl->calls = calloc(cl->conf.max_pending, sizeof(*cl->calls));
	cl->arena_mem = malloc(cl->conf.arena_size);
	if (cl->eps == NULL || cl->calls == NULL || cl->arena_mem == NULL)
		goto fail;
	gale_arena_init(&cl->arena, cl->arena_mem, cl->conf.arena_size);
	for (i = 0; i < conf->nb_endpoints; i++) {
		struct gale__cl_ep *ep = &cl->eps[i];

		if (gale_conn_parse_addr(conf->endpoints[i], ep->host, sizeof(ep->host),
		                         &ep->port) != 0 ||
		    ep->port == 0 || ep->host[0] == '\0') {
			errno = EINVAL;
			goto fail_errno;
		}
		ep->conns = calloc(cl->conf.conns_per_endpoint, sizeof(*ep->conns));
		if (ep->conns == NULL)
			goto fail;
		for (k = 0; k < cl->conf.conns_per_endpoint; k++) {
			ep->conns[k].cl = cl;
			ep->conns[k].ep = ep;
			gale_timer_init(&ep->conns[k].ctimer, gale__cl_connect_timeout,
			                &ep->conns[k]);
		}
	}
	for (i = 0; i < cl->conf.max_pending; i++) {
		cl->calls[i].cl = cl;
		gale_timer_init(&cl->calls[i].timer, gale__cl_rpc_timeout, &cl->calls[i]);
		cl->calls[i].next = cl->free_calls;
		cl->free_calls = &cl->calls[i];
	}
	if (w != NULL) {
		cl->wheel = gale_worker_timers(w);
	} else {
		cl->wheel = gale_timer_wheel_create(gale_timer_now_us());
		cl->own_wheel = true;
		if (cl->wheel == NULL)
			goto fail;
	}
	memset(&cc, 0, sizeof(cc));
	cc.kind = conf->backend != 0 ? conf->backend : GALE_CONN_KERNEL;
	if (cc.kind == GALE_CONN_NATIVE) {
		int p = w != NULL ? gale_worker_stack_port(w) : -ENOENT;

		if (p < 0) {
			errno = EINVAL; /* the native backend runs on a worker's stack */
			goto fail_errno;
		}
		cc.stack = gale_worker_stack(w, (uint16_t)p);
		cc.worker = w;
	}
	cc.max_conns = conf->nb_endpoints * cl->conf.conns_per_endpoint + 1;
	cc.rx_max = (size_t)(conf->limits.max_frame != 0 ? conf->limits.max_frame
	                                                 : GALE_CODEC_DEFAULT_MAX_FRAME) +
	            (64u << 10);
	cl->be = gale_conn_backend_create(&cc);
	if (cl->be == NULL)
		goto fail_errno;
	gale__telemetry_rpc_client(cl, true);
	return cl;
nomem:
	errno = ENOMEM;
	return NULL;
fail:
	errno = ENOMEM;
fail_errno : {
	int e = errno;

	gale_rpc_client_free(cl);
	errno = e;
}
	return NULL;
}

static void
gale__cl_unlink(struct gale__cl_call *k)
{
	struct gale__cl_conn *cc = k->cc;
	struct gale__cl_call **pp, *prev = NULL;

	if (cc == NULL)
		return;
	for (pp = &cc->head; *pp != NULL; prev = *pp, pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			if (cc->tail == k)
				cc->tail = prev;
			break;
		}
	k->next = NULL;
	k->cc = NULL;
	cc->npending--;
}

/* Finish a call: off every list, timer off, middleware after, done, slot back. */
static void
gale__cl_complete(struct gale__cl_call *k, int status)
{
	struct gale_rpc_client *cl = k->cl;
	gale_tc_done_cb_t done = k->done;
	void *arg = k->arg;
	unsigned int n = k->mw_done;

	gale__cl_unlink(k);
	gale_timer_cancel(cl->wheel, &k->timer);
	while (n-- > 0)
		if (cl->conf.middleware[n].after != NULL)
			cl->conf.middleware[n].after(cl->conf.middleware[n].arg, &k->req, status);
	if (status == 0)
		GALE__CCNT(cl, completed);
	else
		GALE__CCNT(cl, failed);
	k->busy = false;
	k->next = cl->free_calls;
	cl->free_calls = k;
	cl->pending--;
	if (done != NULL)
		done(arg, status);
}

/* Defer a completion to the next poll (done never runs inside the call that started it). */
static void
gale__cl_defer(struct gale__cl_call *k, int status)
{
	struct gale_rpc_client *cl = k->cl;

	gale__cl_unlink(k);
	gale_timer_cancel(cl->wheel, &k->timer);
	k->status = status;
	k->next = NULL;
	if (cl->done_tail != NULL)
		cl->done_tail->next = k;
	else
		cl->done_head = k;
	cl->done_tail = k;
}

/* Fail every call on cc with its connection's error. */
static void
gale__cl_fail_conn(struct gale__cl_conn *cc, int err)
{
	while (cc->head != NULL) {
		GALE__CCNT(cc->cl, conn_errors);
		gale__cl_complete(cc->head, err);
	}
}

void
gale_rpc_client_free(struct gale_rpc_client *cl)
{
	unsigned int i, k;

	if (cl == NULL)
		return;
	gale__telemetry_rpc_client(cl, false);
	if (cl->calls != NULL)
		for (i = 0; i < cl->conf.max_pending; i++)
			if (cl->calls[i].busy)
				gale__cl_complete(&cl->calls[i], -ECANCELED);
	cl->done_head = cl->done_tail = NULL;
	gale_conn_backend_free(cl->be); /* closed callbacks run: nothing is pending any more */
	for (i = 0; cl->eps != NULL && i < cl->conf.nb_endpoints; i++) {
		for (k = 0; cl->eps[i].conns != NULL && k < cl->conf.conns_per_endpoint; k++)
			gale_timer_cancel(cl->wheel, &cl->eps[i].conns[k].ctimer);
		free(cl->eps[i].conns);
	}
	if (cl->own_wheel)
		gale_timer_wheel_free(cl->wheel);
	free(cl->eps);
	free(cl->calls);
	free(cl->arena_mem);
	free(cl->rbuf);
	free(cl);
}

/* Write call k on its (open) connection. 0 or a negative errno. */
static int
gale__cl_send(struct gale__cl_call *k)
{
	struct gale_rpc_client *cl = k->cl;
	const struct gale_proto_ops *ops = gale_proto_ops(cl->conf.proto);
	struct gale_conn_tx tx;
	struct gale_frame f;
	int ret;

	ret = gale_conn_tx_begin(k->cc->c, &tx, 0);
	if (ret != 0)
		return ret;
	memset(&f, 0, sizeof(f));
	f.transport = cl->conf.transport;
	f.proto = cl->conf.proto;
	f.seqid = k->req.seqid;
	if (f.transport == GALE_TRANSPORT_THEADER || f.transport == GALE_TRANSPORT_TTHEADER) {
		f.strkv = cl->conf.headers;
		f.n_strkv = (uint16_t)cl->conf.nb_headers;
	}
	if (f.transport == GALE_TRANSPORT_TTHEADER) {
		f.intkv = &cl->tmo_kv;
		f.n_intkv = 1;
	}
	if (gale_frame_encode_begin(&tx.w, &f) != 0 ||
	    ops->write_message_begin(&tx.w, k->call.method, k->call.method_len,
	                             k->call.oneway ? GALE_MSG_ONEWAY : GALE_MSG_CALL,
	                             k->req.seqid) != 0 ||
	    k->call.write_args(cl->conf.proto, &tx.w, k->call.args) != 0 ||
	    gale_frame_encode_end(&tx.w, &f, &cl->conf.limits) != 0) {
		gale_conn_tx_abort(&tx);
		return -EMSGSIZE;
	}
	ret = gale_conn_tx_commit(&tx);
	if (ret != 0)
		return ret;
	k->sent = true;
	if (k->call.oneway)
		gale__cl_defer(k, 0);
	return 0;
}

static void
gale__cl_on_connected(struct gale_conn *c, void *arg)
{
	struct gale__cl_conn *cc = arg;
	struct gale__cl_call *k, *next;
	int ret;

	(void)c;
	cc->open = true;
	cc->was_open = true;
	cc->ep->fails = 0;
	cc->ep->down_until_us = 0;
	gale_timer_cancel(cc->cl->wheel, &cc->ctimer);
	GALE__CCNT(cc->cl, conns_opened);
	for (k = cc->head; k != NULL; k = next) {
		next = k->next;
		if (!k->sent && (ret = gale__cl_send(k)) != 0)
			gale__cl_defer(k, ret);
	}
}

/* Serve the replies buffered on cc. */
static void
gale__cl_on_readable(struct gale_conn *c, void *arg)
{
	struct gale__cl_conn *cc = arg;
	struct gale_rpc_client *cl = cc->cl;
	const struct gale_proto_ops *ops;
	struct gale_codec_seg segs[GALE__CL_SEGS];
	unsigned int nseg;
	size_t len;
	long n;

	while (cc->c == c) {
		struct gale_codec_reader r;
		struct gale_codec_seg one; /* the copied reply (blocking form): r may point here */
		struct gale_codec_bytes name;
		struct gale__cl_call *k;
		struct gale_frame f;
		int32_t seqid;
		uint8_t type;
		int status;

		nseg = gale_conn_recv_peek(c, segs, GALE__CL_SEGS, &len);
		if (len == 0)
			break;
		memset(&f, 0, sizeof(f));
		f.transport = cl->conf.transport;
		gale_arena_reset(&cl->arena);
		n = gale_frame_decode(segs, nseg, &cl->conf.limits, &cl->arena, &f);
		if (n == -2)
			break;
		/*
		 * A header transport names the reply's protocol, which need not be the request's:
		 * Apache's C++ TThreadedServer answers a compact THeader call in binary.
		 */
		ops = gale_proto_ops(f.transport == GALE_TRANSPORT_THEADER ||
		                                     f.transport == GALE_TRANSPORT_TTHEADER
		                             ? f.proto
		                             : cl->conf.proto);
		if (n <= 0 || ops == NULL ||
		    gale_frame_payload_reader(&f, segs, nseg, &cl->conf.limits, &cl->arena, &r) !=
		            0 ||
		    ops->read_message_begin(&r, &name, &type, &seqid) != 0) {
			GALE__CCNT(cl, bad_replies);
			cc->err = -EBADMSG;
			gale_conn_abort(c);
			return;
		}
		for (k = cc->head; k != NULL && k->req.seqid != seqid; k = k->next)
			;
		if (k == NULL || !k->sent || k->call.oneway) {
			GALE__CCNT(cl, late_replies);
			gale_conn_consume(c, (size_t)n);
			continue;
		}
		if (k->copy_reply && f.payload_len != 0) {
			/* The blocking form: results must outlive the receive buffer. */
			size_t off = gale_codec_reader_offset(&r);

			if (cl->rcap < f.frame_len) {
				uint8_t *nb = realloc(cl->rbuf, f.frame_len);

				if (nb == NULL) {
					gale_conn_consume(c, (size_t)n);
					gale__cl_complete(k, -ENOMEM);
					continue;
				}
				cl->rbuf = nb;
				cl->rcap = f.frame_len;
			}
			{
				struct gale_codec_reader tmp;

				gale_codec_reader_init(&tmp, segs, nseg, NULL, NULL);
				gale_codec_read_raw(&tmp, cl->rbuf, f.frame_len);
			}
			one.base = cl->rbuf;
			one.len = f.frame_len;
			gale_codec_reader_init(&r, &one, 1, &cl->conf.limits, &cl->arena);
			gale_codec_skip_raw(&r, off);
			gale_codec_reader_bound(&r, f.payload_off + f.payload_len - off);
		}
		if (type == GALE_MSG_EXCEPTION) {
			struct gale_appex ex;

			memset(&ex, 0, sizeof(ex));
			status = -EREMOTEIO;
			if (gale_appex_read(&r, ops, &ex) == 0) {
				size_t ml = ex.message.len < sizeof(cl->last_ex_msg) - 1
				                    ? ex.message.len
				                    : sizeof(cl->last_ex_msg) - 1;

				cl->last_ex_type = ex.type;
				if (ml != 0)
					memcpy(cl->last_ex_msg, ex.message.ptr, ml);
				cl->last_ex_msg[ml] = '\0';
			}
			GALE__CCNT(cl, app_ex);
		} else if (type == GALE_MSG_REPLY) {
			status = k->call.read_result(ops->id, &r, k->call.result);
			if (status > 0)
				status = -EBADMSG;
		} else {
			status = -EBADMSG;
		}
		gale__cl_complete(k, status);
		/* The done callback may have closed c; the loop condition sees that. */
		if (cc->c == c)
			gale_conn_consume(c, (size_t)n);
	}
	/*
	 * The server closed its side (it stopped, or was killed after reading our calls): no reply
	 * will come, so the calls still on this connection fail now, not at their timeout, and the
	 * next call opens a fresh connection. A partial reply left behind is dropped.
	 */
	if (cc->c == c && gale_conn_eof(c)) {
		cc->err = -ECONNRESET;
		gale_conn_abort(c);
	}
}

static void
gale__cl_on_error(struct gale_conn *c, void *arg, int err)
{
	struct gale__cl_conn *cc = arg;

	(void)c;
	if (cc->err == 0)
		cc->err = err;
}

static struct gale__cl_conn *gale__cl_route(struct gale_rpc_client *cl, int *err);
static void gale__cl_link(struct gale__cl_conn *cc, struct gale__cl_call *k);

/* ep failed to give a connection (err): down for ep_retry_ms << (fails - 1), at most 8x. */
static void
gale__cl_ep_down(struct gale_rpc_client *cl, struct gale__cl_ep *ep, int err)
{
	unsigned int shift = ep->fails < 3 ? ep->fails : 3;

	ep->fails++;
	ep->err = err;
	ep->down_until_us = gale__cl_now(cl) + ((uint64_t)cl->conf.ep_retry_ms * 1000 << shift);
	GALE__CCNT(cl, ep_down);
}

/*
 * cc closed before it ever opened: its calls were never sent, so they may go to another endpoint
 * that is up (each at most nb_endpoints - 1 times); the rest fail with err.
 */
static void
gale__cl_failover(struct gale__cl_conn *cc, int err)
{
	struct gale_rpc_client *cl = cc->cl;

	while (cc->head != NULL) {
		struct gale__cl_call *k = cc->head;
		struct gale__cl_conn *to = NULL;
		int ret, rerr = err;

		gale__cl_unlink(k);
		if (!k->sent && k->moves + 1 < cl->conf.nb_endpoints)
			to = gale__cl_route(cl, &rerr);
		if (to == NULL) {
			k->cc = NULL;
			GALE__CCNT(cl, conn_errors);
			gale__cl_complete(k, err);
			continue;
		}
		k->moves++;
		GALE__CCNT(cl, failovers);
		gale__cl_link(to, k);
		if (to->open && (ret = gale__cl_send(k)) != 0)
			gale__cl_defer(k, ret);
	}
}

static void
gale__cl_on_closed(struct gale_conn *c, void *arg)
{
	struct gale__cl_conn *cc = arg;
	struct gale_rpc_client *cl = cc->cl;
	int err = cc->err != 0 ? cc->err : -ECONNRESET;
	bool was_open = cc->was_open;

	(void)c;
	gale_timer_cancel(cl->wheel, &cc->ctimer);
	if (was_open)
		GALE__CCNT(cl, conns_closed);
	cc->c = NULL;
	cc->open = false;
	cc->was_open = false;
	cc->err = 0;
	if (cc->head != NULL)
		GALE__CCNT(cl, conns_failed);
	if (!was_open) {
		gale__cl_ep_down(cl, cc->ep, err);
		if (cc->head != NULL && cl->conf.nb_endpoints > 1)
			gale__cl_failover(cc, err);
	}
	gale__cl_fail_conn(cc, err);
}

static const struct gale_conn_callbacks gale__cl_cbs = {
	.connected = gale__cl_on_connected,
	.readable = gale__cl_on_readable,
	.error = gale__cl_on_error,
	.closed = gale__cl_on_closed,
};

static void
gale__cl_connect_timeout(struct gale_timer *t, void *arg)
{
	struct gale__cl_conn *cc = arg;

	(void)t;
	if (cc->c != NULL && !cc->open) {
		GALE__CCNT(cc->cl, timeouts);
		cc->err = -ETIMEDOUT;
		gale_conn_abort(cc->c);
	}
}

static void
gale__cl_rpc_timeout(struct gale_timer *t, void *arg)
{
	struct gale__cl_call *k = arg;

	(void)t;
	GALE__CCNT(k->cl, timeouts);
	gale__cl_complete(k, -ETIMEDOUT);
}

/*
 * The connection of endpoint ep for a new call: the least loaded of the GALE__CL_PICK_SCAN after
 * the last pick (or a new one), an open idle one at once. Scanning every connection per call
 * was 550 of gale-bench's 7,600 instructions per call at 64 connections x depth 1 and 1,330 at
 * depth 16, where none is ever idle (callgrind); starting after the last pick, the window still
 * visits every connection in turn, so loads stay even and unopened ones get opened.
 */
#define GALE__CL_PICK_SCAN 8u

static struct gale__cl_conn *
gale__cl_pick(struct gale_rpc_client *cl, struct gale__cl_ep *ep)
{
	unsigned int n = cl->conf.conns_per_endpoint, at = ep->next_pick < n ? ep->next_pick : 0, k;
	unsigned int scan = n < GALE__CL_PICK_SCAN ? n : GALE__CL_PICK_SCAN;
	struct gale__cl_conn *best = &ep->conns[at];

	for (k = 1; k < scan && !(best->c != NULL && best->npending == 0); k++) {
		struct gale__cl_conn *cc = &ep->conns[at + k < n ? at + k : at + k - n];

		if (cc->c == NULL && best->c != NULL && best->npending != 0)
			best = cc; /* open another connection rather than queue behind a busy one */
		else if (cc->c != NULL && cc->npending < best->npending)
			best = cc;
	}
	ep->next_pick = (unsigned int)(best - ep->conns) + 1;
	return best;
}

/*
 * A connection for a new call: round-robin over the endpoints that are up, opening one when needed
 * (with its connect timer). NULL when no endpoint can take it, *err then being the last endpoint
 * error.
 */
static struct gale__cl_conn *
gale__cl_route(struct gale_rpc_client *cl, int *err)
{
	uint64_t now = gale__cl_now(cl);
	unsigned int i;
	int ret;

	for (i = 0; i < cl->conf.nb_endpoints; i++) {
		struct gale__cl_ep *ep = &cl->eps[cl->rr++ % cl->conf.nb_endpoints];
		struct gale__cl_conn *cc;

		if (ep->down_until_us > now) {
			*err = ep->err;
			continue;
		}
		cc = gale__cl_pick(cl, ep);
		if (cc->c != NULL)
			return cc;
		ret = gale_conn_connect(cl->be, ep->host, ep->port, &gale__cl_cbs, cc, &cc->c);
		if (ret != 0) {
			cc->c = NULL;
			gale__cl_ep_down(cl, ep, ret);
			*err = ret;
			continue;
		}
		cc->open = false;
		cc->was_open = false;
		gale_timer_arm(cl->wheel, &cc->ctimer,
		               now + (uint64_t)cl->conf.connect_timeout_ms * 1000);
		return cc;
	}
	return NULL;
}

/* Put call k at the tail of cc's list. */
static void
gale__cl_link(struct gale__cl_conn *cc, struct gale__cl_call *k)
{
	k->cc = cc;
	k->next = NULL;
	k->req.conn = cc->c;
	if (cc->tail != NULL)
		cc->tail->next = k;
	else
		cc->head = k;
	cc->tail = k;
	cc->npending++;
}

static int
gale__cl_call_async(void *chan, const struct gale_tc_call *call, gale_tc_done_cb_t done, void *arg,
                    bool copy_reply)
{
	struct gale_rpc_client *cl = chan;
	struct gale__cl_conn *cc;
	struct gale__cl_call *k;
	int ret = 0;

	k = cl->free_calls;
	if (k == NULL)
		return -EBUSY;
	cc = gale__cl_route(cl, &ret);
	if (cc == NULL) {
		GALE__CCNT(cl, no_endpoint);
		return ret != 0 ? ret : -ENOTCONN;
	}
	cl->free_calls = k->next;
	cl->pending++;
	GALE__CCNT(cl, calls);
	k->busy = true;
	k->call = *call;
	k->done = done;
	k->arg = arg;
	k->sent = false;
	k->copy_reply = copy_reply;
	k->moves = 0;
	k->mw_done = 0;
	k->next = NULL;
	cl->seq = (cl->seq + 1) & 0x7fffffff;
	memset(&k->req, 0, sizeof(k->req));
	k->req.method = call->method;
	k->req.method_len = call->method_len;
	k->req.transport = cl->conf.transport;
	k->req.proto = cl->conf.proto;
	k->req.msg_type = call->oneway ? GALE_MSG_ONEWAY : GALE_MSG_CALL;
	k->req.seqid = cl->seq;
	k->req.start_us = gale__cl_now(cl);
	k->req.deadline_us = k->req.start_us + (uint64_t)cl->conf.rpc_timeout_ms * 1000;
	k->req.worker = cl->w != NULL ? gale_worker_id(cl->w) : 0;
	k->req.arena = &cl->arena;
	/* On the connection's list, in order. */
	gale__cl_link(cc, k);
	for (; k->mw_done < cl->conf.nb_middleware; k->mw_done++) {
		const struct gale_rpc_middleware *m = &cl->conf.middleware[k->mw_done];

		if (m->before != NULL && (ret = m->before(m->arg, &k->req)) != 0) {
			k->mw_done++;
			gale__cl_defer(k, ret);
			return 0;
		}
	}
	gale_timer_arm(cl->wheel, &k->timer, k->req.deadline_us);
	if (cc->open && (ret = gale__cl_send(k)) != 0)
		gale__cl_defer(k, ret);
	return 0;
}

static int
gale__cl_chan_async(void *chan, const struct gale_tc_call *call, gale_tc_done_cb_t done, void *arg)
{
	return gale__cl_call_async(chan, call, done, arg, false);
}

struct gale__cl_sync {
	bool done;
	int status;
};

static void
gale__cl_sync_done(void *arg, int status)
{
	struct gale__cl_sync *s = arg;

	s->done = true;
	s->status = status;
}

static unsigned int gale__cl_poll(struct gale_rpc_client *cl, int wait_ms);

static int
gale__cl_chan_call(void *chan, const struct gale_tc_call *call)
{
	struct gale_rpc_client *cl = chan;
	struct gale__cl_sync s = { false, 0 };
	int ret;

	if (cl->w != NULL)
		return -EDEADLK; /* a worker never blocks: use the _async stubs */
	/*
	 * Nothing polls a blocking client between its calls: take in what happened meanwhile (a
	 * server that closed an idle connection) so that this call goes out on a live connection
	 * instead of failing on the dead one.
	 */
	gale__cl_poll(cl, 0);
	ret = gale__cl_call_async(chan, call, gale__cl_sync_done, &s, true);
	if (ret != 0)
		return ret;
	/* Bounded: the call's own timer (or its connection's) completes it. */
	while (!s.done)
		gale__cl_poll(cl, 5);
	return s.status;
}

static unsigned int
gale__cl_poll(struct gale_rpc_client *cl, int wait_ms)
{
	unsigned int work;

	work = wait_ms > 0 && cl->done_head == NULL ? gale_conn_poll_wait(cl->be, wait_ms)
	                                            : gale_conn_poll(cl->be);
	if (cl->own_wheel)
		work += gale_timer_wheel_advance(cl->wheel, gale_timer_now_us());
	while (cl->done_head != NULL) {
		struct gale__cl_call *k = cl->done_head;

		cl->done_head = k->next;
		if (cl->done_head == NULL)
			cl->done_tail = NULL;
		k->next = NULL;
		gale__cl_complete(k, k->status);
		work++;
	}
	return work;
}

unsigned int
gale_rpc_client_poll(struct gale_rpc_client *cl)
{
	return gale__cl_poll(cl, 0);
}

void
gale_rpc_client_channel(struct gale_rpc_client *cl, struct gale_tc_channel *ch)
{
	static const struct gale_tc_channel_ops ops = { gale__cl_chan_call, gale__cl_chan_async };

	ch->ops = &ops;
	ch->chan = cl;
}

unsigned int
gale_rpc_client_pending(const struct gale_rpc_client *cl)
{
	return cl->pending;
}

int
gale_rpc_client_last_appex(const struct gale_rpc_client *cl, char *msg, size_t len)
{
	if (msg != NULL && len != 0)
		snprintf(msg, len, "%s", cl->last_ex_msg);
	return cl->last_ex_type;
}

void
gale_rpc_client_stats_get(const struct gale_rpc_client *cl, struct gale_rpc_client_stats *st)
{
	const uint64_t *src = (const uint64_t *)&cl->st;
	uint64_t *dst = (uint64_t *)st;
	size_t i;

	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	/* The gauges, from the owner's words (relaxed: a near-instant view from another thread). */
	st->in_flight = __atomic_load_n(&cl->pending, __ATOMIC_RELAXED);
	st->conns_open = st->conns_opened - st->conns_closed;
}
