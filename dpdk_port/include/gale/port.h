/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A gale port: one DPDK ethdev set up with one rx/tx queue pair per worker and a packet-buffer
 * pool.
 *
 * Queue k belongs to worker k and is polled only by it, so nothing here takes a lock. Works for any
 * ethdev the EAL probed: PCI NICs, net_tap, net_memif, net_ring, net_af_packet, net_af_xdp.
 *
 * Setup discovers the port's offloads (gale/offload.h) and enables the useful ones it has (unless
 * told not to); programs RSS with gale's symmetric key and a RETA spreading entries over the queues
 * when the steering mode asks for it and the port can (gale/steer.h); and takes its mbufs from the
 * per-NUMA-socket pool of the device's socket (gale/pool.h) or from a pool of its own.
 *
 * Workers receive and send with gale_port_rx_burst / gale_port_tx_burst: a direct rte_eth_*_burst
 * call unless an impairment (gale/impair.h) is attached, one predictable branch otherwise.
 */
#ifndef GALE_PORT_H
#define GALE_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_ether.h>

#include <gale/impair.h>
#include <gale/offload.h>
#include <gale/steer.h>

struct rte_mempool;

/** How to set a port up; zero fields take the defaults named. */
struct gale_port_conf {
	uint16_t nb_queues;    /**< rx/tx queue pairs, one per worker; 0 = 1. */
	uint16_t nb_rxd;       /**< rx descriptors per queue; 0 = 1024. */
	uint16_t nb_txd;       /**< tx descriptors per queue; 0 = 1024. */
	uint16_t mtu;          /**< 0 = leave the device default. */
	unsigned int nb_mbufs; /**< pool size; 0 = enough for every ring plus bursts in flight. */
	unsigned int link_wait_ms; /**< how long to wait for link up; 0 = 3000. */
	bool promiscuous;          /**< default off. */
	enum gale_steer_mode
	        steer;    /**< RSS programming: auto (default), rss (required) or sw (never). */
	bool no_offloads; /**< enable no offload even when the port has it (tests the fallbacks). */
	struct rte_mempool
	        *pool; /**< use this pool (not freed by close); NULL = the port makes its own. */
	unsigned int mbuf_size;  /**< data room per mbuf when the port makes its pool; 0 =
	                            RTE_MBUF_DEFAULT_BUF_SIZE. */
	unsigned int pool_cache; /**< per-lcore cache of that pool; 0 = 256. */
};

/** A port that is up. Caller-owned; released by gale_port_close. */
struct gale_port {
	uint16_t port_id;          /**< ethdev port id. */
	uint16_t nb_queues;        /**< queue pairs configured. */
	struct rte_mempool *pool;  /**< rx buffers and tx buffers of this port. */
	struct rte_ether_addr mac; /**< the port's MAC address. */
	char name[64];             /**< ethdev name, e.g. "net_tap0". */
	bool link_up;              /**< link reported up within link_wait_ms. */
	bool own_pool;             /**< pool was made by setup (freed by close). */
	bool rss;           /**< RSS programmed: the NIC steers flows to their owner's queue. */
	uint16_t reta_size; /**< RETA entries programmed (entry i -> queue i % nb_queues); 0 without
	                       RSS. */
	int socket;         /**< NUMA socket of the device (or of the caller when unknown). */
	struct gale_offloads capa;  /**< what the device can do. */
	struct gale_offloads on;    /**< what is enabled (pass to gale_offload_tx_prepare_burst). */
	struct gale_impair *impair; /**< attached impairment, NULL when off (the default). */
};

/** Find a port by ethdev name ("net_tap0") or by decimal port id ("0"). 0 or -ENODEV. */
int gale_port_lookup(const char *name, uint16_t *port_id);

/**
 * Configure and start port_id with conf. On success fills port and returns 0; else a negative errno
 * and the port is left stopped with nothing allocated.
 */
int gale_port_setup(struct gale_port *port, uint16_t port_id, const struct gale_port_conf *conf);

/**
 * Stop and close the port, free its attached impairment and, if it made it, its pool. Accepts NULL
 * and a port that was never set up.
 */
void gale_port_close(struct gale_port *port);

/**
 * Attach impairments (a copy of conf) to a port before its workers start; NULL conf detaches and
 * frees them. Not thread-safe against running workers. 0 or a negative errno. Corruption on tx
 * clears port->on.tso (read it after this call): the device would checksum a corrupted TSO
 * segment's frames after the damage.
 */
int gale_port_impair_set(struct gale_port *port, const struct gale_impair_conf *conf);

/**
 * A steering object matching the port: the port's RETA model and key when RSS is on, the software
 * path otherwise. ring_size 0 = 1024. NULL with rte_errno set on failure.
 */
struct gale_steer *gale_port_steer_create(const struct gale_port *port, unsigned int ring_size);

/**
 * Extended statistics by name: for each of names[0..n), values[i] gets the counter's value, or
 * UINT64_MAX when the port has no counter of that name. Returns how many were found, or a negative
 * errno. Not on the data path.
 */
int gale_port_xstats_get(uint16_t port_id, const char *const *names, uint64_t *values,
                         unsigned int n);

/**
 * Call cb for every extended statistic of the port (name, value), in the port's order, skipping
 * zero values when nonzero_only. Returns the number of statistics or a negative errno. Not on the
 * data path.
 */
int gale_port_xstats_foreach(uint16_t port_id, bool nonzero_only,
                             void (*cb)(const char *name, uint64_t value, void *arg), void *arg);

/**
 * Make a crossed pair of net_ring ports in this process: what is sent on queue q of *port_a arrives on queue q
 * of *port_b and the other way round (an rte_ring per direction and queue, single producer and consumer).
 * Ports are named "<name>_a" and "<name>_b"; ring_size 0 = 1024 (a power of two). Set them up with
 * gale_port_setup. The rings live until the EAL is cleaned up. 0 or a negative errno.
 */
int
gale_port_ring_pair(const char *name, uint16_t nb_queues, unsigned int ring_size, int socket, uint16_t *port_a,
		    uint16_t *port_b);

/** Receive up to n packets on queue q; they become the caller's. Impaired when an impairment is
 * attached. */
static inline uint16_t
gale_port_rx_burst(const struct gale_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	if (__builtin_expect(port->impair == NULL, 1))
		return rte_eth_rx_burst(port->port_id, q, pkts, n);
	return gale_impair_rx_burst(port->impair, port->port_id, q, pkts, n);
}

/**
 * Send up to n packets on queue q. Consumes the first `returned` packets; the tail is the caller's
 * to keep or free. (With an impairment attached, all n are consumed.)
 */
static inline uint16_t
gale_port_tx_burst(const struct gale_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	if (__builtin_expect(port->impair == NULL, 1))
		return rte_eth_tx_burst(port->port_id, q, pkts, n);
	return gale_impair_tx_burst(port->impair, port->port_id, q, pkts, n);
}

#endif /* GALE_PORT_H */
