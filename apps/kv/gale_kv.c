/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-kv: an in-memory key-value store (apps/kv/kv.thrift) sharded by key over the workers.
 *
 *   gale-kv [EAL args --] [--backend kernel|native] [--listen HOST:PORT] [--workers N]
 *           [--port-file F] [--idle poll|sleep] [--max-keys N] [--max-key BYTES]
 *           [--max-value BYTES] [--shard-mem MIB] [--max-scan N] [--max-pending N]
 *           [--ring-size N] [--ip A.B.C.D/LEN] [--gateway A.B.C.D] [--steer auto|rss|sw] ...
 *
 *   e.g. gale-kv --vdev net_tap0,iface=t0 -l 0-2 -- --backend native --ip 198.18.0.2/24 --workers 2
 *
 * Backends and start-up as gale-echo's (gale/netopt.h): kernel (sockets + epoll, one
 * SO_REUSEPORT listener per worker) or native (the EAL's DPDK port, one queue pair and one gale
 * TCP stack per worker, software steering when the port has no usable RSS: a connection lives on
 * the worker its flow steers to, and that is the worker that sends its requests to the owners of
 * their keys). At exit on native: the connections the stacks still had and the port's pool.
 *
 * The pattern it shows is the one a service needs when its state cannot live per connection: each
 * key belongs to one shard (kv_owner of its hash) and each shard to one worker, which alone reads
 * and writes it. A request arrives on whichever worker owns its connection. If that worker owns
 * the key, it answers at once; otherwise it defers the RPC reply (gale_rpc_defer), copies the key
 * (and value) into a message slot of its own and posts the slot to the owner over the runtime's
 * worker-to-worker rings (gale/xworker.h); the owner runs the operation on its shard, writes the
 * answer into the same slot and the slot travels back; the connection's worker then encodes the
 * reply (gale_rpc_reply) and takes its slot back. scan and stats go to every shard (scatter) and
 * the answers are merged on the connection's worker (gather): scan by a k-way merge in key order.
 *
 * Buffers across the rings (see gale/xworker.h for the general rule):
 *   - a slot and its data buffer belong to the connection's worker (allocated at its start,
 *     freed after the runtime stopped); the owner borrows them only inside its serve callback;
 *   - put: the connection's worker copies key and value into the slot (the RPC arguments are views
 *     into the receive buffer and die when the handler returns); the owner copies them again into
 *     its shard's memory, which it alone allocates and frees;
 *   - get: the owner copies the value from its shard into the slot's buffer; the reply is encoded
 *     from there (a local get encodes straight from the shard: nothing can change it in between);
 *   - scan: each shard writes its page of records into its slot, at most the slot's size (so a
 *     page is bounded by bytes as well as by limit, and `more` says when keys were left out).
 * Back-pressure: no free slot -> the request fails with a TApplicationException at once (counted
 * as busy, or busy_fanout for scan/stats); a full ring -> the post waits on the sender's overflow
 * list and is retried (counted as ring_full); nothing is dropped.
 *
 * Counters (per worker, written by that worker): requests per method; get/put/delete split into
 * local (own shard), cross (sent to the owner), rejected (too large, refused before routing) and
 * busy, which add up to the three methods' requests; fanout (scan/stats legs sent); served
 * (operations run for other workers: over all workers equal to cross + fanout once nothing is in
 * flight); ring_full; busy_fanout. stats() returns them live (gathered over the rings like a scan);
 * they go up to the control thread as GALE_CTL_COUNTER deltas (telemetry /gale/counters, ids
 * KV_C_*); and they are printed, per worker and in total, at shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include <gale/appex.h>
#include <gale/control.h>
#include <gale/eal.h>
#include <gale/netopt.h>
#include <gale/rpc.h>
#include <gale/runtime.h>
#include <gale/xworker.h>

#include "kv.h"
#include "kv_shard.h"

#define KV_MAX_WORKERS 64

enum kv_op { KV_GET = 1, KV_PUT, KV_DELETE, KV_SCAN, KV_STATS };

/* Counter ids: also the GALE_CTL_COUNTER codes sent up (telemetry /gale/counters). */
enum kv_ctr {
	KV_C_GETS,
	KV_C_PUTS,
	KV_C_DELETES,
	KV_C_SCANS,
	KV_C_STATS,
	KV_C_LOCAL,
	KV_C_CROSS,
	KV_C_REJECTED,
	KV_C_FANOUT,
	KV_C_SERVED,
	KV_C_BUSY,
	KV_C_RING_FULL,   /* from the rings' own counter, sent up with the others */
	KV_C_BUSY_FANOUT, /* scan/stats refused: too few free slots (not a key request) */
	KV_C_N,
};

static const char *const kv_ctr_names[KV_C_N] = {
	"gets",     "puts",   "deletes", "scans", "stats",     "local",       "cross",
	"rejected", "fanout", "served",  "busy",  "ring_full", "busy_fanout",
};

struct kv_opts {
	const char *listen;
	const char *port_file;
	unsigned int workers;
	int idle_sleep;
	uint32_t max_keys;
	uint32_t max_key;
	uint32_t max_value;
	uint32_t shard_mem_mb;
	uint32_t max_scan;
	uint32_t max_pending;
	uint32_t ring_size;
	struct gale_netopt net;
};

struct kv_req;

/* A message slot: lent to a key's owner with its data buffer, see the top of the file. */
struct kv_slot {
	struct gale_xw_msg m; /**< m.buf = data, m.cap = its size, m.len = bytes of the answer */
	struct kv_req *req;   /**< what waits for it */
	uint32_t klen;        /**< key (or scan start) bytes at the front of data */
	uint32_t vlen;        /**< put: value bytes after the key; get answer: value bytes */
	uint32_t limit;       /**< scan: most records */
	uint32_t nrec;        /**< scan answer: records in data */
	bool more;            /**< scan answer: the shard has more keys */
	int existed;          /**< delete answer */
	struct kv_slot *next; /**< free list */
	uint8_t *data;
};

