/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What runtime/'s files share and users do not see: single-writer statistics helpers, the runtime and worker
 * structures, and the telemetry hooks.
 *
 * Statistics are written by exactly one thread (their worker) and read by others (the control thread,
 * telemetry). They are plain uint64_t words accessed with relaxed __atomic loads and stores, which on x86-64 are
 * ordinary moves: no lock prefix, no fence, and no data race in the C11 sense. Nothing is ordered by them.
 */
#ifndef GALE_RUNTIME_PRIVATE_H
#define GALE_RUNTIME_PRIVATE_H

#include <stdint.h>

struct gale_ctl;

static inline void
gale__stat_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline uint64_t
gale__stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/** A worker's side of its control channel, for telemetry. */
struct gale__ctl_stats {
	uint64_t down_msgs;
	uint64_t up_msgs;
	uint64_t up_full;
	uint64_t acked;
};

void
gale__ctl_worker_stats(const struct gale_ctl *ctl, unsigned int worker, struct gale__ctl_stats *st);

#endif /* GALE_RUNTIME_PRIVATE_H */
