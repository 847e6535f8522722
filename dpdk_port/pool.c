/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-NUMA-socket packet-buffer pools (see gale/pool.h).
 *
 * libnuma gives the number of nodes; the EAL says which sockets have enabled lcores. A pool is made
 * on each such socket (memory from that socket's heap), so a worker's allocations stay local. Not
 * on the data path.
 */
#include <errno.h>
#include <numa.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gale/pool.h"

#define GALE_POOL_MAX_SOCKETS RTE_MAX_NUMA_NODES

static struct rte_mempool *gale__pools[GALE_POOL_MAX_SOCKETS];

int
gale_pool_numa_nodes(void)
{
	if (numa_available() < 0)
		return 1;
	return numa_num_configured_nodes() > 0 ? numa_num_configured_nodes() : 1;
}

int
gale_pool_init(const struct gale_pool_conf *conf)
{
	static const struct gale_pool_conf defaults;
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int lcore, socket, nb, cache, room;

	if (conf == NULL)
		conf = &defaults;
	nb = conf->nb_mbufs != 0 ? conf->nb_mbufs : 16383;
	cache = conf->cache != 0 ? conf->cache : 256;
	room = conf->data_room != 0 ? conf->data_room : RTE_MBUF_DEFAULT_BUF_SIZE;
	if (room > UINT16_MAX || cache > RTE_MEMPOOL_CACHE_MAX_SIZE)
		return -EINVAL;
	RTE_LCORE_FOREACH(lcore)
	{
		socket = rte_lcore_to_socket_id(lcore);
		if (socket >= GALE_POOL_MAX_SOCKETS || gale__pools[socket] != NULL)
			continue;
		snprintf(name, sizeof(name), "%.20s_s%u",
		         conf->name != NULL ? conf->name : "gale_pool", socket);
		gale__pools[socket] =
		        rte_pktmbuf_pool_create(name, nb, cache, 0, (uint16_t)room, (int)socket);
		if (gale__pools[socket] == NULL) {
			int err = rte_errno;

			gale_pool_fini();
			return -err;
		}
	}
	return 0;
}

struct rte_mempool *
gale_pool_get(int socket)
{
	unsigned int i;

	if (socket == SOCKET_ID_ANY)
		socket = (int)rte_socket_id();
	if (socket >= 0 && socket < GALE_POOL_MAX_SOCKETS && gale__pools[socket] != NULL)
		return gale__pools[socket];
	for (i = 0; i < GALE_POOL_MAX_SOCKETS; i++)
		if (gale__pools[i] != NULL)
			return gale__pools[i];
	return NULL;
}

void
gale_pool_fini(void)
{
	unsigned int i;

	for (i = 0; i < GALE_POOL_MAX_SOCKETS; i++) {
		rte_mempool_free(gale__pools[i]);
		gale__pools[i] = NULL;
	}
}
