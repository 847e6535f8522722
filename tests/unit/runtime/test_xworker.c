/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker-to-worker rings (gale/xworker.h): bad configuration, a round trip with results written
 * into the sender's buffer, full request rings (posts queued in order, counted, never lost),
 * answer rings that are never overrun, and a stress run of three threads acting as workers that
 * post to each other while serving each other, checking order and content of every answer.
 *
 * Workers here are plain pthreads (or one thread acting as each worker in turn): the rings need
 * no lcore, and the machine's two cores are shared, so the stress threads yield when idle.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gale/xworker.h>

#include "gale_test_eal.h"

/* A message with the sender's buffer: the receiver writes its result there. */
struct tmsg {
	struct gale_xw_msg m;
	uint64_t seq;          /* the sender's sequence number for this destination */
	uint64_t in;           /* the request's operand */
	uint64_t out;          /* the receiver's result */
	unsigned int servedby; /* who served it */
};

#define TMSG(mp) ((struct tmsg *)(void *)((char *)(mp)-offsetof(struct tmsg, m)))

/* The serve callback: out = in * 3 + op, stamped with the server's id. */
static void
serve_cb(unsigned int self, struct gale_xw_msg *m, void *arg)
{
	struct tmsg *t = TMSG(m);

	(void)arg;
	t->out = t->in * 3 + m->op;
	t->servedby = self;
	m->status = m->op == 7 ? -ENOENT : 0;
}

/* Single-threaded tests: record the order of completions. */
static struct tmsg *done_log[64];
static unsigned int done_n;

static void
done_cb(unsigned int self, struct gale_xw_msg *m, void *arg)
{
	(void)arg;
	assert_int_equal(m->src, self);
	assert_true(done_n < 64);
	done_log[done_n++] = TMSG(m);
}

static int
setup(void **state)
{
	(void)state;
	return gale_test_eal_init("0", NULL) == 0 ? 0 : -1;
}

/* A mesh of `workers` with the single-threaded callbacks and an empty completion log. */
static struct gale_xw *
xw_new(unsigned int workers, unsigned int ring_size)
{
	struct gale_xw_conf c = {
		.nb_workers = workers, .ring_size = ring_size, .serve = serve_cb, .done = done_cb
	};
	struct gale_xw *xw = gale_xw_create(&c);

	assert_non_null(xw);
	done_n = 0;
	return xw;
}

static void
test_bad_conf(void **state)
{
	struct gale_xw_conf c = { .nb_workers = 2, .serve = serve_cb, .done = done_cb };
	struct gale_xw *xw;
	struct tmsg t;

	(void)state;
	errno = 0;
	assert_null(gale_xw_create(NULL));
	assert_int_equal(errno, EINVAL);
	c.nb_workers = 0;
	assert_null(gale_xw_create(&c));
	c.nb_workers = 65;
	assert_null(gale_xw_create(&c));
	c.nb_workers = 2;
	c.serve = NULL;
	assert_null(gale_xw_create(&c));
	c.serve = serve_cb;
	xw = gale_xw_create(&c);
	assert_non_null(xw);
	memset(&t, 0, sizeof(t));
	assert_int_equal(gale_xw_post(xw, 0, 0, &t.m), -EINVAL); /* to itself */
	assert_int_equal(gale_xw_post(xw, 0, 2, &t.m), -EINVAL); /* no such worker */
	assert_int_equal(gale_xw_post(xw, 2, 0, &t.m), -EINVAL);
	assert_int_equal(gale_xw_pending(xw, 0), 0);
	gale_xw_free(xw);
	gale_xw_free(NULL);
}

