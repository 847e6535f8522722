/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Thrift RPC server (gale/rpc.h) over the connection interface (gale/conn.h).
 *
 * Per worker: a backend instance with its listener, a per-request arena, counters, and the list of
 * its connections. A readable event runs the connection's parser: detect the transport and
 * protocol once (first bytes), then frame by frame decode the transport header, read the envelope,
 * route to a service, run the middleware and the generated dispatch (which decodes the arguments,
 * runs the handler and encodes the reply straight into the connection's send buffer), and consume
 * the frame. Requests are run to completion one after the other, so pipelined replies leave in
 * request order without any reordering state. A connection that still holds whole frames after
 * max_batch requests goes on the worker's "again" list, which the work callback serves next
 * iteration, so one busy connection cannot starve the others (level-triggered readiness would not
 * report bytes that are already buffered).
 *
 * Deferred replies: a handler that calls gale_rpc_defer() gets a handle from the worker's fixed
 * pool (no allocation) holding what the reply frame needs (transport, protocol, seqids, method
 * name copied); the connection then reads no further request until gale_rpc_reply() answers, which
 * keeps replies in request order without buffering later ones. A connection that closes first
 * detaches the handle, and the reply is dropped and counted.
 *
 * Errors never leave a half-written reply: the reply is encoded between gale_conn_tx_begin and
 * gale_conn_tx_commit, and any failure aborts it before an exception is encoded in its place.
 *
 * Invariants: nothing here allocates per request (the arena is reset per frame; connection state
 * is allocated at accept); every counter is written only by its worker (relaxed stores, read by
 * gale_rpc_server_stats with relaxed loads).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gale/appex.h>
#include <gale/proto.h>
#include <gale/rpc.h>
#include <gale/runtime.h>
#include <gale/timer.h>
#include <gale/worker.h>

#include "runtime_private.h"

#define GALE__RPC_SEGS 8
/* Replies queued on a connection beyond which its requests wait (the peer is not reading). */
#define GALE__RPC_TX_HIGH (4u << 20)

struct gale__rpc_worker;

struct gale__rpc_conn {
	struct gale__rpc_worker *wk;
	struct gale_conn *c;
	uint8_t transport; /**< enum gale_transport, once detected */
	uint8_t proto;
	uint8_t nonstrict;
	bool on_again;
	bool closing;
	bool tx_wait;                      /**< paused on unsent replies; writable resumes */
	struct gale_rpc_deferred *waiting; /**< a deferred reply holds the connection's order */
	uint64_t last_us;                  /**< last activity, for the idle timeout */
	struct gale__rpc_conn *prev, *next;
	struct gale__rpc_conn *next_again;
};

/* A deferred request: what its reply needs once the handler answers. */
struct gale_rpc_deferred {
	struct gale__rpc_worker *wk;
	struct gale__rpc_conn *rc; /**< NULL once the connection is gone */
	struct gale_rpc_req req;   /**< copied; method points at name, frame at frame */
	struct gale_frame frame;   /**< transport, proto, seqid, flags (no headers kept) */
	char name[128];
	struct gale_timer deadline;     /**< the caller's deadline, when it sent one */
	bool expired;                   /**< the deadline passed: answered with an exception */
	unsigned int mw_done;           /**< middleware whose after hook is still owed */
	struct gale_rpc_deferred *next; /**< free list */
};

struct gale__rpc_worker {
	alignas(64) struct gale_rpc_server *srv;
	struct gale_rpc_deferred *defs; /**< max_deferred entries */
	struct gale_rpc_deferred *free_defs;
	unsigned int ndeferred;          /**< in use */
	struct gale_rpc_deferred *taken; /**< set by gale_rpc_defer during a dispatch */
	struct gale_worker *w;
	struct gale_conn_backend *be;
	unsigned int id;
	bool drain_seen;
	uint64_t next_scan_us;
	struct gale_arena arena;
	uint8_t *arena_mem;
	struct gale__rpc_conn *conns;
	struct gale__rpc_conn *again;
	struct gale_rpc_stats st;
};

struct gale_rpc_server {
	struct gale_rpc_server_conf conf;
	char host[64];
	uint16_t port;
	unsigned int nb_workers;
	unsigned int listening; /**< workers listening (atomic: workers write, anyone reads) */
	struct gale__rpc_worker *wk;
};

#define GALE__RCNT(wk, f) __atomic_store_n(&(wk)->st.f, (wk)->st.f + 1, __ATOMIC_RELAXED)

static __thread const struct gale_rpc_req *gale__cur_req;
static __thread struct gale__rpc_conn *gale__cur_rc; /* the connection of gale__cur_req */

/* Pick a free port for every worker to share: bind port 0 once, read it, let it go. */
static int
gale__pick_port(const char *host, uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	int fd, one = 1, ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (host[0] != '\0' && strcmp(host, "*") != 0 &&
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) != 0)
		ret = -errno;
	else
		*port = ntohs(sa.sin_port);
	close(fd);
	return ret;
}

