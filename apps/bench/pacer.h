/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Open-loop pacing for gale-bench, free of coordinated omission (as wrk2): requests have an intended send time
 * drawn from a fixed schedule (constant rate, or Poisson arrivals at that mean rate), and a request's latency is
 * measured from its intended time, not from when it could actually be sent. When the server stalls, requests
 * due during the stall wait in the client (the connection's pipeline is full), and their wait is part of their
 * latency, as it is for a real user arriving then. A closed-loop client measuring from the actual send time would
 * instead record one slow request and fall silent for the rest of the stall.
 *
 * One pacer per connection (or per worker), owned by its worker; the schedule is precomputed lazily, one
 * interval at a time, with a seeded xorshift64* generator so runs repeat.
 */
#ifndef GALE_PACER_H
#define GALE_PACER_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/** A request schedule. Set up with gale_pacer_init. */
struct gale_pacer {
	uint64_t next_ns;     /**< intended time of the next request. */
	uint64_t start_ns;    /**< the schedule's origin. */
	uint64_t taken;       /**< requests taken so far. */
	double interval_ns;   /**< mean interval between requests. */
	double elapsed_ns;    /**< Poisson: sum of the intervals drawn so far. */
	uint64_t rng;         /**< xorshift64* state (Poisson only). */
	bool poisson;         /**< exponential intervals instead of constant ones. */
};

/**
 * Start a schedule of rate_per_s requests per second from start_ns; poisson draws exponential intervals with
 * that mean. Returns 0, or -EINVAL for a rate that is not positive and finite.
 */
int
gale_pacer_init(struct gale_pacer *p, double rate_per_s, uint64_t start_ns, bool poisson, uint64_t seed);

/** True when the next request's intended time has come. */
static inline bool
gale_pacer_due(const struct gale_pacer *p, uint64_t now_ns)
{
	return p->next_ns <= now_ns;
}

static inline double
gale__pacer_uniform(struct gale_pacer *p)
{
	uint64_t x = p->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	p->rng = x;
	/* 53 random bits in (0, 1]: never 0, so log() below is finite. */
	return ((double)((x * 0x2545F4914F6CDD1Dull) >> 11) + 1.0) / 9007199254740992.0;
}

/**
 * Take the next request: returns its intended send time and moves the schedule on by one interval. Times are
 * computed from the origin (k x interval, or the running sum of drawn intervals), never by adding rounded
 * steps, so the schedule does not drift at any rate.
 */
static inline uint64_t
gale_pacer_take(struct gale_pacer *p)
{
	const uint64_t t = p->next_ns;

	p->taken++;
	if (p->poisson)
		p->elapsed_ns += -log(gale__pacer_uniform(p)) * p->interval_ns;
	else
		p->elapsed_ns = (double)p->taken * p->interval_ns;
	p->next_ns = p->start_ns + (uint64_t)llround(p->elapsed_ns);
	return t;
}

#endif /* GALE_PACER_H */
