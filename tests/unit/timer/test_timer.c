/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timer wheel (gale/timer.h): ordering, cancellation and re-arming inside callbacks, time that
 * wraps past UINT64_MAX, timeouts beyond the levels' span (the overflow list), long idle gaps, and
 * two million timers.
 *
 * Every callback checks the contract itself: it runs inside the advance whose target first reached
 * its expiry (never earlier, never a later advance), the wheel's time then equals its expiry (1 us
 * ticks: no lateness at all), and expiries arrive in non-decreasing order. Random cases use a
 * fixed-seed xorshift so a failure replays. No EAL is needed: the wheel is plain memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gale/timer.h>

struct rec {
	struct gale_timer t;
	uint32_t fired;
	uint32_t id;
};

/* What the callbacks check against; set by the test driving the wheel. */
static struct gale_timer_wheel *w;
static uint64_t prev_target; /* target of the previous advance (wheel time before this advance). */
static uint64_t cur_target;  /* target of the advance in progress. */
static uint64_t last_expire; /* expiry of the last timer run, for the ordering check. */
static uint64_t fired_total;
static bool check_order;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Signed distance a - b on wrapping time. */
static int64_t
tdiff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

static void
check_cb(struct gale_timer *t, void *arg)
{
	struct rec *r = arg;

	assert_ptr_equal(&r->t, t);
	assert_false(gale_timer_pending(t));
	assert_int_equal(r->fired, 0);
	r->fired++;
	fired_total++;
	/* Not before its time, and no later than the tick it is due in. */
	assert_int_equal(gale_timer_wheel_now(w), t->expire_us);
	/* In the first advance that reached it. */
	assert_true(tdiff(t->expire_us, prev_target) > 0);
	assert_true(tdiff(t->expire_us, cur_target) <= 0);
	if (check_order)
		assert_true(tdiff(t->expire_us, last_expire) >= 0);
	last_expire = t->expire_us;
}

static void
start(uint64_t now)
{
	w = gale_timer_wheel_create(now);
	assert_non_null(w);
	assert_int_equal(gale_timer_wheel_now(w), now);
	prev_target = cur_target = last_expire = now;
	fired_total = 0;
	check_order = true;
}

static unsigned int
advance(uint64_t to)
{
	unsigned int ran;

	prev_target = gale_timer_wheel_now(w);
	cur_target = to;
	ran = gale_timer_wheel_advance(w, to);
	assert_int_equal(gale_timer_wheel_now(w), to);
	return ran;
}

static void
test_basic(void **state)
{
	struct rec r = { .id = 0 };
	uint64_t when;

	(void)state;
	start(1000);
	gale_timer_init(&r.t, check_cb, &r);
	assert_false(gale_timer_pending(&r.t));
	assert_int_equal(gale_timer_wheel_next(w, &when), -ENOENT);
	gale_timer_arm(w, &r.t, 1100);
	assert_true(gale_timer_pending(&r.t));
	assert_int_equal(gale_timer_wheel_count(w), 1);
	assert_int_equal(gale_timer_wheel_next(w, &when), 0);
	assert_true(when > 1000 && when <= 1100);
	assert_int_equal(advance(1099), 0);
	assert_int_equal(r.fired, 0);
	assert_int_equal(advance(1100), 1);
	assert_int_equal(r.fired, 1);
	assert_int_equal(gale_timer_wheel_count(w), 0);
	assert_int_equal(gale_timer_wheel_next(w, &when), -ENOENT);
	/* Time never goes backwards. */
	assert_int_equal(gale_timer_wheel_advance(w, 500), 0);
	assert_int_equal(gale_timer_wheel_now(w), 1100);
	gale_timer_wheel_free(w);
	gale_timer_wheel_free(NULL);
}