/* A request whose reply waits for one (get/put/delete) or every (scan/stats) shard. */
struct kv_req {
	struct gale_rpc_deferred *d;
	uint32_t op;
	unsigned int legs; /**< slots still away */
	uint32_t limit;
	struct kv_slot *slot[KV_MAX_WORKERS]; /**< by shard (scan/stats), or [0] */
	struct kv_req *next;
};

/* One worker's state: only that worker writes it (the counters are read by others after stop). */
struct kv_worker {
	unsigned int id;
	struct kv_shard *shard;
	struct kv_slot *slots;
	uint8_t *slot_mem;
	struct kv_slot *free_slots;
	unsigned int nfree_slots;
	struct kv_req *reqs;
	struct kv_req *free_reqs;
	struct gale_kv_KeyValue *merged;    /**< scan replies: max_scan entries */
	struct gale_kv_WorkerStats *wstats; /**< stats replies: one per worker */
	uint64_t c[KV_C_N];                 /**< single writer: this worker */
	uint64_t c_up[KV_C_N];              /**< what was sent up so far */
	uint64_t next_up_us;
} __rte_cache_aligned;

struct kv_app {
	struct kv_opts o;
	unsigned int n;
	size_t slot_cap;
	struct gale_rpc_server *srv;
	struct gale_xw *xw;
	struct kv_worker *wk; /**< n entries */
};

static inline void
kv_count(struct kv_worker *w, enum kv_ctr c, uint64_t v)
{
	__atomic_store_n(&w->c[c], __atomic_load_n(&w->c[c], __ATOMIC_RELAXED) + v,
	                 __ATOMIC_RELAXED);
}

static struct kv_worker *
kv_self(struct kv_app *app)
{
	return &app->wk[gale_rpc_req_current()->worker];
}

/* ---- slots and requests (the connection's worker only) ---- */

/* A request with `nslots` slots, or NULL (counted in `busy`) when the worker has too few free. */
static struct kv_req *
kv_req_take(struct kv_worker *w, uint32_t op, unsigned int nslots, enum kv_ctr busy)
{
	struct kv_req *r = w->free_reqs;
	unsigned int k;

	if (r == NULL || w->nfree_slots < nslots) {
		kv_count(w, busy, 1);
		return NULL;
	}
	w->free_reqs = r->next;
	r->op = op;
	r->d = NULL;
	r->legs = 0;
	for (k = 0; k < nslots; k++) {
		struct kv_slot *s = w->free_slots;

		w->free_slots = s->next;
		w->nfree_slots--;
		s->req = r;
		s->m.op = op;
		s->m.status = 0;
		s->m.len = 0;
		s->nrec = 0;
		s->more = false;
		s->existed = 0;
		r->slot[k] = s;
	}
	for (; k < KV_MAX_WORKERS; k++)
		r->slot[k] = NULL;
	return r;
}

static void
kv_req_release(struct kv_worker *w, struct kv_req *r)
{
	unsigned int k;

	for (k = 0; k < KV_MAX_WORKERS && r->slot[k] != NULL; k++) {
		r->slot[k]->next = w->free_slots;
		w->free_slots = r->slot[k];
		w->nfree_slots++;
		r->slot[k] = NULL;
	}
	r->next = w->free_reqs;
	w->free_reqs = r;
}

/* ---- the shard side: runs on the key's owner (its serve callback, or inline when local) ---- */

static void kv_stats_fill(struct kv_app *app, struct kv_worker *w, struct gale_kv_WorkerStats *ws);

static void
kv_run(struct kv_app *app, struct kv_worker *w, struct kv_slot *s)
{
	const uint8_t *v;
	uint32_t vlen;
	size_t len;

	switch (s->m.op) {
	case KV_GET:
		s->m.status = kv_shard_get(w->shard, s->data, s->klen, &v, &vlen);
		if (s->m.status == 0) {
			memcpy(s->data, v, vlen); /* the key is not needed any more */
			s->vlen = vlen;
		}
		break;
	case KV_PUT:
		s->m.status = kv_shard_put(w->shard, s->data, s->klen, s->data + s->klen, s->vlen);
		break;
	case KV_DELETE:
		s->existed = kv_shard_delete(w->shard, s->data, s->klen);
		break;
	case KV_SCAN:
		len = kv_shard_scan(w->shard, s->data, s->klen, s->limit, s->data, s->m.cap,
		                    &s->nrec, &s->more);
		s->m.len = (uint32_t)len;
		break;
	case KV_STATS: {
		struct gale_kv_WorkerStats ws;

		kv_stats_fill(app, w, &ws);
		memcpy(s->data, &ws, sizeof(ws));
		s->m.len = sizeof(ws);
		break;
	}
	default:
		s->m.status = -EINVAL;
	}
}

/* gale_xw serve callback: a request from another worker, on this shard's owner. */
static void
kv_serve(unsigned int self, struct gale_xw_msg *m, void *arg)
{
	struct kv_app *app = arg;
	struct kv_worker *w = &app->wk[self];

	kv_count(w, KV_C_SERVED, 1);
	kv_run(app, w, container_of(m, struct kv_slot, m));
}

static void
kv_stats_fill(struct kv_app *app, struct kv_worker *w, struct gale_kv_WorkerStats *ws)
{
	struct gale_xw_stats xs;

	gale_xw_stats_get(app->xw, w->id, &xs);
	gale_kv_WorkerStats_init(ws);
	ws->worker = (int32_t)w->id;
	ws->keys = kv_shard_keys(w->shard);
	ws->bytes = (int64_t)kv_shard_bytes(w->shard);
	ws->gets = (int64_t)w->c[KV_C_GETS];
	ws->puts = (int64_t)w->c[KV_C_PUTS];
	ws->deletes = (int64_t)w->c[KV_C_DELETES];
	ws->scans = (int64_t)w->c[KV_C_SCANS];
	ws->stats = (int64_t)w->c[KV_C_STATS];
	ws->local = (int64_t)w->c[KV_C_LOCAL];
	ws->cross = (int64_t)w->c[KV_C_CROSS];
	ws->rejected = (int64_t)w->c[KV_C_REJECTED];
	ws->fanout = (int64_t)w->c[KV_C_FANOUT];
	ws->served = (int64_t)w->c[KV_C_SERVED];
	ws->ring_full = (int64_t)xs.ring_full;
	ws->busy = (int64_t)w->c[KV_C_BUSY];
	ws->busy_fanout = (int64_t)w->c[KV_C_BUSY_FANOUT];
	for (unsigned int f = gale_kv_WorkerStats_F_worker; f <= gale_kv_WorkerStats_F_busy_fanout;
	     f++)
		GALE_SET(ws, f);
}

