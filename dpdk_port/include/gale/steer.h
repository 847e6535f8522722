/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow steering: which worker owns a flow, how a connection we open gets its replies on our own
 * queue, and how a packet that arrived on the wrong worker reaches its owner.
 *
 * A flow is an IPv4 TCP or UDP 4-tuple. Its owner is `reta[hash & (reta_size - 1)]` where hash is
 * the Toeplitz hash of the tuple as the NIC sees it (src addr, dst addr, src port, dst port) under
 * gale's symmetric key (0x6d5a repeated): hash(a -> b) == hash(b -> a), so both directions of a
 * connection have one owner. With RSS (GALE_STEER_RSS) the NIC computes this hash and the port's
 * RETA (programmed by gale_port_setup as entry i -> queue i % workers) sends the packet to the
 * owner's queue directly. Without usable RSS (GALE_STEER_SW: memif, ring, af_packet, tap here) the
 * same hash is computed in software, from a byte-wise table built from the key (12 lookups per
 * packet; the table is checked against rte_softrss in the unit test), and a packet received by a
 * worker that does not own it goes to the owner through a single-producer single-consumer rte_ring,
 * one per (from, to) pair of workers: nothing is shared but the ring.
 *
 * Non-flow packets (ARP, ICMP, IPv6, IPv4 fragments, anything not IPv4 TCP/UDP) are not moved: they
 * belong to the worker that received them, which answers them on the spot (DESIGN.md: ARP and ICMP
 * answered at once). They are counted as `local`.
 *
 * Source ports: for a connection worker k opens, gale_steer_pick_sport returns a local port whose
 * reply tuple hashes (the NIC's hash, or ours) to an entry of the RETA that points to k. Toeplitz
 * is linear in its input, so the hash of a reply for port p is hash(tuple with port 0) XOR the hash
 * of p's bits alone: each candidate costs a few XORs, and about `workers` candidates are tried on
 * average.
 *
 * Threading: everything but the per-worker calls is set up before workers start and is read-only
 * afterwards. gale_steer_rx_burst and gale_steer_drain for worker k are called only by worker k;
 * they produce into and consume from k's own rings (SP/SC, the ring's release/acquire pairs order
 * the mbuf pointers).
 */
#ifndef GALE_STEER_H
#define GALE_STEER_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;

#define GALE_STEER_KEY_LEN     40  /**< bytes in an RSS key (the length every common NIC takes). */
#define GALE_STEER_RETA_MAX    512 /**< largest RETA modelled. */
#define GALE_STEER_MAX_WORKERS 64  /**< workers one steering object serves. */
#define GALE_STEER_NONE                                                                            \
	UINT16_MAX /**< "no owner": a non-flow packet (stays where it was received). */

/** gale's symmetric Toeplitz key: 0x6d, 0x5a repeated over GALE_STEER_KEY_LEN bytes. */
extern const uint8_t gale_steer_rss_key[GALE_STEER_KEY_LEN];

/** How flows reach their owner. */
enum gale_steer_mode {
	GALE_STEER_AUTO =
	        0, /**< RSS when the port can (RSS types for IPv4 TCP/UDP and a RETA), else SW. */
	GALE_STEER_RSS, /**< require the NIC's RSS; port setup fails with -ENOTSUP without it. */
	GALE_STEER_SW,  /**< never program RSS: software hash and forwarding rings. */
};

/** Name of a mode ("auto", "rss", "sw"). */
const char *gale_steer_mode_name(enum gale_steer_mode mode);

/** Parse "auto", "rss" or "sw". 0 or -EINVAL. */
int gale_steer_mode_parse(const char *s, enum gale_steer_mode *mode);

/** How to build a steering object. Zero fields take the defaults named. */
struct gale_steer_conf {
	uint16_t nb_workers; /**< workers (= queues); required, 1..GALE_STEER_MAX_WORKERS. */
	uint16_t reta_size;  /**< RETA entries, a power of two <= GALE_STEER_RETA_MAX; 0 = 128. */
	const uint16_t
	        *reta; /**< reta_size entries (worker ids); NULL = entry i -> i % nb_workers. */
	const uint8_t *key; /**< GALE_STEER_KEY_LEN bytes; NULL = gale_steer_rss_key. */
	bool rss; /**< the NIC steers (GALE_STEER_RSS in effect): no software hashing needed. */
	unsigned int ring_size; /**< forwarding ring slots per (from, to) pair, power of two; 0 =
	                           1024. */
	int socket;       /**< NUMA socket for the rings and tables; SOCKET_ID_ANY (-1) is fine. */
	const char *name; /**< unique name prefix for the rings; NULL = "gsteer<n>". */
};

/** Per-worker steering counters (written only by that worker). */
struct gale_steer_stats {
	uint64_t owned;     /**< flow packets received by their owner (kept). */
	uint64_t local;     /**< non-flow packets kept by the receiving worker. */
	uint64_t forwarded; /**< flow packets handed to another worker's ring. */
	uint64_t
	        fwd_dropped; /**< flow packets dropped (freed) because the owner's ring was full. */
	uint64_t drained;    /**< packets taken from this worker's inbound rings. */
};