static void
test_static_initializer(void **state)
{
	struct rec r = { .t = GALE_TIMER_INITIALIZER(check_cb, &r) };

	(void)state;
	start(0);
	assert_false(gale_timer_pending(&r.t));
	gale_timer_cancel(w, &r.t); /* harmless when not pending */
	assert_int_equal(gale_timer_wheel_count(w), 0);
	gale_timer_arm(w, &r.t, 64 * 64 + 3);
	assert_int_equal(advance(1u << 20), 1);
	assert_int_equal(r.fired, 1);
	gale_timer_wheel_free(w);
}

/* Random expiries over every level, random advance steps: each runs once, in order, on time. */
static void
run_random(uint64_t origin, unsigned int n, uint64_t horizon, uint64_t max_step)
{
	struct rec *r = calloc(n, sizeof(*r));
	uint64_t now, end = origin + horizon;
	unsigned int i, ran = 0;

	assert_non_null(r);
	start(origin);
	for (i = 0; i < n; i++) {
		r[i].id = i;
		gale_timer_init(&r[i].t, check_cb, &r[i]);
		/* Half spread evenly, half clustered near the start so many share slots. */
		gale_timer_arm(w, &r[i].t,
		               origin + 1 + rng() % (i & 1 || horizon < 4096 ? horizon : 4096));
	}
	assert_int_equal(gale_timer_wheel_count(w), n);
	now = origin;
	while (tdiff(end, now) > 0) {
		now += 1 + rng() % max_step;
		if (tdiff(now, end) > 0)
			now = end;
		ran += advance(now);
	}
	assert_int_equal(ran, n);
	assert_int_equal(fired_total, n);
	assert_int_equal(gale_timer_wheel_count(w), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(r[i].fired, 1);
	gale_timer_wheel_free(w);
	free(r);
}

static void
test_ordering(void **state)
{
	(void)state;
	run_random(12345, 20000, 10000000, 5000);
	run_random(0, 5000, 1ull << 40, 1ull << 30);
	run_random(7, 3000, 2000, 1); /* one tick at a time */
}

/* Both timers in one slot cancel each other: exactly one runs. They also cancel a later and a far
 * timer. */
static struct rec pair[2], later, far;

static void
cancel_cb(struct gale_timer *t, void *arg)
{
	struct rec *r = arg;

	check_cb(t, arg);
	gale_timer_cancel(w, &pair[1 - r->id].t);
	gale_timer_cancel(w, &later.t);
	gale_timer_cancel(w, &far.t);
	gale_timer_cancel(w, t); /* itself: not pending any more, harmless */
}

static void
test_cancel_in_callback(void **state)
{
	uint64_t when;

	(void)state;
	start(100);
	for (unsigned int i = 0; i < 2; i++) {
		pair[i].id = i;
		pair[i].fired = 0;
		gale_timer_init(&pair[i].t, cancel_cb, &pair[i]);
		gale_timer_arm(w, &pair[i].t, 200);
	}
	later.fired = far.fired = 0;
	gale_timer_init(&later.t, check_cb, &later);
	gale_timer_init(&far.t, check_cb, &far);
	gale_timer_arm(w, &later.t, 201);
	gale_timer_arm(w, &far.t, 100 + (1ull << 36));
	assert_int_equal(gale_timer_wheel_count(w), 4);
	assert_int_equal(advance(1ull << 40), 1);
	assert_int_equal(pair[0].fired + pair[1].fired, 1);
	assert_int_equal(later.fired, 0);
	assert_int_equal(far.fired, 0);
	assert_int_equal(gale_timer_wheel_count(w), 0);
	/* The far timer's slot bit went with it: nothing left to wake for. */
	assert_int_equal(gale_timer_wheel_next(w, &when), -ENOENT);
	gale_timer_wheel_free(w);
}

static void
test_cancel(void **state)
{
	enum { N = 10000 };
	struct rec *r = calloc(N, sizeof(*r));
	unsigned int i, ran;

	(void)state;
	assert_non_null(r);
	start(5);
	for (i = 0; i < N; i++) {
		gale_timer_init(&r[i].t, check_cb, &r[i]);
		gale_timer_arm(w, &r[i].t, 5 + 1 + rng() % 1000000);
	}
	/* Re-arming moves a timer (no duplicate), cancel twice is harmless. */
	for (i = 0; i < N; i += 3)
		gale_timer_arm(w, &r[i].t, 5 + 1 + rng() % 1000000);
	for (i = 0; i < N; i += 2) {
		gale_timer_cancel(w, &r[i].t);
		gale_timer_cancel(w, &r[i].t);
		assert_false(gale_timer_pending(&r[i].t));
	}
	assert_int_equal(gale_timer_wheel_count(w), N / 2);
	ran = advance(500000);
	ran += advance(2000000);
	assert_int_equal(ran, N / 2);
	for (i = 0; i < N; i++)
		assert_int_equal(r[i].fired, i % 2 ? 1 : 0);
	gale_timer_wheel_free(w);
	free(r);
}

/* A periodic timer re-arms itself from its callback; another arms a new timer due within the same
 * advance. */
static unsigned int periodic_runs;
static uint64_t periodic_last;
static struct rec chained;

static void
periodic_cb(struct gale_timer *t, void *arg)
{
	uint64_t now = gale_timer_wheel_now(w);

	(void)arg;
	if (periodic_runs > 0)
		assert_int_equal(now - periodic_last, 7);
	periodic_last = now;
	if (++periodic_runs < 1000)
		gale_timer_arm(w, t, now + 7);
}

static void
chain_cb(struct gale_timer *t, void *arg)
{
	(void)arg;
	gale_timer_init(&chained.t, check_cb, &chained);
	gale_timer_arm(w, &chained.t, t->expire_us + 5);
}

static unsigned int self_now_runs;

static void
self_now_cb(struct gale_timer *t, void *arg)
{
	(void)arg;
	self_now_runs++;
	gale_timer_arm(w, t,
	               gale_timer_wheel_now(w)); /* due "now": must wait for the next advance */
}

static void
test_rearm_in_callback(void **state)
{
	struct gale_timer p, c, s;

	(void)state;
	start(0);
	check_order = false;
	gale_timer_init(&p, periodic_cb, NULL);
	gale_timer_arm(w, &p, 7);
	assert_int_equal(gale_timer_wheel_advance(w, 7000), 1000);
	assert_int_equal(periodic_runs, 1000);
	assert_false(gale_timer_pending(&p));

	chained.fired = 0;
	gale_timer_init(&c, chain_cb, NULL);
	gale_timer_arm(w, &c, 7010);
	prev_target = 7000;
	cur_target = 8000;
	assert_int_equal(gale_timer_wheel_advance(w, 8000), 2);
	assert_int_equal(chained.fired, 1);

	gale_timer_init(&s, self_now_cb, NULL);
	gale_timer_arm(w, &s, 8001);
	assert_int_equal(gale_timer_wheel_advance(w, 9000), 1);
	assert_int_equal(gale_timer_wheel_advance(w, 9000), 1);
	assert_int_equal(self_now_runs, 2);
	gale_timer_cancel(w, &s);
	assert_int_equal(gale_timer_wheel_count(w), 0);
	gale_timer_wheel_free(w);
}

static unsigned int plain_runs;

static void
plain_cb(struct gale_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	plain_runs++;
}

/* Arming in the past (or at now) runs on the next advance, even one that does not move time. */
static void
test_past(void **state)
{
	struct gale_timer a, b;
	uint64_t when;

	(void)state;
	start(1000000);
	plain_runs = 0;
	gale_timer_init(&a, plain_cb, NULL);
	gale_timer_init(&b, plain_cb, NULL);
	gale_timer_arm(w, &a, 10);
	gale_timer_arm(w, &b, 1000000);
	assert_int_equal(gale_timer_wheel_count(w), 2);
	assert_int_equal(gale_timer_wheel_next(w, &when), 0);
	assert_int_equal(when, 1000000);
	assert_int_equal(gale_timer_wheel_advance(w, 1000000), 2);
	assert_int_equal(plain_runs, 2);
	/* A past timer cancelled before the advance does not run. */
	gale_timer_arm(w, &a, 999999);
	gale_timer_cancel(w, &a);
	assert_int_equal(gale_timer_wheel_advance(w, 1000001), 0);
	gale_timer_wheel_free(w);
}

/* Time that wraps past UINT64_MAX while timers are pending, at every level and on the overflow
 * list. */
static void
test_wraparound(void **state)
{
	static const uint64_t origins[] = { UINT64_MAX, UINT64_MAX - 5000,
		                            UINT64_MAX - (1ull << 30) };
	struct rec r[64];
	unsigned int i, k, ran;
	uint64_t o, now;

	(void)state;
	for (k = 0; k < sizeof(origins) / sizeof(origins[0]); k++) {
		o = origins[k];
		start(o);
		for (i = 0; i < 64; i++) {
			r[i].fired = 0;
			gale_timer_init(&r[i].t, check_cb, &r[i]);
			/* 1 us .. 2^62 us ahead: across the wrap, every level, and beyond the 2^48
			 * span. */
			gale_timer_arm(w, &r[i].t,
			               o + (i < 32 ? 1 + 97 * i : 1ull << (i - 32 + 30)));
		}
		ran = 0;
		now = o;
		for (i = 0; i < 32; i++) {
			now += 200;
			ran += advance(now);
		}
		assert_int_equal(ran, 32);
		if (k < 2)
			assert_true(now < o); /* it wrapped */
		for (i = 0; i < 32; i++)
			assert_int_equal(r[i].fired, 1);
		/* The far ones, a power of two at a time. */
		for (i = 32; i < 64; i++) {
			ran = advance(o + (1ull << (i - 32 + 30)) - 1);
			assert_int_equal(ran, 0);
			ran = advance(o + (1ull << (i - 32 + 30)));
			assert_int_equal(ran, 1);
			assert_int_equal(r[i].fired, 1);
		}
		assert_int_equal(gale_timer_wheel_count(w), 0);
		gale_timer_wheel_free(w);
	}
}

/* Hours, days, years, decades: one jump over all of them, then in month-long steps. */
static void
test_long_timeouts(void **state)
{
	static const uint64_t hour = 3600ull * 1000000, day = 24 * hour, year = 365 * day;
	static const uint64_t after[] = { hour,           day,        30 * day,  year,
		                          8 * year,       9 * year,   20 * year, 100 * year,
		                          100 * year + 1, 1000 * year };
	enum { N = sizeof(after) / sizeof(after[0]) };
	uint64_t o, now, origins[] = { 42, UINT64_MAX - hour };
	struct rec r[N];
	unsigned int i, k, ran;

	(void)state;
	for (k = 0; k < 2; k++) {
		o = origins[k];
		for (int mode = 0; mode < 2; mode++) {
			start(o);
			for (i = 0; i < N; i++) {
				r[i].fired = 0;
				gale_timer_init(&r[i].t, check_cb, &r[i]);
				gale_timer_arm(w, &r[i].t,
				               o + after[N - 1 - i]); /* armed in reverse order */
			}
			if (mode == 0) {
				ran = advance(o + 1000 * year);
			} else {
				ran = 0;
				for (now = o; tdiff(o + 1000 * year, now) > 0;) {
					now += 30 * day;
					if (tdiff(now, o + 1000 * year) > 0)
						now = o + 1000 * year;
					ran += advance(now);
				}
			}
			assert_int_equal(ran, N);
			for (i = 0; i < N; i++)
				assert_int_equal(r[i].fired, 1);
			gale_timer_wheel_free(w);
		}
	}
}

/* next() is exact for timers within the first level and a lower bound beyond. */
static void
test_next(void **state)
{
	struct gale_timer a, b;
	uint64_t when;

	(void)state;
	start(1000);
	gale_timer_init(&a, plain_cb, NULL);
	gale_timer_init(&b, plain_cb, NULL);
	gale_timer_arm(w, &a, 1000 + 1000000);
	assert_int_equal(gale_timer_wheel_next(w, &when), 0);
	assert_true(when > 1000 && when <= 1000 + 1000000);
	gale_timer_arm(w, &b, 1010);
	assert_int_equal(gale_timer_wheel_next(w, &when), 0);
	assert_int_equal(when, 1010);
	gale_timer_cancel(w, &b);
	/* Stepping to each reported event reaches the far timer without overshooting it. */
	plain_runs = 0;
	for (int steps = 0; gale_timer_wheel_next(w, &when) == 0; steps++) {
		assert_true(when <= 1000 + 1000000);
		assert_true(steps < 8 * 64);
		gale_timer_wheel_advance(w, when);
	}
	assert_int_equal(plain_runs, 1);
	assert_int_equal(gale_timer_wheel_now(w), 1000 + 1000000);
	gale_timer_wheel_free(w);
}

/* Two million timers, each runs exactly once, in order, in the advance that reached it. */
static void
test_two_million(void **state)
{
	(void)state;
	run_random(UINT64_MAX - 1000000, 2000000, 4000000, 2000);
}

static void
test_now_us(void **state)
{
	uint64_t a, b;

	(void)state;
	a = gale_timer_now_us();
	for (int i = 0; i < 1000; i++) {
		b = gale_timer_now_us();
		assert_true(b >= a);
		a = b;
	}
}

/* The exact answer, by a 128-bit division. */
static uint64_t
exact_us(uint64_t cycles, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)cycles * 1000000u / hz);
}

