/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-bench's open-loop pacing: the schedule keeps its rate exactly (constant) or on average (Poisson) and
 * repeats under a seed; and, against a simulated FIFO server that stalls for 50 ms, latency measured from the
 * intended send time includes the queueing behind the stall (45 requests see more than 10 ms), where the
 * coordinated-omission measurement from the actual send time sees one. The simulation is deterministic: the
 * live check against a real stalling server (tests/peers' thrift-echo-server --stall-every) comes with gale-bench.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hist.h"
#include "pacer.h"

#define MS 1000000ull
#define US 1000ull

static struct gale_hist open_loop, omitted;

static void
test_constant_rate(void **state)
{
	struct gale_pacer p;
	uint64_t t = 0, prev = 0;
	unsigned int i;

	(void)state;
	assert_int_equal(gale_pacer_init(&p, 0, 0, false, 1), -EINVAL);
	assert_int_equal(gale_pacer_init(&p, -5, 0, false, 1), -EINVAL);
	assert_int_equal(gale_pacer_init(&p, INFINITY, 0, false, 1), -EINVAL);
	/* 3 per second: 333,333,333.33 ns, so fractions must carry or the schedule drifts. */
	assert_int_equal(gale_pacer_init(&p, 3.0, 1000, false, 1), 0);
	assert_true(gale_pacer_due(&p, 1000));
	assert_false(gale_pacer_due(&p, 999));
	for (i = 0; i < 3000; i++) {
		t = gale_pacer_take(&p);
		assert_true(i == 0 || t > prev);
		prev = t;
	}
	/* After 3000 requests, exactly 1000 s have been scheduled (to the nanosecond). */
	assert_int_equal(p.next_ns, 1000 + 1000000000000ull);
	assert_false(gale_pacer_due(&p, p.next_ns - 1));
}

static void
test_poisson(void **state)
{
	struct gale_pacer a, b;
	const unsigned int n = 200000;
	double sum = 0, sumsq = 0, mean, var;
	uint64_t prev = 0, t;
	unsigned int i;

	(void)state;
	assert_int_equal(gale_pacer_init(&a, 10000.0, 0, true, 7), 0);
	assert_int_equal(gale_pacer_init(&b, 10000.0, 0, true, 7), 0);
	for (i = 0; i < n; i++) {
		t = gale_pacer_take(&a);
		assert_int_equal(gale_pacer_take(&b), t); /* same seed, same schedule */
		if (i > 0) {
			sum += (double)(t - prev);
			sumsq += (double)(t - prev) * (double)(t - prev);
		}
		prev = t;
	}
	mean = sum / (n - 1);
	var = sumsq / (n - 1) - mean * mean;
	/* Exponential with mean 100 us: mean within 1%, standard deviation equal to the mean within 2%. */
	assert_true(fabs(mean - 100000.0) < 1000.0);
	assert_true(fabs(sqrt(var) - 100000.0) < 2000.0);
	assert_int_equal(gale_pacer_init(&b, 10000.0, 0, true, 8), 0);
	gale_pacer_take(&b);
	assert_true(gale_pacer_take(&b) != 0); /* another seed: another (nonzero) first interval */
}

/* A FIFO server with service time svc that does nothing during [stall_at, stall_at + stall_len). */
static uint64_t
serve(uint64_t arrive, uint64_t *busy_until, uint64_t svc, uint64_t stall_at, uint64_t stall_len)
{
	uint64_t start = arrive > *busy_until ? arrive : *busy_until;

	if (start >= stall_at && start < stall_at + stall_len)
		start = stall_at + stall_len;
	*busy_until = start + svc;
	return *busy_until;
}

static void
test_stall_queueing(void **state)
{
	const uint64_t svc = 100 * US, stall_at = 500 * MS, stall_len = 50 * MS;
	struct gale_pacer p;
	uint64_t busy = 0, last_reply = 0, intended, sent, reply, over_open = 0, over_omitted = 0;
	unsigned int i;

	(void)state;
	gale_hist_reset(&open_loop);
	gale_hist_reset(&omitted);
	/* One connection, pipeline depth 1, 1,000 requests/s for one second. */
	assert_int_equal(gale_pacer_init(&p, 1000.0, 0, false, 1), 0);
	for (i = 0; i < 1000; i++) {
		intended = gale_pacer_take(&p);
		sent = intended > last_reply ? intended : last_reply; /* waits for the previous reply */
		reply = serve(sent, &busy, svc, stall_at, stall_len);
		last_reply = reply;
		gale_hist_record(&open_loop, reply - intended);
		gale_hist_record(&omitted, reply - sent);
		over_open += reply - intended > 10 * MS;
		over_omitted += reply - sent > 10 * MS;
	}
	/*
	 * Over 10 ms: the requests intended at t ms in [500, 550) get their reply at 550 + 0.1 (t - 500) + 0.1 ms
	 * (the backlog drains one 0.1 ms request at a time), which is more than t + 10 for t < 544.6: 45 of them.
	 */
	assert_in_range(over_open, 44, 46);
	assert_int_equal(over_omitted, 1);
	assert_true(gale_hist_percentile(&open_loop, 99) > 10 * MS);
	assert_true(gale_hist_percentile(&omitted, 99) < 1 * MS);
	assert_true(open_loop.max_ns >= stall_len - svc);
	assert_true(gale_hist_percentile(&open_loop, 50) < 1 * MS); /* the rest is unaffected */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constant_rate),
		cmocka_unit_test(test_poisson),
		cmocka_unit_test(test_stall_queueing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
