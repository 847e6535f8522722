/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-bench's latency histogram: the cold parts (reset, merge, percentiles); recording is inline in hist.h.
 * Bucket i >= 256 covers [sub << shift, ((sub + 1) << shift) - 1] with shift = i / 128 - 1 and
 * sub = 128 + i % 128, so its width over its lowest value is at most 1/128.
 */
#include <math.h>
#include <string.h>

#include "hist.h"

void
gale_hist_reset(struct gale_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
gale_hist_bucket_range(unsigned int index, uint64_t *lo, uint64_t *hi)
{
	unsigned int shift;
	uint64_t sub;

	if (index < 2u * GALE_HIST_SUB) {
		*lo = *hi = index;
		return;
	}
	shift = index / GALE_HIST_SUB - 1;
	sub = GALE_HIST_SUB + index % GALE_HIST_SUB;
	*lo = sub << shift;
	*hi = ((sub + 1) << shift) - 1;
}

void
gale_hist_merge(struct gale_hist *dst, const struct gale_hist *src)
{
	unsigned int i;

	if (src->total == 0)
		return;
	for (i = 0; i < GALE_HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	if (dst->total == 0 || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->total += src->total;
	dst->clamped += src->clamped;
	dst->sum_ns += src->sum_ns;
}

uint64_t
gale_hist_percentile(const struct gale_hist *h, double p)
{
	uint64_t rank, seen = 0, lo, hi;
	unsigned int i;

	if (h->total == 0)
		return 0;
	if (p <= 0)
		return h->min_ns;
	if (p >= 100)
		return h->max_ns;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->total);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < GALE_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			break;
	}
	gale_hist_bucket_range(i, &lo, &hi);
	if (hi > h->max_ns)
		hi = h->max_ns;
	if (hi < h->min_ns)
		hi = h->min_ns;
	return hi;
}

double
gale_hist_mean(const struct gale_hist *h)
{
	return h->total == 0 ? 0.0 : (double)(h->sum_ns / (long double)h->total);
}
