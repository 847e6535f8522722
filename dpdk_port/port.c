/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port setup: configure queues, size the pool, start, wait for link.
 *
 * The pool is sized so that every rx ring can be full, every tx ring can be full, and each worker's mempool
 * cache and a burst in flight on each queue are covered; running out is back-pressure (rx stops refilling),
 * never a crash, but a pool smaller than the rings would stall the port at start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gale/port.h"

#define GALE_PORT_CACHE 256
#define GALE_PORT_BURST 32

int
gale_port_lookup(const char *name, uint16_t *port_id)
{
	char *end;
	unsigned long id;

	if (name == NULL || port_id == NULL)
		return -EINVAL;
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	id = strtoul(name, &end, 10);
	if (*name != '\0' && *end == '\0' && id < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port((uint16_t)id)) {
		*port_id = (uint16_t)id;
		return 0;
	}
	return -ENODEV;
}

int
gale_port_setup(struct gale_port *port, uint16_t port_id, const struct gale_port_conf *conf)
{
	static const struct gale_port_conf defaults;
	struct rte_eth_conf eth_conf;
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nb_rxd, nb_txd, q;
	unsigned int nb_mbufs, waited;
	int socket, ret;

	if (port == NULL)
		return -EINVAL;
	if (conf == NULL)
		conf = &defaults;
	memset(port, 0, sizeof(*port));
	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret != 0)
		return ret;

	port->port_id = port_id;
	port->nb_queues = conf->nb_queues != 0 ? conf->nb_queues : 1;
	if (port->nb_queues > info.max_rx_queues || port->nb_queues > info.max_tx_queues)
		return -EINVAL;
	nb_rxd = conf->nb_rxd != 0 ? conf->nb_rxd : 1024;
	nb_txd = conf->nb_txd != 0 ? conf->nb_txd : 1024;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		return ret;

	socket = rte_eth_dev_socket_id(port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	nb_mbufs = conf->nb_mbufs;
	if (nb_mbufs == 0)
		nb_mbufs = port->nb_queues * (nb_rxd + nb_txd + 2u * GALE_PORT_BURST) +
			   rte_lcore_count() * GALE_PORT_CACHE + 1024u;
	snprintf(pool_name, sizeof(pool_name), "gale_p%u", port_id);
	port->pool = rte_pktmbuf_pool_create(pool_name, nb_mbufs, GALE_PORT_CACHE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (port->pool == NULL)
		return -rte_errno;

	memset(&eth_conf, 0, sizeof(eth_conf));
	ret = rte_eth_dev_configure(port_id, port->nb_queues, port->nb_queues, &eth_conf);
	if (ret != 0)
		goto fail;
	if (conf->mtu != 0) {
		ret = rte_eth_dev_set_mtu(port_id, conf->mtu);
		if (ret != 0)
			goto fail;
	}
	for (q = 0; q < port->nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(port_id, q, nb_rxd, (unsigned int)socket, NULL, port->pool);
		if (ret != 0)
			goto fail;
		ret = rte_eth_tx_queue_setup(port_id, q, nb_txd, (unsigned int)socket, NULL);
		if (ret != 0)
			goto fail;
	}
	ret = rte_eth_dev_start(port_id);
	if (ret != 0)
		goto fail;
	if (conf->promiscuous)
		rte_eth_promiscuous_enable(port_id);
	else
		rte_eth_promiscuous_disable(port_id);
	rte_eth_macaddr_get(port_id, &port->mac);
	rte_eth_dev_get_name_by_port(port_id, port->name);

	/* Link wait: poll the link state for a bounded time (a condition, not a fixed sleep). */
	for (waited = 0;; waited += 10) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) {
			port->link_up = true;
			break;
		}
		if (waited >= (conf->link_wait_ms != 0 ? conf->link_wait_ms : 3000u))
			break;
		rte_delay_ms(10);
	}
	return 0;

fail:
	rte_eth_dev_close(port_id);
	rte_mempool_free(port->pool);
	port->pool = NULL;
	return ret < 0 ? ret : -ret;
}

void
gale_port_close(struct gale_port *port)
{
	if (port == NULL || port->pool == NULL)
		return;
	rte_eth_dev_stop(port->port_id);
	rte_eth_dev_close(port->port_id);
	rte_mempool_free(port->pool);
	port->pool = NULL;
}