struct gale_steer;

/** Create a steering object (rings, tables). NULL with rte_errno set on failure. Not on the data
 * path. */
struct gale_steer *gale_steer_create(const struct gale_steer_conf *conf);

/** Free it; packets still in its rings are freed. Accepts NULL. */
void gale_steer_free(struct gale_steer *steer);

/** True when the NIC steers (conf.rss). */
bool gale_steer_is_rss(const struct gale_steer *steer);

/**
 * The Toeplitz hash of an IPv4 4-tuple under the object's key, exactly as rte_softrss (and the NIC)
 * computes it. Addresses and ports in CPU byte order.
 */
uint32_t gale_steer_hash_v4(const struct gale_steer *steer, uint32_t src_addr, uint32_t dst_addr,
                            uint16_t src_port, uint16_t dst_port);

/** The worker owning a hash (its RETA entry). */
uint16_t gale_steer_owner_hash(const struct gale_steer *steer, uint32_t hash);

/**
 * The worker owning the packet's flow, or GALE_STEER_NONE for a non-flow packet. Borrows m. Uses
 * the NIC's RSS hash when the mbuf carries one (RTE_MBUF_F_RX_RSS_HASH), else computes it.
 */
uint16_t gale_steer_owner_mbuf(const struct gale_steer *steer, const struct rte_mbuf *m);

/**
 * Pick a local (source) port for a connection from local_addr to remote_addr:remote_port opened by
 * `worker`, so that the replies (remote -> local:port) hash to `worker`. Searches [lo, hi] starting
 * at `start` (wrapping); the caller skips ports it has in use by calling again with start =
 * previous + 1. Returns 0 and *port, -ENOENT when no port of the range maps to the worker, -EINVAL
 * on bad arguments. Addresses and ports in CPU byte order.
 */
int gale_steer_pick_sport(const struct gale_steer *steer, uint16_t worker, uint32_t local_addr,
                          uint32_t remote_addr, uint16_t remote_port, uint16_t lo, uint16_t hi,
                          uint16_t start, uint16_t *port);

/**
 * Worker `worker` received pkts[0..n): keep what it owns (flow packets it owns and non-flow
 * packets), moved to the front of pkts in arrival order, and hand every other flow packet to its
 * owner's ring. Consumes the packets it forwards (or drops, counted, when the owner's ring is
 * full); the kept ones stay the caller's. Returns the number kept. In RSS mode packets the NIC
 * already steered are kept without hashing.
 */
uint16_t gale_steer_rx_burst(struct gale_steer *steer, uint16_t worker, struct rte_mbuf **pkts,
                             uint16_t n);

/**
 * Worker `from` hands pkts[0..n) to worker `to` (a flow it knows belongs there). Consumes all n:
 * those the ring takes are forwarded, the rest freed and counted in fwd_dropped. Returns how many
 * were forwarded (with to == from or no such worker, none: all are freed and counted as dropped).
 */
uint16_t gale_steer_forward(struct gale_steer *steer, uint16_t from, uint16_t to,
                            struct rte_mbuf **pkts, uint16_t n);

/**
 * Worker `from` gives every other worker a reference to m (for state each worker keeps, such as an
 * ARP answer): the reference count is raised once per other worker and m goes into each one's ring.
 * Consumes those references only; `from` keeps its own, so it still owns m afterwards. Returns how
 * many workers got it; a full ring is a counted drop.
 */
unsigned int gale_steer_broadcast(struct gale_steer *steer, uint16_t from, struct rte_mbuf *m);

/**
 * Worker `worker` takes up to max packets other workers forwarded to it (from all its inbound
 * rings, round robin). The returned packets are the caller's. Returns how many.
 */
uint16_t gale_steer_drain(struct gale_steer *steer, uint16_t worker, struct rte_mbuf **pkts,
                          uint16_t max);

/**
 * Room left in the worker's outbound rings: the least free slots over the rings it forwards into
 * (UINT16_MAX capped; UINT16_MAX in RSS mode or with one worker). A worker that receives at most
 * this many packets per burst never drops for a full ring: the owner's slowness becomes
 * back-pressure on the device queue instead.
 */
unsigned int gale_steer_room(const struct gale_steer *steer, uint16_t worker);

/** Packets waiting in worker's inbound rings (for a drain loop at shutdown; any thread,
 * approximate). */
unsigned int gale_steer_pending(const struct gale_steer *steer, uint16_t worker);

/** Copy worker's counters (any thread; a snapshot, not atomic as a whole). 0 or -EINVAL. */
int gale_steer_stats_get(const struct gale_steer *steer, uint16_t worker,
                         struct gale_steer_stats *stats);

#endif /* GALE_STEER_H */