/* ---- results (the connection's worker) ---- */

static void
kv_error(struct gale_kv_KvError *e, int32_t code, const char *msg)
{
	e->code = code;
	e->message.ptr = (const uint8_t *)msg;
	e->message.len = (uint32_t)strlen(msg);
	GALE_SET(e, gale_kv_KvError_F_code);
	GALE_SET(e, gale_kv_KvError_F_message);
}

/* A shard's -E2BIG / -ENOSPC as the declared error. */
static void
kv_shard_error(struct gale_kv_KvError *e, int status)
{
	if (status == -E2BIG)
		kv_error(e, gale_kv_ErrorCode_VALUE_TOO_LARGE,
		         "key or value larger than the limit");
	else
		kv_error(e, gale_kv_ErrorCode_SHARD_FULL,
		         "the key's shard is full (--max-keys or --shard-mem)");
}

static void
kv_get_result(struct gale_kv_KV_get_result *res, struct gale_codec_bytes key, int status,
              const uint8_t *v, uint32_t vlen)
{
	if (status == 0) {
		res->success.ptr = v;
		res->success.len = vlen;
		GALE_SET(res, gale_kv_KV_get_result_F_success);
	} else {
		res->not_found.key = key;
		GALE_SET(&res->not_found, gale_kv_NotFound_F_key);
		GALE_SET(res, gale_kv_KV_get_result_F_not_found);
	}
}

static void
kv_put_result(struct gale_kv_KV_put_result *res, int status)
{
	if (status != 0) {
		kv_shard_error(&res->err, status);
		GALE_SET(res, gale_kv_KV_put_result_F_err);
	}
}

static void
kv_delete_result(struct gale_kv_KV_delete_result *res, int existed)
{
	res->success = existed != 0;
	GALE_SET(res, gale_kv_KV_delete_result_F_success);
}

/* Read the record at *off of a scan page. */
static void
kv_rec(const uint8_t *p, size_t off, struct gale_kv_KeyValue *kv)
{
	uint32_t kl, vl;

	memcpy(&kl, p + off, 4);
	memcpy(&vl, p + off + 4, 4);
	gale_kv_KeyValue_init(kv);
	kv->key.ptr = p + off + KV_REC_HDR;
	kv->key.len = kl;
	kv->value.ptr = p + off + KV_REC_HDR + kl;
	kv->value.len = vl;
	GALE_SET(kv, gale_kv_KeyValue_F_key);
	GALE_SET(kv, gale_kv_KeyValue_F_value);
}

/*
 * Gather: merge every shard's page into the first `limit` keys of their union. A shard that left
 * keys out (more) may hold keys just after its last one, so nothing after the smallest such last
 * key can be returned: the result is then shorter than limit and says more. Views point into the
 * slots, which stay the worker's until the reply is encoded.
 */
static void
kv_scan_merge(struct kv_app *app, struct kv_worker *w, struct kv_req *r,
              struct gale_kv_ScanResult *out)
{
	size_t off[KV_MAX_WORKERS];
	uint32_t left[KV_MAX_WORKERS];
	struct gale_kv_KeyValue bound, head, best;
	bool have_bound = false, more = false, blocked = false;
	unsigned int k, pick;
	uint32_t n = 0;

	for (k = 0; k < app->n; k++) {
		struct kv_slot *s = r->slot[k];

		off[k] = 0;
		left[k] = s->nrec;
		more = more || s->more;
		/* Cannot happen (a slot holds the largest record), but would leave nothing safe. */
		blocked = blocked || (s->more && s->nrec == 0);
		if (s->more && s->nrec != 0) {
			size_t o = 0, last = 0;
			struct gale_kv_KeyValue kv;

			for (uint32_t i = 0; i < s->nrec; i++) {
				kv_rec(s->data, o, &kv);
				last = o;
				o += KV_REC_HDR + kv.key.len + kv.value.len;
			}
			kv_rec(s->data, last, &kv);
			if (!have_bound ||
			    kv_key_cmp(kv.key.ptr, kv.key.len, bound.key.ptr, bound.key.len) < 0)
				bound = kv;
			have_bound = true;
		}
	}
	while (!blocked && n < r->limit) {
		pick = KV_MAX_WORKERS;
		for (k = 0; k < app->n; k++) {
			if (left[k] == 0)
				continue;
			kv_rec(r->slot[k]->data, off[k], &head);
			if (pick == KV_MAX_WORKERS || kv_key_cmp(head.key.ptr, head.key.len,
			                                         best.key.ptr, best.key.len) < 0) {
				best = head;
				pick = k;
			}
		}
		if (pick == KV_MAX_WORKERS)
			break;
		if (have_bound &&
		    kv_key_cmp(best.key.ptr, best.key.len, bound.key.ptr, bound.key.len) > 0)
			break;
		w->merged[n++] = best;
		off[pick] += KV_REC_HDR + best.key.len + best.value.len;
		left[pick]--;
	}
	for (k = 0; k < app->n; k++)
		more = more || left[k] != 0;
	gale_kv_ScanResult_init(out);
	out->items.v = w->merged;
	out->items.n = n;
	out->more = more;
	GALE_SET(out, gale_kv_ScanResult_F_items);
	GALE_SET(out, gale_kv_ScanResult_F_more);
}

static void
kv_stats_gather(struct kv_app *app, struct kv_worker *w, struct kv_req *r,
                struct gale_list_gale_kv_WorkerStats *out)
{
	for (unsigned int k = 0; k < app->n; k++)
		memcpy(&w->wstats[k], r->slot[k]->data, sizeof(w->wstats[k]));
	out->v = w->wstats;
	out->n = app->n;
}

/* Result writers for gale_rpc_reply. */
#define KV_WRITER(fn)                                                                              \
	static int kv_write_##fn(int proto, struct gale_codec_writer *wr, const void *res)         \
	{                                                                                          \
		return gale_kv_KV_##fn##_result_write(proto, wr, res);                             \
	}