/* gale_tsc_us_conv is floor(cycles * 10^6 / hz) exactly: for TSC rates from just above 1 MHz to
 * 2^64 - 1, at the edges (0, multiples of hz and their neighbours, where the fraction is nearest 1,
 * UINT64_MAX) and at random, and it agrees with the two-division formula it replaced. */
static void
test_tsc_us(void **state)
{
	static const uint64_t rates[] = {
		1000001u,    1000000007u, 2400000000u,       2994374000u,
		3000000007u, 3700000001u, UINT64_C(1) << 40, UINT64_MAX,
	};
	struct gale_tsc_us c;
	uint64_t x = 88172645463325252u, hz, cyc, k;

	(void)state;
	assert_int_equal(gale_tsc_us_init(&c, 1000000u), -EINVAL);
	assert_int_equal(gale_tsc_us_init(&c, 0), -EINVAL);
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		hz = rates[i];
		assert_int_equal(gale_tsc_us_init(&c, hz), 0);
		assert_int_equal(gale_tsc_us_conv(&c, 0), 0);
		assert_int_equal(gale_tsc_us_conv(&c, UINT64_MAX), exact_us(UINT64_MAX, hz));
		for (k = 1; k < 100000; k = k * 3 + 1) {
			/* cycles just below, at and above the tick of microsecond k, and at second
			 * k */
			cyc = (uint64_t)(((unsigned __int128)k * hz + 999999u) / 1000000u);
			for (uint64_t d = 0; d < 3; d++) {
				assert_int_equal(gale_tsc_us_conv(&c, cyc - 1 + d),
				                 exact_us(cyc - 1 + d, hz));
			}
			if (hz <= UINT64_MAX / k) {
				cyc = k * hz;
				assert_int_equal(gale_tsc_us_conv(&c, cyc - 1),
				                 exact_us(cyc - 1, hz));
				assert_int_equal(gale_tsc_us_conv(&c, cyc), exact_us(cyc, hz));
			}
		}
		for (int n = 0; n < 200000; n++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			cyc = n & 1 ? x : x >> (n % 64);
			assert_int_equal(gale_tsc_us_conv(&c, cyc), exact_us(cyc, hz));
			if (hz < UINT64_MAX / 1000000u && cyc / hz < UINT64_MAX / 1000000u)
				assert_int_equal(gale_tsc_us_conv(&c, cyc),
				                 cyc / hz * 1000000u + cyc % hz * 1000000u / hz);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_static_initializer),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_in_callback),
		cmocka_unit_test(test_rearm_in_callback),
		cmocka_unit_test(test_past),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_long_timeouts),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_two_million),
		cmocka_unit_test(test_now_us),
		cmocka_unit_test(test_tsc_us),
	};

	return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
