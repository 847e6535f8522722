/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-bench's histogram: known distributions in, known percentiles out within the 1/128 bound; exact values
 * below 256 ns; bucket bounds over the whole 1 ns .. 10 s range; merge equals recording everything in one;
 * clamping above 10 s is counted.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

static struct gale_hist h1, h2, h3;

/* The exact p-th percentile of sorted values, by the same rank rule (ceil(p% x n)-th smallest). */
static uint64_t
exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	return sorted[rank == 0 ? 0 : rank - 1];
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
assert_within_bound(uint64_t got, uint64_t want)
{
	double err = fabs((double)got - (double)want) / (double)want;

	if (err > 1.0 / GALE_HIST_SUB) {
		print_error("got %llu, want %llu (error %.4f%% > %.4f%%)\n", (unsigned long long)got,
			    (unsigned long long)want, err * 100, 100.0 / GALE_HIST_SUB);
		fail();
	}
}

static void
test_exact_below_256(void **state)
{
	uint64_t v;

	(void)state;
	gale_hist_reset(&h1);
	for (v = 0; v < 256; v++)
		gale_hist_record(&h1, v);
	assert_int_equal(h1.total, 256);
	assert_int_equal(gale_hist_percentile(&h1, 50), 127);
	assert_int_equal(gale_hist_percentile(&h1, 100), 255);
	assert_int_equal(gale_hist_percentile(&h1, 0.1), 0);
	assert_int_equal(h1.min_ns, 0);
	assert_int_equal(h1.max_ns, 255);
}

static void
test_bucket_bounds(void **state)
{
	uint64_t v, lo, hi;
	unsigned int idx, prev = 0;

	(void)state;
	/* A geometric sweep over the range plus every power of two and its neighbours. */
	for (v = 1; v <= GALE_HIST_MAX_NS; v = v + v / 97 + 1) {
		idx = gale_hist_index(v);
		assert_true(idx < GALE_HIST_BUCKETS);
		assert_true(idx >= prev); /* monotonic */
		prev = idx;
		gale_hist_bucket_range(idx, &lo, &hi);
		assert_true(lo <= v && v <= hi);
		assert_true((double)(hi - lo) <= (double)lo / GALE_HIST_SUB);
		assert_int_equal(gale_hist_index(lo), idx);
		assert_int_equal(gale_hist_index(hi), idx);
	}
	for (idx = 8; idx < 34; idx++) {
		v = 1ull << idx;
		assert_int_equal(gale_hist_index(v - 1) + 1, gale_hist_index(v));
	}
	assert_true(gale_hist_index(GALE_HIST_MAX_NS) < GALE_HIST_BUCKETS);
	assert_int_equal(gale_hist_index(UINT64_MAX), gale_hist_index(GALE_HIST_MAX_NS));
}

static void
test_uniform(void **state)
{
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99 };
	uint64_t v;
	unsigned int i;

	(void)state;
	gale_hist_reset(&h1);
	for (v = 1; v <= 1000000; v++)
		gale_hist_record(&h1, v * 1000); /* 1 us .. 1 s, each once */
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		assert_within_bound(gale_hist_percentile(&h1, ps[i]), (uint64_t)(ps[i] * 10000.0) * 1000);
	assert_int_equal(gale_hist_percentile(&h1, 100), 1000000000ull);
	assert_within_bound((uint64_t)gale_hist_mean(&h1), 500000500ull);
}

static void
test_exponential_and_merge(void **state)
{
	static const double ps[] = { 50, 90, 99, 99.9, 99.99 };
	const size_t n = 1000000;
	uint64_t *vals = malloc(n * sizeof(*vals));
	unsigned int i;
	size_t k;

	(void)state;
	assert_non_null(vals);
	srand48(42);
	gale_hist_reset(&h1);
	gale_hist_reset(&h2);
	gale_hist_reset(&h3);
	for (k = 0; k < n; k++) {
		/* Exponential, mean 50 us, plus a 2 us floor: a typical RPC latency shape with a long tail. */
		vals[k] = 2000 + (uint64_t)(-log(1.0 - drand48()) * 50000.0);
		gale_hist_record(&h1, vals[k]);
		gale_hist_record(k % 3 == 0 ? &h2 : &h3, vals[k]);
	}
	qsort(vals, n, sizeof(*vals), cmp_u64);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		assert_within_bound(gale_hist_percentile(&h1, ps[i]), exact_percentile(vals, n, ps[i]));
	assert_int_equal(gale_hist_percentile(&h1, 100), vals[n - 1]);
	assert_int_equal(h1.min_ns, vals[0]);

	gale_hist_merge(&h2, &h3);
	assert_int_equal(h2.total, h1.total);
	assert_int_equal(h2.min_ns, h1.min_ns);
	assert_int_equal(h2.max_ns, h1.max_ns);
	assert_memory_equal(h2.counts, h1.counts, sizeof(h1.counts));
	free(vals);
}

static void
test_clamp_and_empty(void **state)
{
	(void)state;
	gale_hist_reset(&h1);
	assert_int_equal(gale_hist_percentile(&h1, 50), 0);
	assert_true(gale_hist_mean(&h1) == 0.0);
	gale_hist_record(&h1, 5000);
	gale_hist_record(&h1, 20000000000ull);
	assert_int_equal(h1.clamped, 1);
	assert_int_equal(h1.max_ns, GALE_HIST_MAX_NS);
	assert_int_equal(gale_hist_percentile(&h1, 100), GALE_HIST_MAX_NS);
	/* The highest value equivalent to 5000's bucket: at or above it, within the bound. */
	assert_true(gale_hist_percentile(&h1, 50) >= 5000);
	assert_within_bound(gale_hist_percentile(&h1, 50), 5000);
	gale_hist_reset(&h2);
	gale_hist_merge(&h2, &h1);
	assert_int_equal(h2.clamped, 1);
	assert_int_equal(h2.min_ns, 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_below_256),
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_exponential_and_merge),
		cmocka_unit_test(test_clamp_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
