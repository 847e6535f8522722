/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking RPC calls from non-worker threads (gale/rpc_remote.h): a client on a worker, fed through
 * the control ring, completing into call slots that wake the calling threads.
 *
 * A handle has a fixed table of max_calls slots. A slot belongs to the caller from the moment it is
 * taken (c_owned) and to the worker from the moment it is posted (w_owned) until the worker is
 * done with it (the client's done callback ran, or the worker refused it); it goes back to the
 * free list only when neither holds it. `signalled` says the caller's outcome is decided: by the
 * worker (the call completed), by the worker's stop (-ECANCELED), or by the caller itself when its
 * bound ran out (-ETIMEDOUT). Whoever decides first wins; the others only drop their hold. So a
 * caller that gave up leaves its slot to the worker, which may still write its reply bytes there,
 * and the caller's own memory (arguments, result, arena) is never touched by the worker: arguments
 * are encoded into the slot on the calling thread, and the reply's result bytes are copied into
 * the slot on the worker and decoded on the calling thread.
 *
 * One mutex per handle guards the slots' flags, the free list and the counters; each slot has its
 * condition variable (CLOCK_MONOTONIC), so a completion wakes exactly its caller. The worker takes
 * the mutex twice per call (start, completion), held for a few stores: blocking calls need a
 * futex wake anyway, and the worker's own traffic never takes it (the lock is the cost of serving
 * threads that sleep, not of the data path).
 *
 * Posting: a slot's address goes down worker k's control ring as a GALE_CTL_CMD
 * (GALE__CMD_REMOTE_CALL); the ring is multi-producer on its enqueue side for this (control.c).
 * The post and the check of `closed` happen under the mutex, so a stop either refuses the call or
 * finds the slot posted and cancels it: no call can slip in after the stop and wait forever.
 *
 * The worker side runs from worker.c's hooks: gale__rpc_remote_worker_start (create the clients,
 * after the stacks), gale__rpc_remote_poll (each iteration), gale__rpc_remote_start (a posted
 * slot, from the control ring), gale__rpc_remote_worker_stop (after the loop: cancel what waits,
 * free the clients while the stacks still exist).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gale/codec.h>
#include <gale/control.h>
#include <gale/rpc.h>
#include <gale/rpc_remote.h>
#include <gale/thriftc.h>

#include "runtime_private.h"

/* A slot's reply buffer starts at this size: small replies never make the worker allocate. */
#define GALE__RM_RBUF0 4096u
/* A slot's request buffer starts at this size (grown on the calling thread). */
#define GALE__RM_REQ0 1024u

struct gale__rm_slot {
	struct gale_rpc_remote *rm;
	pthread_cond_t cv;
	bool c_owned;   /**< the caller holds it */
	bool w_owned;   /**< the worker holds it (posted, not yet finished there) */
	bool signalled; /**< the caller's outcome is decided */
	bool oneway;
	int status;
	/* Request: method name then encoded arguments (written by the caller before posting). */
	uint8_t *req;
	size_t req_cap;
	size_t method_len;
	size_t args_len;
	uint8_t proto;
	/* Reply: the result struct's bytes (written by the worker before it signals status 0). */
	uint8_t *rbuf;
	size_t rcap;
	size_t rlen;
	int rproto;
	int32_t ex_type;
	char ex_msg[128];
	struct gale__rm_slot *next_free;
};

struct gale_rpc_remote {
	struct gale_runtime *rt;
	unsigned int worker;
	struct gale_rpc_client_conf cconf; /**< endpoints point into ep_strs */
	struct gale_rpc_remote_conf conf;
	char **ep_strs;
	const char **eps;
	/* Worker side (worker k only). */
	struct gale_rpc_client *cl;
	struct gale_tc_channel ch;
	int err; /**< why the client could not be made (negative), 0 */
	struct gale_rpc_remote *wnext; /**< the worker's list of handles */
	/* Shared, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t idle_cv; /**< users reached 0 (free waits) */
	bool closed;
	unsigned int users; /**< callers inside gale_rpc_remote_call */
	struct gale__rm_slot *free_slots;
	struct gale__rm_slot *slots;
	struct gale_rpc_remote_stats st;
};

static void gale__rm_slot_put(struct gale__rm_slot *s);