KV_WRITER(get)
KV_WRITER(put)
KV_WRITER(delete)
KV_WRITER(scan)
KV_WRITER(stats)

/* Every slot of r is back: encode the reply, take the slots back. */
static void
kv_finish(struct kv_app *app, struct kv_worker *w, struct kv_req *r)
{
	struct kv_slot *s = r->slot[0];

	switch (r->op) {
	case KV_GET: {
		struct gale_kv_KV_get_result res;
		struct gale_codec_bytes key = { s->data, s->klen };

		gale_kv_KV_get_result_init(&res);
		kv_get_result(&res, key, s->m.status, s->data, s->vlen);
		gale_rpc_reply(r->d, kv_write_get, &res);
		break;
	}
	case KV_PUT: {
		struct gale_kv_KV_put_result res;

		gale_kv_KV_put_result_init(&res);
		kv_put_result(&res, s->m.status);
		gale_rpc_reply(r->d, kv_write_put, &res);
		break;
	}
	case KV_DELETE: {
		struct gale_kv_KV_delete_result res;

		gale_kv_KV_delete_result_init(&res);
		kv_delete_result(&res, s->existed);
		gale_rpc_reply(r->d, kv_write_delete, &res);
		break;
	}
	case KV_SCAN: {
		struct gale_kv_KV_scan_result res;

		gale_kv_KV_scan_result_init(&res);
		kv_scan_merge(app, w, r, &res.success);
		GALE_SET(&res, gale_kv_KV_scan_result_F_success);
		gale_rpc_reply(r->d, kv_write_scan, &res);
		break;
	}
	case KV_STATS: {
		struct gale_kv_KV_stats_result res;

		gale_kv_KV_stats_result_init(&res);
		kv_stats_gather(app, w, r, &res.success);
		GALE_SET(&res, gale_kv_KV_stats_result_F_success);
		gale_rpc_reply(r->d, kv_write_stats, &res);
		break;
	}
	default:
		gale_rpc_reply_error(r->d, GALE_APPEX_INTERNAL_ERROR, "unknown operation");
	}
	kv_req_release(w, r);
}

/* gale_xw done callback: a slot came back to the connection's worker. */
static void
kv_done(unsigned int self, struct gale_xw_msg *m, void *arg)
{
	struct kv_app *app = arg;
	struct kv_slot *s = container_of(m, struct kv_slot, m);
	struct kv_req *r = s->req;

	if (--r->legs == 0)
		kv_finish(app, &app->wk[self], r);
}

/* ---- handlers (the connection's worker) ---- */

/*
 * Send a get/put/delete for a key another worker owns: copy key (and value) into a slot, defer
 * the reply, post. GALE_RPC_DEFERRED, or -EBUSY (no slot or no deferred handle: counted busy,
 * answered with a TApplicationException by the server).
 */
static int
kv_route(struct kv_app *app, struct kv_worker *w, uint32_t op, unsigned int owner,
         struct gale_codec_bytes key, struct gale_codec_bytes val)
{
	struct kv_req *r = kv_req_take(w, op, 1, KV_C_BUSY);
	struct kv_slot *s;

	if (r == NULL)
		return -EBUSY;
	r->d = gale_rpc_defer();
	if (r->d == NULL) {
		kv_req_release(w, r);
		kv_count(w, KV_C_BUSY, 1);
		return -EBUSY;
	}
	s = r->slot[0];
	if (key.len != 0)
		memcpy(s->data, key.ptr, key.len);
	s->klen = key.len;
	if (val.len != 0)
		memcpy(s->data + key.len, val.ptr, val.len);
	s->vlen = val.len;
	r->legs = 1;
	kv_count(w, KV_C_CROSS, 1);
	gale_xw_post(app->xw, w->id, owner, &s->m); /* 0, or 1 = queued behind a full ring */
	return GALE_RPC_DEFERRED;
}

/* Refuse a key (or value) over the limit before routing it; true when refused. */
static bool
kv_too_large(struct kv_app *app, struct kv_worker *w, uint32_t klen, uint32_t vlen,
             struct gale_kv_KvError *e)
{
	if (klen > app->o.max_key) {
		kv_error(e, gale_kv_ErrorCode_KEY_TOO_LARGE, "key longer than --max-key");
		kv_count(w, KV_C_REJECTED, 1);
		return true;
	}
	if (vlen > app->o.max_value) {
		kv_error(e, gale_kv_ErrorCode_VALUE_TOO_LARGE, "value longer than --max-value");
		kv_count(w, KV_C_REJECTED, 1);
		return true;
	}
	return false;
}

static int
h_get(void *user, const struct gale_kv_KV_get_args *a, struct gale_kv_KV_get_result *res)
{
	struct kv_app *app = user;
	struct kv_worker *w = kv_self(app);
	struct gale_codec_bytes none = { NULL, 0 };
	unsigned int owner;
	const uint8_t *v = NULL;
	uint32_t vlen = 0;
	int ret;

	kv_count(w, KV_C_GETS, 1);
	if (kv_too_large(app, w, a->key.len, 0, &res->err)) {
		GALE_SET(res, gale_kv_KV_get_result_F_err);
		return 0;
	}
	owner = kv_owner(kv_hash(a->key.ptr, a->key.len), app->n);
	if (owner != w->id)
		return kv_route(app, w, KV_GET, owner, a->key, none);
	kv_count(w, KV_C_LOCAL, 1);
	/* The value is encoded straight from the shard as this returns: nothing runs between. */
	ret = kv_shard_get(w->shard, a->key.ptr, a->key.len, &v, &vlen);
	kv_get_result(res, a->key, ret, v, vlen);
	return 0;
}