static void
test_round_trip(void **state)
{
	struct gale_xw *xw = xw_new(3, 0);
	struct gale_xw_stats st;
	struct tmsg t[4];
	unsigned int i;

	(void)state;
	assert_int_equal(gale_xw_nb_workers(xw), 3);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++) {
		t[i].in = 100 + i;
		t[i].m.op = i == 3 ? 7 : i;
		/* 0 and 2 to worker 1, 1 and 3 to worker 2 */
		assert_int_equal(gale_xw_post(xw, 0, 1 + (i & 1), &t[i].m), 0);
	}
	assert_int_equal(gale_xw_pending(xw, 0), 4);
	/* Nothing comes back before the owners served. */
	assert_int_equal(gale_xw_poll(xw, 0), 0);
	assert_int_equal(done_n, 0);
	assert_int_equal(gale_xw_poll(xw, 1), 2);
	assert_int_equal(gale_xw_poll(xw, 2), 2);
	assert_int_equal(gale_xw_poll(xw, 0), 4);
	assert_int_equal(done_n, 4);
	assert_int_equal(gale_xw_pending(xw, 0), 0);
	for (i = 0; i < 4; i++) {
		struct tmsg *d = done_log[i];
		unsigned int k = (unsigned int)(d - t);

		assert_true(k < 4);
		assert_int_equal(d->out, d->in * 3 + d->m.op);
		assert_int_equal(d->servedby, 1 + (k & 1));
		assert_int_equal(d->m.dst, 1 + (k & 1));
		assert_int_equal(d->m.status, k == 3 ? -ENOENT : 0);
	}
	gale_xw_stats_get(xw, 0, &st);
	assert_int_equal(st.posted, 4);
	assert_int_equal(st.completed, 4);
	assert_int_equal(st.served, 0);
	assert_int_equal(st.ring_full, 0);
	gale_xw_stats_get(xw, 1, &st);
	assert_int_equal(st.served, 2);
	assert_int_equal(st.posted, 0);
	gale_xw_stats_get(xw, 9, &st);
	assert_int_equal(st.served, 0);
	gale_xw_free(xw);
}

/* Ring of 4: ten posts, six wait on the sender; all come back, in order, each exactly once. */
static void
test_ring_full(void **state)
{
	struct gale_xw *xw = xw_new(2, 4);
	struct gale_xw_stats st;
	struct tmsg t[10];
	unsigned int i, rounds;

	(void)state;
	memset(t, 0, sizeof(t));
	for (i = 0; i < 10; i++) {
		t[i].in = i;
		assert_int_equal(gale_xw_post(xw, 0, 1, &t[i].m), i < 4 ? 0 : 1);
	}
	gale_xw_stats_get(xw, 0, &st);
	assert_int_equal(st.ring_full, 6);
	assert_int_equal(st.queued, 6);
	/* The ring is still full: polling the sender moves nothing. */
	assert_int_equal(gale_xw_poll(xw, 0), 0);
	for (rounds = 0; done_n < 10 && rounds < 100; rounds++) {
		gale_xw_poll(xw, 1);
		gale_xw_poll(xw, 0);
	}
	assert_int_equal(done_n, 10);
	for (i = 0; i < 10; i++) {
		assert_ptr_equal(done_log[i], &t[i]);
		assert_int_equal(t[i].out, i * 3);
	}
	gale_xw_stats_get(xw, 0, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.completed, 10);
	gale_xw_stats_get(xw, 1, &st);
	assert_int_equal(st.served, 10);
	gale_xw_free(xw);
}

/* A receiver whose answer ring is full serves nothing more until its sender takes the answers. */
static void
test_answer_ring_bound(void **state)
{
	struct gale_xw *xw = xw_new(2, 4);
	struct gale_xw_stats st;
	struct tmsg t[8];
	unsigned int i;

	(void)state;
	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++)
		assert_int_equal(gale_xw_post(xw, 0, 1, &t[i].m), 0);
	assert_int_equal(gale_xw_poll(xw, 1), 4); /* answer ring now full */
	for (i = 4; i < 8; i++)
		assert_int_equal(gale_xw_post(xw, 0, 1, &t[i].m), 0);
	assert_int_equal(gale_xw_poll(xw, 1), 0); /* no room for answers: serves none */
	gale_xw_stats_get(xw, 1, &st);
	assert_int_equal(st.served, 4);
	assert_int_equal(gale_xw_poll(xw, 0), 4);
	assert_int_equal(gale_xw_poll(xw, 1), 4);
	assert_int_equal(gale_xw_poll(xw, 0), 4);
	assert_int_equal(done_n, 8);
	for (i = 0; i < 8; i++)
		assert_ptr_equal(done_log[i], &t[i]);
	gale_xw_free(xw);
}

/* ---- stress: three threads, each a worker posting to both others and serving them ---- */

#define ST_WORKERS 3
#define ST_POOL    48 /* messages per worker: more than the ring, so posts overflow */

static unsigned long st_per_peer = 100000;

struct st_worker {
	struct gale_xw *xw;
	unsigned int id;
	struct tmsg pool[ST_POOL];
	struct tmsg *free_list[ST_POOL];
	unsigned int nfree;
	uint64_t next_seq[ST_WORKERS]; /* next sequence number to post to each peer */
	uint64_t done_seq[ST_WORKERS]; /* next sequence number expected back from each peer */
	unsigned long errors;
	bool finished;
};

