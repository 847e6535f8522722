/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The latency histogram of request/response benchmarks, shared by gale-tcpecho (--client rr) and
 * perf/tcp's linux-tcp so that both stacks' percentiles come out of the same buckets: 50 ns steps
 * up to 100 us, 10 us steps up to 100 ms, one bucket for anything slower (about 96 KB of counters).
 * A percentile is the upper edge of the bucket that holds it. The two result lines perf/tcp/run
 * parses are printed here too, so both programs print them alike. libc only.
 */
#ifndef GALE_LAT_HIST_H
#define GALE_LAT_HIST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GALE_LAT_FINE_NS   50u
#define GALE_LAT_FINE_N    2000u
#define GALE_LAT_COARSE_NS 10000u
#define GALE_LAT_COARSE_N  9990u
#define GALE_LAT_N         (GALE_LAT_FINE_N + GALE_LAT_COARSE_N + 1u)
#define GALE_LAT_FINE_END  ((uint64_t)GALE_LAT_FINE_NS * GALE_LAT_FINE_N)

struct gale_lat_hist {
	uint64_t n[GALE_LAT_N];
};

static inline void
gale_lat_hist_reset(struct gale_lat_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static inline void
gale_lat_hist_add(struct gale_lat_hist *h, uint64_t ns)
{
	if (ns < GALE_LAT_FINE_END)
		h->n[ns / GALE_LAT_FINE_NS]++;
	else if (ns < GALE_LAT_FINE_END + (uint64_t)GALE_LAT_COARSE_NS * GALE_LAT_COARSE_N)
		h->n[GALE_LAT_FINE_N + (ns - GALE_LAT_FINE_END) / GALE_LAT_COARSE_NS]++;
	else
		h->n[GALE_LAT_N - 1]++;
}

/* The latency (us) below which a fraction q of the samples fell; 0 without samples. */
static inline double
gale_lat_hist_pct(const struct gale_lat_hist *h, double q)
{
	uint64_t total = 0, acc = 0, want;
	unsigned int i;

	for (i = 0; i < GALE_LAT_N; i++)
		total += h->n[i];
	if (total == 0)
		return 0;
	want = (uint64_t)(q * (double)total);
	if (want == 0)
		want = 1;
	for (i = 0; i < GALE_LAT_N - 1; i++) {
		acc += h->n[i];
		if (acc >= want)
			break;
	}
	if (i < GALE_LAT_FINE_N)
		return (i + 1) * GALE_LAT_FINE_NS / 1000.0;
	return ((double)GALE_LAT_FINE_END +
	        (i - GALE_LAT_FINE_N + 1) * (double)GALE_LAT_COARSE_NS) /
	       1000.0;
}

/* `result: stack=S mode=rr conns=N size=B secs=T transactions=N tps=R p50_us=... p999_us=...` */
static inline void
gale_bench_print_rr(const char *stack, unsigned int conns, unsigned int size, double secs,
                    uint64_t transactions, const struct gale_lat_hist *h)
{
	printf("result: stack=%s mode=rr conns=%u size=%u secs=%.3f transactions=%lu tps=%.0f "
	       "p50_us=%.2f p90_us=%.2f p99_us=%.2f p999_us=%.2f\n",
	       stack, conns, size, secs, (unsigned long)transactions,
	       secs > 0 ? (double)transactions / secs : 0.0, gale_lat_hist_pct(h, 0.5),
	       gale_lat_hist_pct(h, 0.9), gale_lat_hist_pct(h, 0.99), gale_lat_hist_pct(h, 0.999));
}

/* `result: stack=S mode=send|recv conns=N secs=T bytes=N gbps=R` (payload bytes). */
static inline void
gale_bench_print_bulk(const char *stack, const char *mode, unsigned int conns, double secs,
                      uint64_t bytes)
{
	printf("result: stack=%s mode=%s conns=%u secs=%.3f bytes=%lu gbps=%.3f\n", stack, mode,
	       conns, secs, (unsigned long)bytes, secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0.0);
}

#endif