static int
h_put(void *user, const struct gale_kv_KV_put_args *a, struct gale_kv_KV_put_result *res)
{
	struct kv_app *app = user;
	struct kv_worker *w = kv_self(app);
	unsigned int owner;

	kv_count(w, KV_C_PUTS, 1);
	if (kv_too_large(app, w, a->key.len, a->value.len, &res->err)) {
		GALE_SET(res, gale_kv_KV_put_result_F_err);
		return 0;
	}
	owner = kv_owner(kv_hash(a->key.ptr, a->key.len), app->n);
	if (owner != w->id)
		return kv_route(app, w, KV_PUT, owner, a->key, a->value);
	kv_count(w, KV_C_LOCAL, 1);
	kv_put_result(res,
	              kv_shard_put(w->shard, a->key.ptr, a->key.len, a->value.ptr, a->value.len));
	return 0;
}

static int
h_delete(void *user, const struct gale_kv_KV_delete_args *a, struct gale_kv_KV_delete_result *res)
{
	struct kv_app *app = user;
	struct kv_worker *w = kv_self(app);
	struct gale_codec_bytes none = { NULL, 0 };
	unsigned int owner;

	kv_count(w, KV_C_DELETES, 1);
	if (kv_too_large(app, w, a->key.len, 0, &res->err)) {
		GALE_SET(res, gale_kv_KV_delete_result_F_err);
		return 0;
	}
	owner = kv_owner(kv_hash(a->key.ptr, a->key.len), app->n);
	if (owner != w->id)
		return kv_route(app, w, KV_DELETE, owner, a->key, none);
	kv_count(w, KV_C_LOCAL, 1);
	kv_delete_result(res, kv_shard_delete(w->shard, a->key.ptr, a->key.len));
	return 0;
}

/*
 * Scatter an operation to every shard: a slot per shard, posted to the others first and run here
 * last (so this worker's counters in a stats answer include the legs it sent). With one worker
 * the answer is ready at once (0: the caller fills its result from r and releases it); otherwise
 * GALE_RPC_DEFERRED (kv_done finishes), or -EBUSY.
 */
static int
kv_scatter(struct kv_app *app, struct kv_worker *w, struct kv_req *r, const uint8_t *key,
           uint32_t klen, uint32_t limit)
{
	unsigned int k;

	if (app->n > 1) {
		r->d = gale_rpc_defer();
		if (r->d == NULL) {
			kv_req_release(w, r);
			kv_count(w, KV_C_BUSY_FANOUT, 1);
			return -EBUSY;
		}
	}
	r->limit = limit;
	r->legs = app->n - 1;
	for (k = 0; k < app->n; k++) {
		struct kv_slot *s = r->slot[k];

		if (klen != 0)
			memcpy(s->data, key, klen);
		s->klen = klen;
		s->limit = limit;
		if (k != w->id) {
			kv_count(w, KV_C_FANOUT, 1);
			gale_xw_post(app->xw, w->id, k, &s->m);
		}
	}
	kv_run(app, w, r->slot[w->id]);
	return app->n > 1 ? GALE_RPC_DEFERRED : 0;
}

static int
h_scan(void *user, const struct gale_kv_KV_scan_args *a, struct gale_kv_KV_scan_result *res)
{
	struct kv_app *app = user;
	struct kv_worker *w = kv_self(app);
	struct kv_req *r;
	uint32_t limit;
	int ret;

	kv_count(w, KV_C_SCANS, 1);
	if (a->limit < 1) {
		kv_error(&res->err, gale_kv_ErrorCode_BAD_ARGUMENT,
		         "scan limit must be at least 1");
		GALE_SET(res, gale_kv_KV_scan_result_F_err);
		return 0;
	}
	if (a->start_key.len > app->o.max_key) {
		kv_error(&res->err, gale_kv_ErrorCode_KEY_TOO_LARGE,
		         "scan start key longer than --max-key");
		GALE_SET(res, gale_kv_KV_scan_result_F_err);
		return 0;
	}
	/* A limit above --max-scan gives a page of --max-scan at most (more says the rest). */
	limit = (uint32_t)a->limit < app->o.max_scan ? (uint32_t)a->limit : app->o.max_scan;
	r = kv_req_take(w, KV_SCAN, app->n, KV_C_BUSY_FANOUT);
	if (r == NULL)
		return -EBUSY;
	ret = kv_scatter(app, w, r, a->start_key.ptr, a->start_key.len, limit);
	if (ret == 0) {
		/* One worker: the views stay valid until the reply is encoded, right after this
		 * returns, since nothing else runs on this worker in between. */
		kv_scan_merge(app, w, r, &res->success);
		GALE_SET(res, gale_kv_KV_scan_result_F_success);
		kv_req_release(w, r);
	}
	return ret;
}

static int
h_stats(void *user, const struct gale_kv_KV_stats_args *a, struct gale_kv_KV_stats_result *res)
{
	struct kv_app *app = user;
	struct kv_worker *w = kv_self(app);
	struct kv_req *r;
	int ret;

	(void)a;
	kv_count(w, KV_C_STATS, 1);
	r = kv_req_take(w, KV_STATS, app->n, KV_C_BUSY_FANOUT);
	if (r == NULL)
		return -EBUSY;
	ret = kv_scatter(app, w, r, NULL, 0, 0);
	if (ret == 0) {
		kv_stats_gather(app, w, r, &res->success);
		GALE_SET(res, gale_kv_KV_stats_result_F_success);
		kv_req_release(w, r);
	}
	return ret;
}

static const struct gale_kv_KV_handlers kv_handlers = {
	.get = h_get,
	.put = h_put,
	.delete = h_delete,
	.scan = h_scan,
	.stats = h_stats,
};

GALE_RPC_DISPATCH(gale_kv_KV)

/* ---- worker callbacks: the RPC server's, plus the shard, the rings and the counters ---- */

/* Send the counters' growth up to the control thread (telemetry), at most every 100 ms. */
static void
kv_counters_up(struct kv_app *app, struct kv_worker *w, struct gale_worker *gw, bool force)
{
	struct gale_ctl_msg msg = { .type = GALE_CTL_COUNTER };
	struct gale_xw_stats xs;
	uint64_t now = gale_worker_now_us(gw);

	if (!force && now < w->next_up_us)
		return;
	w->next_up_us = now + 100000;
	gale_xw_stats_get(app->xw, w->id, &xs);
	w->c[KV_C_RING_FULL] = xs.ring_full;
	for (unsigned int c = 0; c < KV_C_N; c++) {
		if (w->c[c] == w->c_up[c])
			continue;
		msg.code = c;
		msg.arg = w->c[c] - w->c_up[c];
		if (gale_worker_send_up(gw, &msg) != 0)
			break; /* up ring full: the rest goes next time */
		w->c_up[c] = w->c[c];
	}
}