struct gale_rpc_remote *
gale_rpc_remote_create(struct gale_runtime *rt, unsigned int worker,
                       const struct gale_rpc_client_conf *cc,
                       const struct gale_rpc_remote_conf *conf)
{
	struct gale_rpc_remote *rm;
	pthread_condattr_t ca;
	struct gale_worker *w;
	unsigned int i;

	if (rt == NULL || cc == NULL || cc->endpoints == NULL || cc->nb_endpoints == 0 ||
	    (w = gale_runtime_worker(rt, worker)) == NULL ||
	    gale_runtime_phase(rt) != GALE_RUNTIME_CREATED || rt->running) {
		errno = EINVAL;
		return NULL;
	}
	rm = calloc(1, sizeof(*rm));
	if (rm == NULL)
		goto nomem;
	rm->rt = rt;
	rm->worker = worker;
	rm->cconf = *cc;
	if (conf != NULL)
		rm->conf = *conf;
	if (rm->conf.max_calls == 0)
		rm->conf.max_calls = 64;
	if (rm->conf.wait_slack_ms == 0)
		rm->conf.wait_slack_ms = 1000;
	if (rm->cconf.rpc_timeout_ms == 0)
		rm->cconf.rpc_timeout_ms = 1000; /* the client's default, which the wait bound uses */
	if (rm->cconf.max_pending < rm->conf.max_calls)
		rm->cconf.max_pending = rm->conf.max_calls;
	rm->ep_strs = calloc(cc->nb_endpoints, sizeof(*rm->ep_strs));
	rm->eps = calloc(cc->nb_endpoints, sizeof(*rm->eps));
	rm->slots = calloc(rm->conf.max_calls, sizeof(*rm->slots));
	if (rm->ep_strs == NULL || rm->eps == NULL || rm->slots == NULL)
		goto fail;
	for (i = 0; i < cc->nb_endpoints; i++) {
		if (cc->endpoints[i] == NULL) {
			free(rm->slots);
			rm->slots = NULL; /* no slot set up yet */
			errno = EINVAL;
			goto fail_errno;
		}
		rm->ep_strs[i] = strdup(cc->endpoints[i]);
		if (rm->ep_strs[i] == NULL)
			goto fail;
		rm->eps[i] = rm->ep_strs[i];
	}
	rm->cconf.endpoints = rm->eps;
	pthread_mutex_init(&rm->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rm->idle_cv, &ca);
	for (i = rm->conf.max_calls; i-- > 0;) {
		struct gale__rm_slot *s = &rm->slots[i];

		s->rm = rm;
		pthread_cond_init(&s->cv, &ca);
		s->rbuf = malloc(GALE__RM_RBUF0);
		s->req = malloc(GALE__RM_REQ0);
		s->rcap = s->rbuf != NULL ? GALE__RM_RBUF0 : 0;
		s->req_cap = s->req != NULL ? GALE__RM_REQ0 : 0;
		s->next_free = rm->free_slots;
		rm->free_slots = s;
	}
	pthread_condattr_destroy(&ca);
	/* Runtime not running: the worker's list is ours to change (the launch orders it). */
	rm->wnext = w->remotes;
	w->remotes = rm;
	gale__telemetry_rpc_remote(rm, true);
	return rm;
nomem:
	errno = ENOMEM;
	return NULL;
fail:
	free(rm->slots);
	rm->slots = NULL;
	errno = ENOMEM;
fail_errno:
	for (i = 0; rm->ep_strs != NULL && i < cc->nb_endpoints; i++)
		free(rm->ep_strs[i]);
	free(rm->ep_strs);
	free(rm->eps);
	free(rm);
	return NULL;
}

void
gale_rpc_remote_free(struct gale_rpc_remote *rm)
{
	struct gale_rpc_remote **pp;
	struct gale_worker *w;
	unsigned int i;

	if (rm == NULL)
		return;
	gale__telemetry_rpc_remote(rm, false);
	pthread_mutex_lock(&rm->mu);
	rm->closed = true;
	/* Calls posted to a worker that never ran (or never took them) fail now. */
	for (i = 0; i < rm->conf.max_calls; i++) {
		struct gale__rm_slot *s = &rm->slots[i];

		if (s->c_owned && !s->signalled) {
			s->status = -ECANCELED;
			s->signalled = true;
			pthread_cond_signal(&s->cv);
		}
	}
	while (rm->users != 0)
		pthread_cond_wait(&rm->idle_cv, &rm->mu);
	pthread_mutex_unlock(&rm->mu);
	w = gale_runtime_worker(rm->rt, rm->worker);
	for (pp = &w->remotes; *pp != NULL; pp = &(*pp)->wnext)
		if (*pp == rm) {
			*pp = rm->wnext;
			break;
		}
	/* A worker that never stopped through gale__rpc_remote_worker_stop (not launched). */
	gale_rpc_client_free(rm->cl);
	for (i = 0; i < rm->conf.max_calls; i++) {
		pthread_cond_destroy(&rm->slots[i].cv);
		free(rm->slots[i].req);
		free(rm->slots[i].rbuf);
	}
	for (i = 0; i < rm->cconf.nb_endpoints; i++)
		free(rm->ep_strs[i]);
	pthread_cond_destroy(&rm->idle_cv);
	pthread_mutex_destroy(&rm->mu);
	free(rm->ep_strs);
	free(rm->eps);
	free(rm->slots);
	free(rm);
}

