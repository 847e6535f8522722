/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Impairment layer: drop, duplicate, reorder, corrupt and delay packets on a port's rx and tx
 * bursts, by seeded probabilities and delay distributions, per direction, with counters. This
 * kernel has no netem; this is how fault tests and chaos runs impair the path between gale and its
 * peer.
 *
 * Off by default and zero cost when off: gale_port_rx_burst / gale_port_tx_burst (gale/port.h) test
 * one pointer and call rte_eth_rx_burst / rte_eth_tx_burst directly when no impairment is attached.
 *
 * Decisions are deterministic under a seed: each (queue, direction) has its own generator seeded
 * from the seed, the queue and the direction, and every packet draws the same number of random
 * numbers whatever the probabilities, so one seed gives one sequence of decisions. Per packet, in
 * order: drop; else corrupt (one random byte of the frame flipped, on a private copy so clones
 * sharing the data are untouched); dup (a copy follows the packet); then delay (base delay plus
 * jitter from the distribution) or reorder (held back until the next packet of that queue and
 * direction has passed, at most reorder_us). Held packets wait in a small per-queue heap ordered by
 * release time (TSC) and are released by the next burst call of that queue in either direction, so
 * a worker that polls rx keeps its delayed tx moving.
 *
 * With impairment on, tx consumes every packet given: those the device does not take are held for
 * the next call (the hold is bounded; overflow is dropped and counted), in their order. A packet
 * the device keeps refusing at the head of the hold (on GALE_IMPAIR_STUCK_TRIES calls spanning
 * GALE_IMPAIR_STUCK_US) is dropped and counted in `refused`, so a frame a device will never take
 * cannot block everything behind it. Every drop is counted.
 *
 * Threading: one state per (queue, direction), touched only by the worker owning the queue.
 */
#ifndef GALE_IMPAIR_H
#define GALE_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

#define GALE_IMPAIR_STUCK_US    10000u /**< see the tx hold above. */
#define GALE_IMPAIR_STUCK_TRIES 8u     /**< see the tx hold above. */

/** Delay jitter distribution. */
enum gale_impair_dist {
	GALE_IMPAIR_DIST_UNIFORM = 0, /**< delay_us + uniform in [-jitter_us, +jitter_us]. */
	GALE_IMPAIR_DIST_NORMAL,      /**< delay_us + normal with standard deviation jitter_us. */
	GALE_IMPAIR_DIST_EXP,         /**< delay_us + exponential with mean jitter_us. */
};

/** One direction's impairments. All zero = pass through. Probabilities in [0, 1]. */
struct gale_impair_dir_conf {
	double drop;    /**< probability a packet is dropped. */
	double dup;     /**< probability a packet is duplicated. */
	double reorder; /**< probability a packet is held back behind the next one. */
	double corrupt; /**< probability one byte of the frame is flipped. */
	double delay;   /**< probability a packet is delayed; 0 with delay_us/jitter_us set means 1.
	                 */
	uint32_t delay_us;   /**< base delay. */
	uint32_t jitter_us;  /**< jitter (see dist); delays are clamped at 0. */
	uint32_t reorder_us; /**< longest a reordered packet is held when nothing follows; 0 = 1000.
	                      */
	enum gale_impair_dist dist; /**< jitter distribution. */
};

/** Impairments of a port. */
struct gale_impair_conf {
	struct gale_impair_dir_conf rx; /**< applied to what rx_burst returns. */
	struct gale_impair_dir_conf tx; /**< applied to what is given to tx_burst. */
	uint64_t seed;                  /**< generator seed. */
	uint16_t hold_depth; /**< held (delayed/reordered) packets per queue and direction; 0 = 512.
	                      */
};

/** Counters of one direction (of a queue, or summed). Every packet seen is accounted for. */
struct gale_impair_stats {
	uint64_t packets;    /**< packets seen. */
	uint64_t dropped;    /**< dropped by the drop probability. */
	uint64_t duplicated; /**< duplicates made. */
	uint64_t corrupted;  /**< corrupted. */
	uint64_t reordered;  /**< held back behind a later packet. */
	uint64_t delayed;    /**< delayed. */
	uint64_t hold_full;  /**< dropped because the hold heap was full (or a copy could not be
	                        made). */
	uint64_t released;   /**< held packets released. */
	uint64_t passed;     /**< packets delivered (rx) or given to the device (tx). */
	uint64_t refused;    /**< tx: held packets dropped because the device kept refusing them. */
};

enum gale_impair_dir { GALE_IMPAIR_RX = 0, GALE_IMPAIR_TX = 1 };

struct gale_impair;

/**
 * Parse a direction spec, comma-separated key=value: drop=P, dup=P, reorder=P, corrupt=P, delay=US,
 * delay_p=P, jitter=US, reorder_us=US, dist=uniform|normal|exp, seed=N (seed goes to *seed when not
 * NULL). Probabilities may be given as fractions (0.01) or percentages (1%). "" and "off" are all
 * zero. 0 or -EINVAL (the offending key is named on stderr; not a data-path function).
 */
int gale_impair_parse(const char *spec, struct gale_impair_dir_conf *dir, uint64_t *seed);

/** True when a direction impairs anything. */
bool gale_impair_dir_active(const struct gale_impair_dir_conf *dir);

/**
 * Create impairment state for a port of nb_queues queues; copies and duplicates come from pool.
 * NULL with rte_errno set on failure (EINVAL for probabilities outside [0, 1]).
 */
struct gale_impair *gale_impair_create(const struct gale_impair_conf *conf, uint16_t nb_queues,
                                       struct rte_mempool *pool, int socket);

/** Free it and every packet it still holds. Accepts NULL. */
void gale_impair_free(struct gale_impair *imp);

/**
 * rte_eth_rx_burst through the impairments: receives up to n packets from (port_id, queue), applies
 * the rx impairments and returns up to n packets into pkts (the caller's), releasing due held ones
 * first. Also releases due held tx packets of the queue.
 */
uint16_t gale_impair_rx_burst(struct gale_impair *imp, uint16_t port_id, uint16_t queue,
                              struct rte_mbuf **pkts, uint16_t n);

/**
 * rte_eth_tx_burst through the impairments. Consumes all n packets (returns n): each is dropped,
 * held, or given to the device; what the device refuses is held for the next call (see above). n ==
 * 0 just releases due held packets.
 */
uint16_t gale_impair_tx_burst(struct gale_impair *imp, uint16_t port_id, uint16_t queue,
                              struct rte_mbuf **pkts, uint16_t n);

/** Packets held (delayed, reordered, refused by the device) on a queue, both directions. */
unsigned int gale_impair_held(const struct gale_impair *imp, uint16_t queue);

/**
 * Counters of one direction: of `queue`, or summed over all queues when queue == UINT16_MAX.
 * 0 or -EINVAL. Read from another thread they are a snapshot.
 */
int gale_impair_stats_get(const struct gale_impair *imp, enum gale_impair_dir dir, uint16_t queue,
                          struct gale_impair_stats *stats);

#endif /* GALE_IMPAIR_H */