static int
kv_worker_init(struct gale_worker *gw, void *arg)
{
	struct kv_app *app = arg;
	struct kv_worker *w = &app->wk[gale_worker_id(gw)];
	struct kv_shard_conf sc = {
		.max_keys = app->o.max_keys,
		.max_key = app->o.max_key,
		.max_value = app->o.max_value,
		.max_scan = app->o.max_scan,
		.mem_bytes = (size_t)app->o.shard_mem_mb << 20,
	};
	unsigned int i;

	/* Everything the worker owns is allocated here, on its lcore (first touch: its node). */
	w->id = gale_worker_id(gw);
	w->shard = kv_shard_create(&sc);
	w->slots = calloc(app->o.max_pending, sizeof(*w->slots));
	w->slot_mem = malloc((size_t)app->o.max_pending * app->slot_cap);
	w->reqs = calloc(app->o.max_pending, sizeof(*w->reqs));
	w->merged = calloc(app->o.max_scan, sizeof(*w->merged));
	w->wstats = calloc(app->n, sizeof(*w->wstats));
	if (w->shard == NULL || w->slots == NULL || w->slot_mem == NULL || w->reqs == NULL ||
	    w->merged == NULL || w->wstats == NULL) {
		fprintf(stderr,
		        "gale-kv: worker %u: cannot allocate its shard (--shard-mem %u MiB, "
		        "--max-keys "
		        "%u) and %u message slots of %zu KiB (--max-pending; a slot holds "
		        "--max-key + "
		        "--max-value, at least 64 KiB)\n",
		        w->id, app->o.shard_mem_mb, app->o.max_keys, app->o.max_pending,
		        app->slot_cap >> 10);
		return -ENOMEM;
	}
	for (i = 0; i < app->o.max_pending; i++) {
		struct kv_slot *s = &w->slots[i];

		s->data = w->slot_mem + (size_t)i * app->slot_cap;
		s->m.buf = s->data;
		s->m.cap = (uint32_t)app->slot_cap;
		s->next = w->free_slots;
		w->free_slots = s;
		w->reqs[i].next = w->free_reqs;
		w->free_reqs = &w->reqs[i];
	}
	w->nfree_slots = app->o.max_pending;
	return gale_rpc_server_worker_init(gw, app->srv);
}

static unsigned int
kv_worker_work(struct gale_worker *gw, void *arg)
{
	struct kv_app *app = arg;
	unsigned int work;

	work = gale_rpc_server_worker_work(gw, app->srv);
	work += gale_xw_poll(app->xw, gale_worker_id(gw));
	kv_counters_up(app, &app->wk[gale_worker_id(gw)], gw, false);
	return work;
}

/* Open connections, deferred replies, and slots away on other workers. */
static uint64_t
kv_worker_inflight(struct gale_worker *gw, void *arg)
{
	struct kv_app *app = arg;

	return gale_rpc_server_worker_inflight(gw, app->srv) +
	       gale_xw_pending(app->xw, gale_worker_id(gw));
}

static void
kv_worker_fini(struct gale_worker *gw, void *arg)
{
	struct kv_app *app = arg;

	kv_counters_up(app, &app->wk[gale_worker_id(gw)], gw, true);
	gale_rpc_server_worker_fini(gw, app->srv);
	gale_netopt_worker_fini(&app->o.net, gw, "gale-kv");
	/* The shard and slots stay until every worker has stopped: another worker may still hold a
	 * slot of ours (after a drain deadline), and main frees them after gale_runtime_run. */
}

static void
kv_workers_free(struct kv_app *app)
{
	for (unsigned int k = 0; app->wk != NULL && k < app->n; k++) {
		struct kv_worker *w = &app->wk[k];

		kv_shard_free(w->shard);
		free(w->slots);
		free(w->slot_mem);
		free(w->reqs);
		free(w->merged);
		free(w->wstats);
	}
	free(app->wk);
}

/* ---- the program ---- */

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args --] [options]\n"
	       "Serves apps/kv/kv.thrift (KV: get, put, delete, scan, stats): an in-memory "
	       "key-value\n"
	       "store sharded by key over the workers; requests for another worker's shard go "
	       "over\n"
	       "the worker-to-worker rings. Every Thrift transport and protocol, detected per\n"
	       "connection.\n"
	       "  --listen HOST:PORT      listen address (default 127.0.0.1:9090 on kernel, *:9090 on\n"
	       "                          native; port 0 = any)\n"
	       "  --workers N             worker lcores = shards (default 1; N+1 CPUs with default "
	       "EAL args)\n"
	       "  --port-file FILE        write the listening port to FILE once listening\n"
	       "  --idle poll|sleep       idle workers poll or sleep (default sleep)\n"
	       "  --max-keys N            keys per shard (default 65536)\n"
	       "  --max-key BYTES         longest key (default 1024)\n"
	       "  --max-value BYTES       longest value (default 16384)\n"
	       "  --shard-mem MIB         item memory per shard (default 64)\n"
	       "  --max-scan N            most pairs one scan returns (default 1000)\n"
	       "  --max-pending N         requests per worker waiting on other workers (default "
	       "256)\n"
	       "  --ring-size N           slots per worker-to-worker ring (default 1024)\n"
	       GALE_NETOPT_USAGE
	       "  --help                  this text\n"
	       "Without '--' every argument is taken as an option here and the EAL gets defaults\n"
	       "(--no-pci --no-huge). SIGINT/SIGTERM: drain, print the counters and exit 0; a\n"
	       "second one: exit now.\n",
	       prog);
}