void
gale_rpc_remote_stats_get(const struct gale_rpc_remote *rm, struct gale_rpc_remote_stats *st)
{
	struct gale_rpc_remote *m = (struct gale_rpc_remote *)(uintptr_t)rm; /* the lock only */

	pthread_mutex_lock(&m->mu);
	*st = rm->st;
	pthread_mutex_unlock(&m->mu);
}

struct gale_rpc_client *
gale_rpc_remote_client(const struct gale_rpc_remote *rm)
{
	return rm->cl;
}

/* Back to the free list once neither side holds it (mu held). */
static void
gale__rm_slot_put(struct gale__rm_slot *s)
{
	struct gale_rpc_remote *rm = s->rm;

	if (s->c_owned || s->w_owned)
		return;
	s->next_free = rm->free_slots;
	rm->free_slots = s;
}

/* ---- worker side ---- */

/* The worker is done with s: decide the caller's outcome unless decided, drop the hold. */
static void
gale__rm_finish(struct gale__rm_slot *s, int status)
{
	struct gale_rpc_remote *rm = s->rm;

	pthread_mutex_lock(&rm->mu);
	if (!s->signalled) {
		s->status = status;
		s->signalled = true;
		pthread_cond_signal(&s->cv);
	}
	s->w_owned = false;
	gale__rm_slot_put(s);
	pthread_mutex_unlock(&rm->mu);
}

/* The encoded arguments, written after the envelope the client wrote. */
static int
gale__rm_write_args(int proto, struct gale_codec_writer *w, const void *args)
{
	const struct gale__rm_slot *s = args;

	if (proto != s->proto)
		return gale_codec_writer_fail(w, GALE_CODEC_E_BAD_PROTOCOL);
	return gale_codec_write_raw(w, s->req + s->method_len, s->args_len);
}

/*
 * The reply's result struct: its bytes into the slot, decoded later by the caller. The buffer
 * grows here when a reply outgrows it (a realloc on the worker: only for replies larger than any
 * this slot carried before, and never above the frame limit the client checked).
 */
static int
gale__rm_read_result(int proto, struct gale_codec_reader *r, void *result)
{
	struct gale__rm_slot *s = result;
	size_t n = gale_codec_reader_remaining(r);

	if (n > s->rcap) {
		uint8_t *nb = realloc(s->rbuf, n);

		if (nb == NULL)
			return -ENOMEM;
		s->rbuf = nb;
		s->rcap = n;
	}
	if (n != 0 && gale_codec_read_raw(r, s->rbuf, n) != 0)
		return -EBADMSG;
	s->rlen = n;
	s->rproto = proto;
	return 0;
}

static void
gale__rm_done(void *arg, int status)
{
	struct gale__rm_slot *s = arg;

	if (status == -EREMOTEIO)
		s->ex_type = gale_rpc_client_last_appex(s->rm->cl, s->ex_msg, sizeof(s->ex_msg));
	gale__rm_finish(s, status);
}

