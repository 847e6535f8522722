/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet-buffer pools, one per NUMA socket, sized from configuration.
 *
 * Buffers a worker allocates should come from the pool of the socket its core and its port sit on:
 * a pool on the wrong socket turns every packet touch into a remote memory access. gale_pool_init
 * makes one pool per socket that has an enabled lcore (libnuma tells how many nodes exist; DPDK
 * which lcores run where), all of one size; gale_pool_get returns the pool for a socket (falling
 * back to any pool when that socket has none, e.g. a device on a socket with no worker). Set up
 * before workers start, freed after they stopped.
 */
#ifndef GALE_POOL_H
#define GALE_POOL_H

#include <stdint.h>

struct rte_mempool;

/** Pool sizes; zero fields take the defaults named. */
struct gale_pool_conf {
	unsigned int nb_mbufs;  /**< mbufs per socket pool; 0 = 16383. */
	unsigned int cache;     /**< per-lcore cache; 0 = 256. */
	unsigned int data_room; /**< data room per mbuf (headroom included); 0 =
	                           RTE_MBUF_DEFAULT_BUF_SIZE. */
	const char *name;       /**< name prefix; NULL = "gale_pool". */
};

/** NUMA nodes on this machine according to libnuma (1 when libnuma reports NUMA unavailable). */
int gale_pool_numa_nodes(void);

/** Make one pool per socket used by an enabled lcore. 0 or a negative errno (nothing left
 * allocated). */
int gale_pool_init(const struct gale_pool_conf *conf);

/** The pool for socket (a socket id, or SOCKET_ID_ANY for the caller's); NULL before
 * gale_pool_init. */
struct rte_mempool *gale_pool_get(int socket);

/** Free every pool made by gale_pool_init (callers must have returned their mbufs). */
void gale_pool_fini(void);

#endif /* GALE_POOL_H */