/* An integer option in [min, max], or a message naming it and what it wants. */
static int
kv_opt_u32(const char *name, const char *arg, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "gale-kv: --%s wants an integer in %u..%u, got '%s'\n", name, min,
		        max, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct kv_opts *o)
{
	static const struct option longs[] = {
		GALE_NETOPT_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "idle", required_argument, NULL, 'i' },
		{ "max-keys", required_argument, NULL, 'K' },
		{ "max-key", required_argument, NULL, 'k' },
		{ "max-value", required_argument, NULL, 'v' },
		{ "shard-mem", required_argument, NULL, 'm' },
		{ "max-scan", required_argument, NULL, 's' },
		{ "max-pending", required_argument, NULL, 'P' },
		{ "ring-size", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t workers;
	int c, ret = 0;

	optind = 0; /* glibc: full re-initialisation after the EAL's own getopt pass */
	while (ret == 0 && (c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'w':
			ret = kv_opt_u32("workers", optarg, 1, KV_MAX_WORKERS, &workers);
			o->workers = workers;
			break;
		case 'p':
			o->port_file = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "poll") != 0 && strcmp(optarg, "sleep") != 0) {
				fprintf(stderr, "gale-kv: --idle wants poll or sleep, got '%s'\n",
				        optarg);
				ret = -1;
			}
			o->idle_sleep = strcmp(optarg, "sleep") == 0;
			break;
		case 'K':
			ret = kv_opt_u32("max-keys", optarg, 1, 1u << 30, &o->max_keys);
			break;
		case 'k':
			ret = kv_opt_u32("max-key", optarg, 1, 1u << 16, &o->max_key);
			break;
		case 'v':
			ret = kv_opt_u32("max-value", optarg, 0, 1u << 26, &o->max_value);
			break;
		case 'm':
			ret = kv_opt_u32("shard-mem", optarg, 1, 1u << 16, &o->shard_mem_mb);
			break;
		case 's':
			ret = kv_opt_u32("max-scan", optarg, 1, 1u << 20, &o->max_scan);
			break;
		case 'P':
			ret = kv_opt_u32("max-pending", optarg, 1, 1u << 16, &o->max_pending);
			break;
		case 'r':
			ret = kv_opt_u32("ring-size", optarg, 1, 1u << 20, &o->ring_size);
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			/* the shared network options; '?': getopt has said what was wrong */
			if (c == '?' || gale_netopt_parse(&o->net, c, optarg, "gale-kv") != 1)
				ret = -1;
		}
	}
	if (ret == 0 && optind != argc) {
		fprintf(stderr, "gale-kv: unexpected argument '%s'\n", argv[optind]);
		ret = -1;
	}
	if (ret == 0 && o->max_pending < o->workers) {
		fprintf(stderr,
		        "gale-kv: --max-pending %u is below --workers %u: a scan or stats call "
		        "needs "
		        "one message slot per worker\n",
		        o->max_pending, o->workers);
		ret = -1;
	}
	/* A shard holds at least its largest item (--shard-mem is in MiB: only huge values fail).
	 */
	if (ret == 0 &&
	    (uint64_t)o->max_key + o->max_value + 64 > ((uint64_t)o->shard_mem_mb << 20)) {
		fprintf(stderr,
		        "gale-kv: --shard-mem %u MiB cannot hold one item of --max-key %u and "
		        "--max-value %u bytes\n",
		        o->shard_mem_mb, o->max_key, o->max_value);
		ret = -1;
	}
	return ret;
}

struct kv_ctl {
	struct kv_app *app;
	const char *host;
	bool huge;
	bool announced;
};

/* Control thread: once every worker listens, say where (tests wait for the port file). */
static void
kv_control(struct gale_runtime *rt, void *arg)
{
	struct kv_ctl *kc = arg;
	struct kv_app *app = kc->app;

	(void)rt;
	if (kc->announced || gale_rpc_server_listening(app->srv) < app->n)
		return;
	kc->announced = true;
	gale_netopt_announce(&app->o.net, "gale-kv", kc->host, gale_rpc_server_port(app->srv),
	                     app->n, " = shards", kc->huge, app->o.port_file);
}