void
gale__rpc_remote_start(struct gale_worker *w, void *slot)
{
	struct gale__rm_slot *s = slot;
	struct gale_rpc_remote *rm = s->rm;
	struct gale_tc_call call;
	bool gone;
	int ret;

	pthread_mutex_lock(&rm->mu);
	gone = s->signalled; /* the caller gave up (its bound ran out) before we got here */
	pthread_mutex_unlock(&rm->mu);
	if (gone) {
		gale__rm_finish(s, 0);
		return;
	}
	if (gale_worker_draining(w)) {
		gale__rm_finish(s, -ECANCELED);
		return;
	}
	if (rm->cl == NULL) {
		gale__rm_finish(s, rm->err != 0 ? rm->err : -ENOTCONN);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.method = (const char *)s->req;
	call.method_len = s->method_len;
	call.oneway = s->oneway;
	call.write_args = gale__rm_write_args;
	call.args = s;
	if (!s->oneway) {
		call.read_result = gale__rm_read_result;
		call.result = s;
	}
	s->ex_type = 0;
	s->ex_msg[0] = '\0';
	ret = rm->ch.ops->call_async(rm->ch.chan, &call, gale__rm_done, s);
	if (ret != 0)
		gale__rm_finish(s, ret);
}

void
gale__rpc_remote_worker_start(struct gale_worker *w)
{
	struct gale_rpc_remote *rm;

	for (rm = w->remotes; rm != NULL; rm = rm->wnext) {
		rm->err = 0;
		rm->cl = gale_rpc_client_create(&rm->cconf, w);
		if (rm->cl == NULL) {
			rm->err = errno != 0 ? -errno : -EINVAL;
			continue;
		}
		gale_rpc_client_channel(rm->cl, &rm->ch);
	}
}

unsigned int
gale__rpc_remote_poll(struct gale_worker *w)
{
	struct gale_rpc_remote *rm;
	unsigned int n = 0;

	for (rm = w->remotes; rm != NULL; rm = rm->wnext)
		if (rm->cl != NULL)
			n += gale_rpc_client_poll(rm->cl);
	return n;
}

void
gale__rpc_remote_worker_stop(struct gale_worker *w)
{
	struct gale_rpc_remote *rm;
	unsigned int i;

	/* Every handle closed first, so a caller woken here finds all of this worker's closed. */
	for (rm = w->remotes; rm != NULL; rm = rm->wnext) {
		pthread_mutex_lock(&rm->mu);
		rm->closed = true;
		pthread_mutex_unlock(&rm->mu);
	}
	for (rm = w->remotes; rm != NULL; rm = rm->wnext) {
		pthread_mutex_lock(&rm->mu);
		/* Posted calls, taken or still in the ring: their callers are told now. */
		for (i = 0; i < rm->conf.max_calls; i++) {
			struct gale__rm_slot *s = &rm->slots[i];

			if (s->w_owned && !s->signalled) {
				s->status = -ECANCELED;
				s->signalled = true;
				pthread_cond_signal(&s->cv);
			}
		}
		pthread_mutex_unlock(&rm->mu);
		/* Its done callbacks (-ECANCELED) release the slots the client held. */
		gale_rpc_client_free(rm->cl);
		rm->cl = NULL;
	}
}

/* ---- calling threads ---- */

void
gale_rpc_caller_init(struct gale_rpc_caller *c, struct gale_rpc_remote *rm,
                     struct gale_arena *arena)
{
	memset(c, 0, sizeof(*c));
	c->remote = rm;
	c->arena = arena;
}

/* Method name and arguments into s->req, growing it up to the frame limit. 0 or -EMSGSIZE. */
static int
gale__rm_encode(struct gale_rpc_remote *rm, struct gale__rm_slot *s,
                const struct gale_tc_call *call)
{
	size_t max = rm->cconf.limits.max_frame != 0 ? rm->cconf.limits.max_frame
	                                             : GALE_CODEC_DEFAULT_MAX_FRAME;

	s->method_len = call->method_len;
	s->proto = rm->cconf.proto;
	for (;;) {
		struct gale_codec_writer wr;
		struct gale_codec_wseg seg;
		size_t cap = s->req_cap;

		if (cap >= s->method_len + 16) {
			memcpy(s->req, call->method, s->method_len);
			seg.base = s->req + s->method_len;
			seg.cap = cap - s->method_len;
			seg.len = 0;
			gale_codec_writer_init(&wr, &seg, 1, 1, NULL, NULL);
			if (call->write_args(s->proto, &wr, call->args) == 0) {
				s->args_len = gale_codec_writer_offset(&wr);
				return 0;
			}
			if (wr.reason != GALE_CODEC_E_NO_SPACE || cap >= max + s->method_len)
				return -EMSGSIZE;
		}
		cap = cap < GALE__RM_REQ0 ? GALE__RM_REQ0 : cap * 2;
		if (cap < s->method_len + 16)
			cap = s->method_len + GALE__RM_REQ0;
		if (cap > max + s->method_len)
			cap = max + s->method_len;
		{
			uint8_t *nb = realloc(s->req, cap);

			if (nb == NULL)
				return -ENOMEM;
			s->req = nb;
			s->req_cap = cap;
		}
	}
}

/* The reply bytes of s into c's arena, decoded into call->result there. */
static int
gale__rm_decode(struct gale_rpc_caller *c, struct gale__rm_slot *s,
                const struct gale_tc_call *call)
{
	struct gale_codec_reader r;
	struct gale_codec_seg seg;
	uint8_t *copy = NULL;
	int ret;

	if (s->rlen != 0) {
		copy = gale_arena_alloc(c->arena, s->rlen, 8);
		if (copy == NULL)
			return -ENOMEM;
		memcpy(copy, s->rbuf, s->rlen);
	}
	seg.base = copy;
	seg.len = s->rlen;
	gale_codec_reader_init(&r, &seg, 1, &c->remote->cconf.limits, c->arena);
	if (gale_codec_reader_bound(&r, s->rlen) != 0)
		return -EBADMSG;
	ret = call->read_result(s->rproto, &r, call->result);
	return ret > 0 ? -EBADMSG : ret;
}

/* Add a timeout in ms to now on CLOCK_MONOTONIC. */
static void
gale__rm_deadline(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int
gale_rpc_remote_call(struct gale_rpc_caller *c, const struct gale_tc_call *call)
{
	struct gale_ctl_msg msg = { .type = GALE_CTL_CMD, .code = GALE__CMD_REMOTE_CALL };
	struct gale_rpc_remote *rm;
	struct gale__rm_slot *s;
	struct timespec dl;
	int ret, status;

	if (c == NULL || c->remote == NULL || call == NULL || call->write_args == NULL ||
	    (!call->oneway && (call->read_result == NULL || c->arena == NULL)))
		return -EINVAL;
	rm = c->remote;
	pthread_mutex_lock(&rm->mu);
	s = rm->free_slots;
	if (rm->closed || s == NULL) {
		rm->st.refused++;
		pthread_mutex_unlock(&rm->mu);
		return rm->closed ? -ECANCELED : -EBUSY;
	}
	rm->free_slots = s->next_free;
	s->c_owned = true;
	s->w_owned = false;
	s->signalled = false;
	s->oneway = call->oneway != 0;
	rm->users++;
	pthread_mutex_unlock(&rm->mu);

	/* Encoding on this thread: the worker only copies the bytes after its envelope. */
	ret = gale__rm_encode(rm, s, call);

	pthread_mutex_lock(&rm->mu);
	if (ret == 0 && rm->closed)
		ret = -ECANCELED;
	if (ret == 0) {
		msg.ptr = s;
		if (gale_ctl_send(rm->rt->ctl, rm->worker, &msg) != 0)
			ret = -EBUSY; /* the ring is full: nothing was sent */
	}
	if (ret != 0) {
		rm->st.refused++;
		goto out;
	}
	s->w_owned = true;
	rm->st.started++;
	rm->st.in_flight++;
	gale__rm_deadline(&dl, (uint64_t)rm->cconf.rpc_timeout_ms + rm->conf.wait_slack_ms);
	while (!s->signalled) {
		if (pthread_cond_timedwait(&s->cv, &rm->mu, &dl) == ETIMEDOUT && !s->signalled) {
			/* The worker never answered in time: give up, leave it the slot. */
			s->signalled = true;
			s->status = -ETIMEDOUT;
			rm->st.wait_expired++;
		}
	}
	status = s->status;
	pthread_mutex_unlock(&rm->mu);
	/* Decided with status 0: the worker is done with the slot, its reply bytes are ours. */
	if (status == 0 && !s->oneway)
		status = gale__rm_decode(c, s, call);
	else if (status == -EREMOTEIO) {
		c->appex_type = s->ex_type;
		snprintf(c->appex_msg, sizeof(c->appex_msg), "%s", s->ex_msg);
	}
	ret = status;
	pthread_mutex_lock(&rm->mu);
	rm->st.in_flight--;
	if (ret == 0)
		rm->st.completed++;
	else
		rm->st.failed++;
	if (ret == -ECANCELED)
		rm->st.cancelled++;
out:
	s->c_owned = false;
	gale__rm_slot_put(s);
	if (--rm->users == 0)
		pthread_cond_broadcast(&rm->idle_cv);
	pthread_mutex_unlock(&rm->mu);
	return ret;
}

static int
gale__rm_chan_call(void *chan, const struct gale_tc_call *call)
{
	return gale_rpc_remote_call(chan, call);
}

static int
gale__rm_chan_async(void *chan, const struct gale_tc_call *call, gale_tc_done_cb_t done, void *arg)
{
	(void)chan;
	(void)call;
	(void)done;
	(void)arg;
	return -ENOTSUP; /* a plain thread has no loop to run done on: use a worker's client */
}

void
gale_rpc_caller_channel(struct gale_rpc_caller *c, struct gale_tc_channel *ch)
{
	static const struct gale_tc_channel_ops ops = { gale__rm_chan_call, gale__rm_chan_async };

	ch->ops = &ops;
	ch->chan = c;
}
