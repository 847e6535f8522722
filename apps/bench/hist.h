/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A latency histogram in the HDR style for gale-bench: values in nanoseconds from 1 ns to 10 s (clamped
 * above, with the clamped count kept), log-linear buckets with 128 linear sub-buckets per power of two, so any
 * recorded value is reported within 1/128 (0.78%) of itself; values below 256 ns are exact. Recording is a
 * count-leading-zeros, a shift and an increment: cheap enough for every request on a worker. One histogram per
 * worker, merged by the reporting thread after (or between) runs; nothing here is shared between cores.
 *
 * Why our own: Debian ships no C HDR histogram library, and this one is ~150 lines with a fixed layout that
 * merges by adding arrays.
 */
#ifndef GALE_HIST_H
#define GALE_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define GALE_HIST_SUB_BITS 7                             /**< 128 sub-buckets per power of two. */
#define GALE_HIST_SUB (1u << GALE_HIST_SUB_BITS)         /**< sub-buckets per power of two. */
#define GALE_HIST_MAX_NS 10000000000ull                  /**< 10 s: the largest value kept as is. */
/** Buckets needed for every value up to GALE_HIST_MAX_NS (< 2^34): index 26 * 128 + 255 at most. */
#define GALE_HIST_BUCKETS ((34u - GALE_HIST_SUB_BITS - 1u) * GALE_HIST_SUB + 2u * GALE_HIST_SUB)

/** A histogram. Zero-initialise it, or call gale_hist_reset. */
struct gale_hist {
	uint64_t total;      /**< values recorded. */
	uint64_t clamped;    /**< values above GALE_HIST_MAX_NS, recorded as GALE_HIST_MAX_NS. */
	uint64_t min_ns;     /**< exact smallest value (0 when empty). */
	uint64_t max_ns;     /**< exact largest value (clamped to GALE_HIST_MAX_NS). */
	long double sum_ns;  /**< for the mean. */
	uint64_t counts[GALE_HIST_BUCKETS]; /**< per bucket. */
};

/** Empty the histogram. */
void
gale_hist_reset(struct gale_hist *h);

/** Bucket index of a value (clamped to GALE_HIST_MAX_NS). */
static inline unsigned int
gale_hist_index(uint64_t v)
{
	unsigned int shift;

	if (v > GALE_HIST_MAX_NS)
		v = GALE_HIST_MAX_NS;
	if (v < 2u * GALE_HIST_SUB)
		return (unsigned int)v;
	shift = (unsigned int)(63 - __builtin_clzll(v)) - GALE_HIST_SUB_BITS;
	return shift * GALE_HIST_SUB + (unsigned int)(v >> shift);
}

/** Record one value in nanoseconds. */
static inline void
gale_hist_record(struct gale_hist *h, uint64_t v)
{
	if (v > GALE_HIST_MAX_NS) {
		v = GALE_HIST_MAX_NS;
		h->clamped++;
	}
	h->counts[gale_hist_index(v)]++;
	h->total++;
	h->sum_ns += (long double)v;
	if (v < h->min_ns || h->total == 1)
		h->min_ns = v;
	if (v > h->max_ns)
		h->max_ns = v;
}

/** Smallest and largest value that share bucket `index`. */
void
gale_hist_bucket_range(unsigned int index, uint64_t *lo, uint64_t *hi);

/** Add every count of src to dst. */
void
gale_hist_merge(struct gale_hist *dst, const struct gale_hist *src);

/**
 * The value at percentile p (0 < p <= 100): the highest value equivalent to the bucket holding the
 * ceil(p% x total)-th smallest value, bounded by the exact min and max. 0 when empty.
 */
uint64_t
gale_hist_percentile(const struct gale_hist *h, double p);

/** Mean in nanoseconds; 0 when empty. */
double
gale_hist_mean(const struct gale_hist *h);

#endif /* GALE_HIST_H */