/* After the stop: every worker's counters and the totals, and whether they add up. */
static void
kv_report(struct kv_app *app, int ret)
{
	uint64_t tot[KV_C_N] = { 0 }, keys = 0;
	struct gale_xw_stats xs;
	unsigned int k, c;

	printf("gale-kv: stopped (%s)\n", ret == 0 ? "clean" : strerror(-ret));
	for (k = 0; k < app->n; k++) {
		struct kv_worker *w = &app->wk[k];

		gale_xw_stats_get(app->xw, k, &xs);
		w->c[KV_C_RING_FULL] = xs.ring_full;
		printf("gale-kv: worker %u: keys=%u", k,
		       w->shard != NULL ? kv_shard_keys(w->shard) : 0);
		keys += w->shard != NULL ? kv_shard_keys(w->shard) : 0;
		for (c = 0; c < KV_C_N; c++) {
			printf(" %s=%lu", kv_ctr_names[c], (unsigned long)w->c[c]);
			tot[c] += w->c[c];
		}
		printf("\n");
	}
	printf("gale-kv: total: keys=%lu", (unsigned long)keys);
	for (c = 0; c < KV_C_N; c++)
		printf(" %s=%lu", kv_ctr_names[c], (unsigned long)tot[c]);
	printf("\n");
	printf("gale-kv: key requests %lu = local %lu + cross %lu + rejected %lu + busy %lu (%s); "
	       "served %lu = cross + fanout %lu (%s)\n",
	       (unsigned long)(tot[KV_C_GETS] + tot[KV_C_PUTS] + tot[KV_C_DELETES]),
	       (unsigned long)tot[KV_C_LOCAL], (unsigned long)tot[KV_C_CROSS],
	       (unsigned long)tot[KV_C_REJECTED], (unsigned long)tot[KV_C_BUSY],
	       tot[KV_C_GETS] + tot[KV_C_PUTS] + tot[KV_C_DELETES] ==
	                       tot[KV_C_LOCAL] + tot[KV_C_CROSS] + tot[KV_C_REJECTED] +
	                               tot[KV_C_BUSY]
	               ? "adds up"
	               : "MISMATCH",
	       (unsigned long)tot[KV_C_SERVED], (unsigned long)(tot[KV_C_CROSS] + tot[KV_C_FANOUT]),
	       tot[KV_C_SERVED] == tot[KV_C_CROSS] + tot[KV_C_FANOUT] ? "adds up" : "MISMATCH");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct kv_app app = { .o = { .workers = 1,
		                     .idle_sleep = 1,
		                     .max_keys = 65536,
		                     .max_key = 1024,
		                     .max_value = 16384,
		                     .shard_mem_mb = 64,
		                     .max_scan = 1000,
		                     .max_pending = 256,
		                     .ring_size = 1024 } };
	struct gale_rpc_service svc = { "KV", gale_kv_KV_gale_rpc_dispatch, &kv_handlers, &app };
	struct gale_eal_defaults def = { .log_level = "lib.eal:warning",
		                         .no_huge = true,
		                         .mem_mb = 256,
		                         .app_args_only = true };
	struct gale_xw_conf xc;
	struct gale_rpc_server_conf sc;
	struct gale_runtime_conf rc;
	struct gale_netopt_boot boot = { .prog = "gale-kv", .max_workers = KV_MAX_WORKERS };
	struct gale_runtime *rt;
	struct kv_ctl kc = { &app, "", false, false };
	char host[64], shown[64];
	uint16_t port;
	int ret, leaked;

	gale_netopt_init(&app.o.net);
	ret = gale_netopt_eal_init(&boot, argc, argv, &def);
	if (boot.help) {
		usage(argv[0]);
		return 0;
	}
	if (ret < 0)
		return 1;
	app.o.workers = boot.workers;
	if (parse_args(argc - ret, argv + ret, &app.o) != 0) {
		usage(argv[0]);
		gale_eal_cleanup();
		return 2;
	}
	if (app.o.listen == NULL)
		app.o.listen = app.o.net.backend == GALE_CONN_NATIVE ? "*:9090" : "127.0.0.1:9090";
	if (gale_conn_parse_addr(app.o.listen, host, sizeof(host), &port) != 0) {
		fprintf(stderr, "gale-kv: bad --listen '%s' (want IPv4:PORT)\n", app.o.listen);
		gale_eal_cleanup();
		return 2;
	}
	app.n = app.o.workers;
	/* A slot holds a key and a value, or a scan page: at least 64 KiB so pages are not tiny. */
	app.slot_cap =
	        RTE_MAX((size_t)KV_REC_HDR + app.o.max_key + app.o.max_value, (size_t)64 << 10);
	app.slot_cap = RTE_MAX(app.slot_cap, sizeof(struct gale_kv_WorkerStats));
	app.wk = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*app.wk) * app.n);
	if (app.wk == NULL) {
		fprintf(stderr, "gale-kv: out of memory\n");
		gale_eal_cleanup();
		return 1;
	}
	memset(app.wk, 0, sizeof(*app.wk) * app.n);
	memset(&xc, 0, sizeof(xc));
	xc.nb_workers = app.n;
	xc.ring_size = app.o.ring_size;
	xc.socket_id = -1;
	xc.serve = kv_serve;
	xc.done = kv_done;
	xc.arg = &app;
	xc.telemetry = true;
	app.xw = gale_xw_create(&xc);
	memset(&sc, 0, sizeof(sc));
	sc.services = &svc;
	sc.nb_services = 1;
	sc.backend = app.o.net.backend;
	sc.host = host;
	sc.port = port;
	sc.max_deferred = app.o.max_pending;
	/* A request carries at most a key and a value; leave room for the framing. */
	sc.limits.max_frame = RTE_MAX((uint32_t)(app.o.max_key + app.o.max_value + 4096), 1u << 20);
	app.srv = app.xw != NULL ? gale_rpc_server_create(&sc, app.n) : NULL;
	if (app.srv == NULL) {
		fprintf(stderr, "gale-kv: %s: %s\n", app.xw == NULL ? "rings" : "server",
		        strerror(errno));
		gale_xw_free(app.xw);
		free(app.wk);
		gale_eal_cleanup();
		return 1;
	}
	memset(&rc, 0, sizeof(rc));
	rc.name = "kv";
	rc.idle.mode = app.o.idle_sleep ? GALE_IDLE_SLEEP : GALE_IDLE_POLL;
	rc.idle.idle_iters = 64;
	rc.idle.sleep_us = 200;
	gale_rpc_server_runtime_conf(app.srv, &rc);
	rc.init_cb = kv_worker_init;
	rc.work_cb = kv_worker_work;
	rc.inflight_cb = kv_worker_inflight;
	rc.fini_cb = kv_worker_fini;
	rc.worker_arg = &app;
	rc.control_cb = kv_control;
	rc.control_arg = &kc;
	rc.telemetry = true;
	kc.host = gale_netopt_listen_host(&app.o.net, host, shown, sizeof(shown));
	kc.huge = boot.info.huge;
	rt = NULL;
	if (gale_netopt_start(&app.o.net, app.n, &rc, "gale-kv") == 0) {
		rt = gale_runtime_create(&rc);
		if (rt == NULL)
			fprintf(stderr, "gale-kv: runtime: %s\n", strerror(errno));
	}
	if (rt == NULL) {
		gale_rpc_server_free(app.srv);
		gale_netopt_stop(&app.o.net, "gale-kv");
		gale_xw_free(app.xw);
		free(app.wk);
		gale_eal_cleanup();
		return 1;
	}
	gale_runtime_signals_install(rt);
	printf("gale-kv: starting %u worker%s on %s:%u (backend %s); per shard: %u keys, "
	       "keys <= %u B, values <= %u B, %u MiB\n",
	       app.n, app.n == 1 ? "" : "s", kc.host, (unsigned int)port,
	       gale_netopt_backend_name(app.o.net.backend), app.o.max_keys, app.o.max_key,
	       app.o.max_value, app.o.shard_mem_mb);
	fflush(stdout);
	ret = gale_runtime_run(rt);
	kv_report(&app, ret);
	gale_netopt_conns_left(&app.o.net, rt, "gale-kv");
	gale_runtime_free(rt);
	gale_rpc_server_free(app.srv);
	leaked = gale_netopt_stop(&app.o.net, "gale-kv");
	gale_xw_free(app.xw);
	kv_workers_free(&app);
	gale_eal_cleanup();
	return (ret == 0 || ret == -ETIMEDOUT) && leaked == 0 ? 0 : 1;
}