struct gale_rpc_server *
gale_rpc_server_create(const struct gale_rpc_server_conf *conf, unsigned int nb_workers)
{
	struct gale_rpc_server *srv;
	unsigned int k;
	int ret;

	if (conf == NULL || conf->services == NULL || conf->nb_services == 0 || nb_workers == 0 ||
	    (conf->nb_middleware != 0 && conf->middleware == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	for (k = 0; k < conf->nb_services; k++)
		if (conf->services[k].dispatch == NULL) {
			errno = EINVAL;
			return NULL;
		}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	srv->wk = aligned_alloc(64, sizeof(*srv->wk) * nb_workers);
	if (srv->wk == NULL) {
		free(srv);
		errno = ENOMEM;
		return NULL;
	}
	memset(srv->wk, 0, sizeof(*srv->wk) * nb_workers);
	srv->conf = *conf;
	if (srv->conf.backend == 0)
		srv->conf.backend = GALE_CONN_KERNEL;
	if (srv->conf.max_conns == 0)
		srv->conf.max_conns = 1024;
	if (srv->conf.max_batch == 0)
		srv->conf.max_batch = 64;
	if (srv->conf.arena_size == 0)
		srv->conf.arena_size = 1u << 20;
	if (srv->conf.max_deferred == 0)
		srv->conf.max_deferred = 256;
	if (srv->conf.limits.max_frame == 0)
		srv->conf.limits.max_frame = GALE_CODEC_DEFAULT_MAX_FRAME;
	snprintf(srv->host, sizeof(srv->host), "%s", conf->host != NULL ? conf->host : "");
	srv->conf.host = srv->host;
	srv->nb_workers = nb_workers;
	for (k = 0; k < nb_workers; k++) {
		srv->wk[k].srv = srv;
		srv->wk[k].id = k;
	}
	srv->port = conf->port;
	if (srv->port == 0 && (ret = gale__pick_port(srv->host, &srv->port)) != 0) {
		free(srv->wk);
		free(srv);
		errno = -ret;
		return NULL;
	}
	gale__telemetry_rpc_server(srv, true);
	return srv;
}

void
gale_rpc_server_free(struct gale_rpc_server *srv)
{
	if (srv == NULL)
		return;
	gale__telemetry_rpc_server(srv, false);
	free(srv->wk);
	free(srv);
}

uint16_t
gale_rpc_server_port(const struct gale_rpc_server *srv)
{
	return srv->port;
}

unsigned int
gale_rpc_server_listening(const struct gale_rpc_server *srv)
{
	/* Acquire: pairs with the release add after a worker's listen succeeded. */
	return __atomic_load_n(&srv->listening, __ATOMIC_ACQUIRE);
}

void
gale_rpc_server_stats(const struct gale_rpc_server *srv, struct gale_rpc_stats *st)
{
	unsigned int k;
	size_t i, n = sizeof(*st) / sizeof(uint64_t);

	memset(st, 0, sizeof(*st));
	for (k = 0; k < srv->nb_workers; k++) {
		const uint64_t *src = (const uint64_t *)&srv->wk[k].st;
		uint64_t *dst = (uint64_t *)st;

		for (i = 0; i < n; i++) {
			uint64_t v = __atomic_load_n(&src[i], __ATOMIC_RELAXED);

			if (&dst[i] == &st->arena_high)
				dst[i] = v > dst[i] ? v : dst[i];
			else
				dst[i] += v;
		}
		st->in_flight += __atomic_load_n(&srv->wk[k].ndeferred, __ATOMIC_RELAXED);
	}
	st->conns_open = st->conns_accepted - st->conns_closed;
}

/* ---- requests ---- */

const struct gale_rpc_req *
gale_rpc_req_current(void)
{
	return gale__cur_req;
}

struct gale_arena *
gale_rpc_req_arena(void)
{
	return gale__cur_req != NULL ? gale__cur_req->arena : NULL;
}

int
gale_rpc_req_header(const struct gale_rpc_req *req, const char *key, struct gale_codec_bytes *val)
{
	size_t kl = strlen(key);
	unsigned int i;

	if (req == NULL || req->frame == NULL)
		return -ENOENT;
	for (i = 0; i < req->frame->n_strkv; i++) {
		const struct gale_frame_kv *kv = &req->frame->strkv[i];

		if (kv->key.len == kl && (kl == 0 || memcmp(kv->key.ptr, key, kl) == 0)) {
			*val = kv->val;
			return 0;
		}
	}
	return -ENOENT;
}

int
gale_rpc_req_int_header(const struct gale_rpc_req *req, uint16_t key, struct gale_codec_bytes *val)
{
	unsigned int i;

	if (req == NULL || req->frame == NULL)
		return -ENOENT;
	for (i = 0; i < req->frame->n_intkv; i++)
		if (req->frame->intkv[i].key == key) {
			*val = req->frame->intkv[i].val;
			return 0;
		}
	return -ENOENT;
}

/* Begin the reply frame of req into tx (header, and the inner length word of TTHeaderFramed). */
static int
gale__reply_begin(const struct gale_rpc_req *req, struct gale_conn_tx *tx, struct gale_frame *rf,
                  struct gale_codec_mark *inner)
{
	memset(rf, 0, sizeof(*rf));
	rf->transport = req->transport;
	rf->proto = req->proto;
	rf->nonstrict = req->frame != NULL ? req->frame->nonstrict : 0;
	rf->seqid = req->frame != NULL ? req->frame->seqid : 0;
	rf->flags = req->frame != NULL ? req->frame->flags : 0;
	if (gale_frame_encode_begin(&tx->w, rf) != 0)
		return -1;
	if (req->inner_framed && gale_codec_writer_reserve(&tx->w, 4, inner) != 0)
		return -1;
	return 0;
}

static int
gale__reply_end(struct gale__rpc_worker *wk, const struct gale_rpc_req *req,
                struct gale_conn_tx *tx, struct gale_frame *rf, const struct gale_codec_mark *inner,
                size_t inner_start)
{
	if (req->inner_framed) {
		uint32_t len =
		        gale_codec_be32((uint32_t)(gale_codec_writer_offset(&tx->w) - inner_start));

		gale_codec_writer_patch(&tx->w, inner, &len, 4);
	}
	return gale_frame_encode_end(&tx->w, rf, &wk->srv->conf.limits);
}

/* Send a TApplicationException for req (whose envelope may be unknown: name "", seqid 0). */
static void
gale__send_appex(struct gale__rpc_worker *wk, const struct gale_rpc_req *req, int type,
                 const char *msg)
{
	const struct gale_proto_ops *ops = gale_proto_ops(req->proto);
	struct gale_appex ex = { { (const uint8_t *)msg, (uint32_t)strlen(msg) }, type };
	struct gale_codec_mark inner;
	struct gale_conn_tx tx;
	struct gale_frame rf;
	size_t start;

	if (ops == NULL || gale_conn_tx_begin(req->conn, &tx, 256) != 0) {
		GALE__RCNT(wk, send_failed);
		return;
	}
	if (gale__reply_begin(req, &tx, &rf, &inner) != 0)
		goto fail;
	start = gale_codec_writer_offset(&tx.w);
	if (gale_appex_write_message(&tx.w, ops, req->method, req->method_len, req->seqid, &ex) !=
	            0 ||
	    gale__reply_end(wk, req, &tx, &rf, &inner, start) != 0)
		goto fail;
	if (gale_conn_tx_commit(&tx) != 0) {
		GALE__RCNT(wk, send_failed);
		return;
	}
	GALE__RCNT(wk, replies);
	return;
fail:
	gale_conn_tx_abort(&tx);
	GALE__RCNT(wk, send_failed);
}

static const struct gale_rpc_service *
gale__find_service(const struct gale_rpc_server *srv, const char *name, size_t len)
{
	unsigned int k;

	for (k = 0; k < srv->conf.nb_services; k++) {
		const char *sn = srv->conf.services[k].name;

		if (sn != NULL && strlen(sn) == len && memcmp(sn, name, len) == 0)
			return &srv->conf.services[k];
	}
	return NULL;
}

static uint64_t
gale__parse_ms(struct gale_codec_bytes v)
{
	uint64_t ms = 0;
	uint32_t i;

	for (i = 0; i < v.len && i < 19; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			return 0;
		ms = ms * 10 + (uint64_t)(v.ptr[i] - '0');
	}
	return ms;
}

/* Run the middleware's after hooks from index n-1 down to 0. */
static void
gale__mw_after(const struct gale_rpc_server *srv, unsigned int n, const struct gale_rpc_req *req,
               int status)
{
	while (n-- > 0)
		if (srv->conf.middleware[n].after != NULL)
			srv->conf.middleware[n].after(srv->conf.middleware[n].arg, req, status);
}

/* Dispatch one call through the services; returns the dispatch status. */
static int
gale__dispatch(struct gale__rpc_worker *wk, struct gale_rpc_req *req, const char *sname,
               size_t sname_len, struct gale_codec_reader *r, struct gale_codec_writer *w)
{
	const struct gale_rpc_server *srv = wk->srv;
	unsigned int k;
	int rc;

	if (sname != NULL) {
		const struct gale_rpc_service *s = gale__find_service(srv, sname, sname_len);

		if (s == NULL)
			return -ENOENT;
		req->service = s;
		return s->dispatch(s->handlers, s->user, req->proto, req->method, req->method_len,
		                   req->seqid, r, w);
	}
	for (k = 0; k < srv->conf.nb_services; k++) {
		const struct gale_rpc_service *s = &srv->conf.services[k];

		req->service = s;
		rc = s->dispatch(s->handlers, s->user, req->proto, req->method, req->method_len,
		                 req->seqid, r, w);
		if (rc != -ENOENT)
			return rc;
	}
	req->service = NULL;
	return -ENOENT;
}

/* One whole frame (decoded header f over segs, borrowed): run it. Never fails the connection. */
static void
gale__serve_frame(struct gale__rpc_conn *rc, const struct gale_codec_seg *segs, unsigned int nseg,
                  const struct gale_frame *f)
{
	struct gale__rpc_worker *wk = rc->wk;
	const struct gale_rpc_server *srv = wk->srv;
	const struct gale_proto_ops *ops;
	struct gale_codec_reader r;
	struct gale_codec_bytes name, tmo;
	struct gale_rpc_req req;
	struct gale_codec_mark inner;
	struct gale_conn_tx tx;
	struct gale_frame rf;
	const char *sname = NULL, *colon;
	size_t sname_len = 0, start;
	unsigned int mw_done = 0;
	uint8_t type, hdr[5];
	int ret;

	memset(&req, 0, sizeof(req));
	req.transport = f->transport;
	req.proto = f->proto;
	req.frame = f;
	req.worker = wk->id;
	req.conn = rc->c;
	req.arena = &wk->arena;
	req.start_us = gale_worker_now_us(wk->w);
	req.w = wk->w;
	req.method = "";
	ops = gale_proto_ops(f->proto);
	if (ops == NULL) {
		req.proto = GALE_PROTO_BINARY;
		GALE__RCNT(wk, ex_protocol);
		gale__send_appex(wk, &req, GALE_APPEX_INVALID_PROTOCOL, "unsupported protocol");
		return;
	}
	if (gale_frame_payload_reader(f, segs, nseg, &srv->conf.limits, &wk->arena, &r) != 0) {
		GALE__RCNT(wk, ex_protocol);
		gale__send_appex(wk, &req, GALE_APPEX_PROTOCOL_ERROR, "bad payload");
		return;
	}
	/* Kitex's TTHeaderFramed: the payload is a Framed message with its own length word. */
	if (f->transport == GALE_TRANSPORT_TTHEADER && f->payload_len >= 9 &&
	    gale_codec_reader_peek(&r, hdr, 5) == 5) {
		uint32_t l;

		memcpy(&l, hdr, 4);
		if (gale_codec_be32(l) == f->payload_len - 4 &&
		    (hdr[4] == 0x80 || hdr[4] == 0x82) && gale_codec_skip_raw(&r, 4) == 0)
			req.inner_framed = 1;
	}
	if (ops->read_message_begin(&r, &name, &type, &req.seqid) != 0) {
		GALE__RCNT(wk, ex_protocol);
		gale__send_appex(wk, &req, GALE_APPEX_PROTOCOL_ERROR,
		                 "cannot read the message header");
		return;
	}
	req.method = name.len != 0 ? (const char *)name.ptr : "";
	req.method_len = name.len;
	req.msg_type = type;
	if (type != GALE_MSG_CALL && type != GALE_MSG_ONEWAY) {
		GALE__RCNT(wk, ex_bad_type);
		gale__send_appex(wk, &req, GALE_APPEX_INVALID_MESSAGE_TYPE, "not a call");
		return;
	}
	GALE__RCNT(wk, requests);
	if (type == GALE_MSG_ONEWAY)
		GALE__RCNT(wk, oneways);
	/* "Service:method" (TMultiplexedProtocol): route by name, reply with the bare method. */
	colon = req.method_len != 0 ? memchr(req.method, ':', req.method_len) : NULL;
	if (colon != NULL) {
		sname = req.method;
		sname_len = (size_t)(colon - req.method);
		req.method_len -= sname_len + 1;
		req.method = colon + 1;
	}
	/* Kitex names the callee service in TTHeader's TO_SERVICE: route by it when it is ours. */
	if (sname == NULL && gale_rpc_req_int_header(&req, GALE_TTHEADER_TO_SERVICE, &tmo) == 0 &&
	    tmo.len != 0 && gale__find_service(srv, (const char *)tmo.ptr, tmo.len) != NULL) {
		sname = (const char *)tmo.ptr;
		sname_len = tmo.len;
	}
	if (gale_rpc_req_int_header(&req, GALE_TTHEADER_RPC_TIMEOUT, &tmo) == 0) {
		uint64_t ms = gale__parse_ms(tmo);

		if (ms != 0)
			req.deadline_us = req.start_us + ms * 1000;
	}
	gale__cur_req = &req;
	gale__cur_rc = rc;
	ret = 0;
	for (mw_done = 0; mw_done < srv->conf.nb_middleware; mw_done++) {
		const struct gale_rpc_middleware *m = &srv->conf.middleware[mw_done];

		if (m->before != NULL && (ret = m->before(m->arg, &req)) != 0) {
			mw_done++;
			break;
		}
	}
	if (ret != 0) {
		gale__mw_after(srv, mw_done, &req, ret);
		gale__cur_req = NULL;
		GALE__RCNT(wk, ex_handler);
		if (type == GALE_MSG_CALL)
			gale__send_appex(wk, &req, GALE_APPEX_INTERNAL_ERROR,
			                 "refused by middleware");
		return;
	}
	if (gale_conn_tx_begin(rc->c, &tx, 0) != 0) {
		gale__mw_after(srv, mw_done, &req, -ENOBUFS);
		gale__cur_req = NULL;
		GALE__RCNT(wk, send_failed);
		return;
	}
	start = 0;
	if (type == GALE_MSG_CALL) {
		if (gale__reply_begin(&req, &tx, &rf, &inner) != 0) {
			ret = -1;
			goto failed;
		}
		start = gale_codec_writer_offset(&tx.w);
	}
	wk->taken = NULL;
	ret = gale__dispatch(wk, &req, sname, sname_len, &r, &tx.w);
	if (ret == GALE_RPC_DEFERRED && wk->taken != NULL && type == GALE_MSG_CALL) {
		/* The handler answers later: nothing goes out now, and the connection waits. */
		gale_conn_tx_abort(&tx);
		rc->waiting = wk->taken;
		wk->taken->mw_done = mw_done; /* their after hooks run with the outcome */
		wk->taken = NULL;
		GALE__RCNT(wk, deferred);
		gale__cur_req = NULL;
		return;
	}
	if (wk->taken != NULL) {
		/* Deferred, then failed (or a oneway): the handle goes back unused. */
		wk->taken->next = wk->free_defs;
		wk->free_defs = wk->taken;
		wk->ndeferred--;
		wk->taken = NULL;
		if (ret == GALE_RPC_DEFERRED)
			ret = -EINVAL;
	}
	if (ret == 0 && type == GALE_MSG_CALL)
		ret = gale__reply_end(wk, &req, &tx, &rf, &inner, start);
failed:
	gale__mw_after(srv, mw_done, &req, ret);
	gale__cur_req = NULL;
	if (wk->arena.high > wk->st.arena_high)
		__atomic_store_n(&wk->st.arena_high, wk->arena.high, __ATOMIC_RELAXED);
	if (ret == 0 && type == GALE_MSG_CALL) {
		if (gale_conn_tx_commit(&tx) != 0)
			GALE__RCNT(wk, send_failed);
		else
			GALE__RCNT(wk, replies);
		return;
	}
	gale_conn_tx_abort(&tx);
	if (ret == 0)
		return; /* oneway done */
	if (ret == -ENOENT) {
		GALE__RCNT(wk, ex_unknown_method);
		if (type == GALE_MSG_CALL)
			gale__send_appex(wk, &req, GALE_APPEX_UNKNOWN_METHOD, "unknown method");
	} else if (r.reason != GALE_CODEC_E_OK) {
		GALE__RCNT(wk, ex_protocol);
		if (type == GALE_MSG_CALL)
			gale__send_appex(wk, &req, gale_appex_type_from_reason(r.reason),
			                 gale_codec_strerror(r.reason));
	} else if (tx.w.reason != GALE_CODEC_E_OK) {
		GALE__RCNT(wk, ex_encode);
		if (type == GALE_MSG_CALL)
			gale__send_appex(wk, &req, GALE_APPEX_INTERNAL_ERROR,
			                 "cannot encode the reply");
	} else {
		GALE__RCNT(wk, ex_handler);
		if (type == GALE_MSG_CALL)
			gale__send_appex(wk, &req, GALE_APPEX_INTERNAL_ERROR, "handler failed");
	}
}

static void
gale__conn_bad(struct gale__rpc_conn *rc)
{
	GALE__RCNT(rc->wk, bad_frames);
	rc->closing = true;
	gale_conn_abort(rc->c);
}

/* Serve the whole frames buffered on rc (borrowed from its receive buffer, consumed as served),
 * at most max_batch of them. */
static void
gale__conn_process(struct gale__rpc_conn *rc)
{
	struct gale__rpc_worker *wk = rc->wk;
	const struct gale_rpc_server *srv = wk->srv;
	struct gale_codec_seg segs[GALE__RPC_SEGS];
	unsigned int budget = srv->conf.max_batch, nseg;
	size_t len;
	long n;

	while (!rc->closing && rc->waiting == NULL) {
		struct gale_frame f;

		nseg = gale_conn_recv_peek(rc->c, segs, GALE__RPC_SEGS, &len);
		if (len == 0)
			break;
		if (gale_conn_tx_pending(rc->c) >= GALE__RPC_TX_HIGH) {
			/*
			 * The peer is not reading its replies: stop decoding its requests. The
			 * first time, retry after this iteration's flush (the again list); if the
			 * replies are still queued then, the kernel refused them and the writable
			 * callback resumes us.
			 */
			GALE__RCNT(wk, tx_paused);
			if (!rc->tx_wait && !rc->on_again) {
				rc->tx_wait = true;
				rc->on_again = true;
				rc->next_again = wk->again;
				wk->again = rc;
			}
			return;
		}
		rc->tx_wait = false;
		if (rc->transport == GALE_TRANSPORT_NONE) {
			int d = gale_frame_detect(segs, nseg, &rc->transport, &rc->proto,
			                          &rc->nonstrict);

			if (d == -2) {
				rc->transport = GALE_TRANSPORT_NONE;
				break;
			}
			if (d != 0) {
				gale__conn_bad(rc);
				return;
			}
		}
		if (budget == 0) {
			if (!rc->on_again) {
				rc->on_again = true;
				rc->next_again = wk->again;
				wk->again = rc;
			}
			return;
		}
		memset(&f, 0, sizeof(f));
		f.transport = rc->transport;
		gale_arena_reset(&wk->arena);
		n = gale_frame_decode(segs, nseg, &srv->conf.limits, &wk->arena, &f);
		if (n == -2)
			break;
		if (n <= 0) {
			gale__conn_bad(rc);
			return;
		}
		gale__serve_frame(rc, segs, nseg, &f);
		gale_conn_consume(rc->c, (size_t)n);
		budget--;
	}
	if (!rc->closing && rc->waiting == NULL && (gale_conn_eof(rc->c) || wk->drain_seen)) {
		/* Peer done (a partial frame is dropped) or draining: flush and close. */
		rc->closing = true;
		gale_conn_close(rc->c);
	}
}

static void
gale__on_readable(struct gale_conn *c, void *arg)
{
	struct gale__rpc_conn *rc = arg;

	(void)c;
	rc->last_us = gale_worker_now_us(rc->wk->w);
	gale__conn_process(rc);
}

static void
gale__on_closed(struct gale_conn *c, void *arg)
{
	struct gale__rpc_conn *rc = arg;
	struct gale__rpc_worker *wk = rc->wk;

	(void)c;
	if (rc->prev != NULL)
		rc->prev->next = rc->next;
	else
		wk->conns = rc->next;
	if (rc->next != NULL)
		rc->next->prev = rc->prev;
	if (rc->on_again) {
		struct gale__rpc_conn **pp = &wk->again;

		while (*pp != NULL && *pp != rc)
			pp = &(*pp)->next_again;
		if (*pp == rc)
			*pp = rc->next_again;
	}
	if (rc->waiting != NULL)
		rc->waiting->rc = NULL; /* its reply will be dropped */
	GALE__RCNT(wk, conns_closed);
	free(rc);
}

static void
gale__on_writable(struct gale_conn *c, void *arg)
{
	struct gale__rpc_conn *rc = arg;

	(void)c;
	rc->tx_wait = false;
	gale__conn_process(rc);
}

static const struct gale_conn_callbacks gale__rpc_conn_cbs = {
	.readable = gale__on_readable,
	.writable = gale__on_writable,
	.closed = gale__on_closed,
};

static int
gale__on_accept(void *arg, struct gale_conn *c)
{
	struct gale__rpc_worker *wk = arg;
	struct gale__rpc_conn *rc;

	if (wk->drain_seen)
		return -ESHUTDOWN;
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		return -ENOMEM;
	rc->wk = wk;
	rc->c = c;
	rc->last_us = gale_worker_now_us(wk->w);
	rc->next = wk->conns;
	if (wk->conns != NULL)
		wk->conns->prev = rc;
	wk->conns = rc;
	gale_conn_set_callbacks(c, &gale__rpc_conn_cbs, rc);
	GALE__RCNT(wk, conns_accepted);
	return 0;
}

/* ---- deferred replies ---- */

static void gale__defer_resume(struct gale_rpc_deferred *d);
static void gale__defer_after(struct gale_rpc_deferred *d, int status);

/* The caller's deadline passed before the handler answered: answer for it, free the connection. */
static void
gale__defer_expire(struct gale_timer *t, void *arg)
{
	struct gale_rpc_deferred *d = arg;
	struct gale__rpc_worker *wk = d->wk;

	(void)t;
	GALE__RCNT(wk, deadline_exceeded);
	d->expired = true;
	gale__defer_after(d, -ETIMEDOUT);
	if (d->rc != NULL && !d->rc->closing) {
		d->req.conn = d->rc->c;
		gale__send_appex(wk, &d->req, GALE_APPEX_INTERNAL_ERROR, "deadline exceeded");
	}
	gale__defer_resume(d);
	d->rc = NULL;
}

struct gale_rpc_deferred *
gale_rpc_defer(void)
{
	const struct gale_rpc_req *req = gale__cur_req;
	struct gale_rpc_deferred *d;
	struct gale__rpc_worker *wk;
	struct gale__rpc_conn *rc;

	if (req == NULL || req->msg_type != GALE_MSG_CALL || req->method_len >= sizeof(d->name))
		return NULL;
	rc = gale__cur_rc;
	wk = rc->wk;
	if (wk->taken != NULL || (d = wk->free_defs) == NULL)
		return NULL;
	wk->free_defs = d->next;
	wk->ndeferred++;
	d->next = NULL;
	d->rc = rc;
	d->req = *req;
	memcpy(d->name, req->method, req->method_len);
	d->name[req->method_len] = '\0';
	d->req.method = d->name;
	memset(&d->frame, 0, sizeof(d->frame));
	d->frame.transport = req->frame->transport;
	d->frame.proto = req->frame->proto;
	d->frame.nonstrict = req->frame->nonstrict;
	d->frame.seqid = req->frame->seqid;
	d->frame.flags = req->frame->flags;
	d->req.frame = &d->frame;
	d->req.arena = NULL;
	d->expired = false;
	d->mw_done = 0;
	gale_timer_init(&d->deadline, gale__defer_expire, d);
	if (req->deadline_us != 0)
		gale_timer_arm(gale_worker_timers(wk->w), &d->deadline, req->deadline_us);
	wk->taken = d;
	return d;
}

/* Let d's connection read on. */
static void
gale__defer_resume(struct gale_rpc_deferred *d)
{
	struct gale__rpc_worker *wk = d->wk;
	struct gale__rpc_conn *rc = d->rc;

	if (rc != NULL && rc->waiting == d) {
		rc->waiting = NULL;
		if (!rc->closing && !rc->on_again) {
			rc->on_again = true;
			rc->next_again = wk->again;
			wk->again = rc;
		}
	}
}

/* The middleware's after hooks for d, once, with the outcome. */
static void
gale__defer_after(struct gale_rpc_deferred *d, int status)
{
	unsigned int n = d->mw_done;

	d->mw_done = 0;
	gale__mw_after(d->wk->srv, n, &d->req, status);
}

/* Release d (timer off) and let its connection read on. */
static void
gale__defer_release(struct gale_rpc_deferred *d)
{
	struct gale__rpc_worker *wk = d->wk;

	gale_timer_cancel(gale_worker_timers(wk->w), &d->deadline);
	gale__defer_resume(d);
	d->next = wk->free_defs;
	wk->free_defs = d;
	wk->ndeferred--;
}

int
gale_rpc_reply(struct gale_rpc_deferred *d, gale_rpc_result_write_cb_t write, const void *result)
{
	struct gale__rpc_worker *wk = d->wk;
	const struct gale_proto_ops *ops = gale_proto_ops(d->req.proto);
	struct gale_codec_mark inner;
	struct gale_conn_tx tx;
	struct gale_frame rf;
	size_t start;
	int ret = 0;

	if (d->expired) {
		gale__defer_release(d);
		return -ETIMEDOUT;
	}
	if (d->rc == NULL || d->rc->closing || ops == NULL) {
		GALE__RCNT(wk, deferred_dropped);
		gale__defer_after(d, -ENOTCONN);
		gale__defer_release(d);
		return -ENOTCONN;
	}
	d->req.conn = d->rc->c;
	if (gale_conn_tx_begin(d->rc->c, &tx, 0) != 0) {
		GALE__RCNT(wk, send_failed);
		gale__defer_after(d, -ENOTCONN);
		gale__defer_release(d);
		return -ENOTCONN;
	}
	if (gale__reply_begin(&d->req, &tx, &rf, &inner) != 0 ||
	    (start = gale_codec_writer_offset(&tx.w),
	     ops->write_message_begin(&tx.w, d->req.method, d->req.method_len, GALE_MSG_REPLY,
	                              d->req.seqid)) != 0 ||
	    write(d->req.proto, &tx.w, result) != 0 ||
	    gale__reply_end(wk, &d->req, &tx, &rf, &inner, start) != 0) {
		gale_conn_tx_abort(&tx);
		GALE__RCNT(wk, ex_encode);
		gale__send_appex(wk, &d->req, GALE_APPEX_INTERNAL_ERROR, "cannot encode the reply");
		ret = -EMSGSIZE;
	} else if (gale_conn_tx_commit(&tx) != 0) {
		GALE__RCNT(wk, send_failed);
		ret = -ENOTCONN;
	} else {
		GALE__RCNT(wk, replies);
	}
	gale__defer_after(d, ret);
	gale__defer_release(d);
	return ret;
}

int
gale_rpc_reply_error(struct gale_rpc_deferred *d, int type, const char *message)
{
	struct gale__rpc_worker *wk = d->wk;

	if (d->expired) {
		gale__defer_release(d);
		return -ETIMEDOUT;
	}
	if (d->rc == NULL || d->rc->closing) {
		GALE__RCNT(wk, deferred_dropped);
		gale__defer_after(d, -ENOTCONN);
		gale__defer_release(d);
		return -ENOTCONN;
	}
	d->req.conn = d->rc->c;
	gale__defer_after(d, -EIO);
	GALE__RCNT(wk, ex_handler);
	gale__send_appex(wk, &d->req, type, message != NULL ? message : "");
	gale__defer_release(d);
	return 0;
}

/* ---- worker callbacks ---- */

int
gale_rpc_server_worker_init(struct gale_worker *w, void *arg)
{
	struct gale_rpc_server *srv = arg;
	unsigned int id = gale_worker_id(w);
	struct gale__rpc_worker *wk;
	struct gale_conn_conf cc;
	unsigned int i;
	int ret;

	if (id >= srv->nb_workers)
		return -EINVAL;
	wk = &srv->wk[id];
	wk->w = w;
	memset(&cc, 0, sizeof(cc));
	cc.kind = srv->conf.backend;
	if (cc.kind == GALE_CONN_NATIVE) {
		int p = gale_worker_stack_port(w);

		if (p < 0)
			return -ENODEV; /* the runtime was given no stack template */
		cc.stack = gale_worker_stack(w, (uint16_t)p);
		cc.worker = w;
	}
	cc.max_conns = srv->conf.max_conns;
	cc.rx_max = (size_t)srv->conf.limits.max_frame + (64u << 10);
	wk->arena_mem = malloc(srv->conf.arena_size);
	wk->defs = calloc(srv->conf.max_deferred, sizeof(*wk->defs));
	if (wk->arena_mem == NULL || wk->defs == NULL) {
		free(wk->arena_mem);
		free(wk->defs);
		wk->arena_mem = NULL;
		wk->defs = NULL;
		return -ENOMEM;
	}
	wk->free_defs = NULL;
	for (i = 0; i < srv->conf.max_deferred; i++) {
		wk->defs[i].wk = wk;
		wk->defs[i].next = wk->free_defs;
		wk->free_defs = &wk->defs[i];
	}
	gale_arena_init(&wk->arena, wk->arena_mem, srv->conf.arena_size);
	wk->be = gale_conn_backend_create(&cc);
	if (wk->be == NULL) {
		ret = -errno;
		free(wk->arena_mem);
		wk->arena_mem = NULL;
		return ret;
	}
	ret = gale_conn_listen(wk->be, srv->host, srv->port, gale__on_accept, wk);
	if (ret != 0) {
		gale_conn_backend_free(wk->be);
		wk->be = NULL;
		free(wk->arena_mem);
		wk->arena_mem = NULL;
		return ret;
	}
	/* Release: the listener is open before anyone who reads the count connects. */
	__atomic_fetch_add(&srv->listening, 1, __ATOMIC_RELEASE);
	return 0;
}

unsigned int
gale_rpc_server_worker_work(struct gale_worker *w, void *arg)
{
	struct gale_rpc_server *srv = arg;
	struct gale__rpc_worker *wk = &srv->wk[gale_worker_id(w)];
	unsigned int work;

	if (!wk->drain_seen && gale_worker_draining(w)) {
		struct gale__rpc_conn *rc, *next;

		/* Stop accepting; answer what each connection already holds, then close it. */
		wk->drain_seen = true;
		if (gale_conn_unlisten(wk->be) == 0)
			__atomic_fetch_sub(&srv->listening, 1, __ATOMIC_RELAXED);
		for (rc = wk->conns; rc != NULL; rc = next) {
			next = rc->next;
			gale__conn_process(rc);
		}
	}
	work = gale_conn_poll(wk->be);
	if (wk->again != NULL) {
		struct gale__rpc_conn *list = wk->again;

		wk->again = NULL;
		while (list != NULL) {
			struct gale__rpc_conn *rc = list;

			list = rc->next_again;
			rc->on_again = false;
			gale__conn_process(rc);
			work++;
		}
	}
	if (srv->conf.idle_timeout_ms != 0) {
		uint64_t now = gale_worker_now_us(w),
		         idle = (uint64_t)srv->conf.idle_timeout_ms * 1000;

		if (now >= wk->next_scan_us) {
			struct gale__rpc_conn *rc;

			wk->next_scan_us = now + (idle / 4 > 1000 ? idle / 4 : 1000);
			for (rc = wk->conns; rc != NULL; rc = rc->next)
				if (!rc->closing && now - rc->last_us >= idle &&
				    gale_conn_tx_pending(rc->c) == 0) {
					GALE__RCNT(wk, idle_closed);
					rc->closing = true;
					gale_conn_close(rc->c);
				}
		}
	}
	return work;
}

uint64_t
gale_rpc_server_worker_inflight(struct gale_worker *w, void *arg)
{
	struct gale_rpc_server *srv = arg;
	struct gale__rpc_worker *wk = &srv->wk[gale_worker_id(w)];

	return (wk->be != NULL ? gale_conn_count(wk->be) : 0) + wk->ndeferred;
}

void
gale_rpc_server_worker_fini(struct gale_worker *w, void *arg)
{
	struct gale_rpc_server *srv = arg;
	struct gale__rpc_worker *wk = &srv->wk[gale_worker_id(w)];
	unsigned int i;

	gale_conn_backend_free(wk->be);
	wk->be = NULL;
	free(wk->arena_mem);
	wk->arena_mem = NULL;
	/* Deferred handles still out belong to handlers that never answered: forget them. */
	for (i = 0; wk->defs != NULL && i < srv->conf.max_deferred; i++)
		gale_timer_cancel(gale_worker_timers(w), &wk->defs[i].deadline);
	free(wk->defs);
	wk->defs = NULL;
	wk->free_defs = NULL;
}

void
gale_rpc_server_runtime_conf(struct gale_rpc_server *srv, struct gale_runtime_conf *rc)
{
	rc->init_cb = gale_rpc_server_worker_init;
	rc->work_cb = gale_rpc_server_worker_work;
	rc->fini_cb = gale_rpc_server_worker_fini;
	rc->inflight_cb = gale_rpc_server_worker_inflight;
	rc->worker_arg = srv;
	rc->nb_workers = srv->nb_workers;
}