static struct st_worker st_w[ST_WORKERS];
static unsigned int st_finished;

static void
st_done(unsigned int self, struct gale_xw_msg *m, void *arg)
{
	struct st_worker *w = &st_w[self];
	struct tmsg *t = TMSG(m);

	(void)arg;
	if (m->src != self || t->seq != w->done_seq[m->dst] || t->servedby != m->dst ||
	    t->out != t->in * 3 + m->op || m->status != 0)
		w->errors++;
	w->done_seq[m->dst]++;
	w->free_list[w->nfree++] = t;
}

static void
st_serve(unsigned int self, struct gale_xw_msg *m, void *arg)
{
	struct tmsg *t = TMSG(m);

	(void)arg;
	t->out = t->in * 3 + m->op;
	t->servedby = self;
	m->status = 0;
}

static void *
st_thread(void *arg)
{
	struct st_worker *w = arg;
	unsigned long idle = 0;
	unsigned int peer, k;
	bool all;

	for (;;) {
		unsigned int work = gale_xw_poll(w->xw, w->id);

		for (k = 0; k < ST_WORKERS - 1 && w->nfree != 0; k++) {
			peer = (w->id + 1 + k) % ST_WORKERS;
			if (w->next_seq[peer] == st_per_peer)
				continue;
			struct tmsg *t = w->free_list[--w->nfree];

			t->seq = w->next_seq[peer]++;
			t->in = t->seq ^ ((uint64_t)w->id << 40);
			t->m.op = (uint32_t)(t->seq & 0xff);
			t->out = 0;
			t->servedby = ~0u;
			if (gale_xw_post(w->xw, w->id, peer, &t->m) < 0)
				w->errors++;
			work++;
		}
		all = true;
		for (peer = 0; peer < ST_WORKERS; peer++)
			if (peer != w->id && w->done_seq[peer] != st_per_peer)
				all = false;
		/* Once all of ours came back, keep serving until every worker is done too. */
		if (all && !w->finished) {
			w->finished = true;
			__atomic_fetch_add(&st_finished, 1, __ATOMIC_RELAXED);
		}
		if (w->finished && __atomic_load_n(&st_finished, __ATOMIC_RELAXED) == ST_WORKERS)
			break;
		if (work == 0 && ++idle > 64) {
			sched_yield();
			idle = 0;
		}
	}
	return NULL;
}

static void
test_stress(void **state)
{
	struct gale_xw_conf c = {
		.nb_workers = ST_WORKERS, .ring_size = 16, .serve = st_serve, .done = st_done
	};
	struct gale_xw_stats st;
	pthread_t th[ST_WORKERS];
	uint64_t served = 0, posted = 0, full = 0;
	struct gale_xw *xw;
	unsigned int i, k;
	const char *env = getenv("GALE_TEST_XW_MSGS");

	(void)state;
	if (env != NULL)
		st_per_peer = strtoul(env, NULL, 10);
	xw = gale_xw_create(&c);
	assert_non_null(xw);
	memset(st_w, 0, sizeof(st_w));
	st_finished = 0;
	for (i = 0; i < ST_WORKERS; i++) {
		st_w[i].xw = xw;
		st_w[i].id = i;
		for (k = 0; k < ST_POOL; k++)
			st_w[i].free_list[k] = &st_w[i].pool[k];
		st_w[i].nfree = ST_POOL;
	}
	for (i = 0; i < ST_WORKERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, st_thread, &st_w[i]), 0);
	for (i = 0; i < ST_WORKERS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < ST_WORKERS; i++) {
		assert_int_equal(st_w[i].errors, 0);
		for (k = 0; k < ST_WORKERS; k++)
			if (k != i)
				assert_int_equal(st_w[i].done_seq[k], st_per_peer);
		gale_xw_stats_get(xw, i, &st);
		assert_int_equal(st.posted, st_per_peer * (ST_WORKERS - 1));
		assert_int_equal(st.completed, st.posted);
		assert_int_equal(st.queued, 0);
		served += st.served;
		posted += st.posted;
		full += st.ring_full;
	}
	assert_int_equal(served, posted);
	printf("xworker stress: %lu messages per ordered pair, %lu served, %lu posts found the "
	       "ring "
	       "full\n",
	       st_per_peer, (unsigned long)served, (unsigned long)full);
	gale_xw_free(xw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_conf),  cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_ring_full), cmocka_unit_test(test_answer_ring_bound),
		cmocka_unit_test(test_stress),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
