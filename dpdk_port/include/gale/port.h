/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A gale port: one DPDK ethdev set up with one rx/tx queue pair per worker and a packet-buffer pool.
 *
 * Queue k belongs to worker k and is polled only by it, so nothing here takes a lock. Works for any ethdev the
 * EAL probed: PCI NICs, net_tap, net_memif, net_ring, net_af_packet, net_af_xdp.
 */
#ifndef GALE_PORT_H
#define GALE_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mempool;

/** How to set a port up; zero fields take the defaults named. */
struct gale_port_conf {
	uint16_t nb_queues;     /**< rx/tx queue pairs, one per worker; 0 = 1. */
	uint16_t nb_rxd;        /**< rx descriptors per queue; 0 = 1024. */
	uint16_t nb_txd;        /**< tx descriptors per queue; 0 = 1024. */
	uint16_t mtu;           /**< 0 = leave the device default. */
	unsigned int nb_mbufs;  /**< pool size; 0 = enough for every ring plus bursts in flight. */
	unsigned int link_wait_ms; /**< how long to wait for link up; 0 = 3000. */
	bool promiscuous;       /**< default off. */
};

/** A port that is up. Caller-owned; released by gale_port_close. */
struct gale_port {
	uint16_t port_id;          /**< ethdev port id. */
	uint16_t nb_queues;        /**< queue pairs configured. */
	struct rte_mempool *pool;  /**< rx buffers and tx buffers of this port. */
	struct rte_ether_addr mac; /**< the port's MAC address. */
	char name[64];             /**< ethdev name, e.g. "net_tap0". */
	bool link_up;              /**< link reported up within link_wait_ms. */
};

/** Find a port by ethdev name ("net_tap0") or by decimal port id ("0"). 0 or -ENODEV. */
int
gale_port_lookup(const char *name, uint16_t *port_id);

/**
 * Configure and start port_id with conf. On success fills port and returns 0; else a negative errno and the
 * port is left stopped with nothing allocated.
 */
int
gale_port_setup(struct gale_port *port, uint16_t port_id, const struct gale_port_conf *conf);

/** Stop and close the port and free its pool. Accepts NULL and a port that was never set up. */
void
gale_port_close(struct gale_port *port);

#endif /* GALE_PORT_H */
