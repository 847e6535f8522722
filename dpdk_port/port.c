/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port setup: configure queues, size the pool, start, wait for link.
 *
 * The pool is sized so that every rx ring can be full, every tx ring can be full, and each worker's
 * mempool cache and a burst in flight on each queue are covered; running out is back-pressure (rx
 * stops refilling), never a crash, but a pool smaller than the rings would stall the port at
 * start-up.
 *
 * Offloads: every useful one the device reports is enabled unless the caller says no_offloads; what
 * is on is recorded in port->on for gale_offload_tx_prepare_burst. RSS: with steer auto or rss, and
 * a device that hashes IPv4 TCP and UDP and has a RETA, the port gets gale's symmetric key and a
 * RETA of entry i -> queue i % queues. net_tap is never given RSS in auto mode: its RSS needs the
 * multiq qdisc this kernel lacks, and the kernel spreads flows over the tap queues by its own hash
 * (DESIGN.md), so the software path steers there. When the device refuses the key or the RETA, auto
 * falls back to software steering and rss fails with -ENOTSUP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_eth_ring.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "gale/impair.h"
#include "gale/offload.h"
#include "gale/port.h"
#include "gale/steer.h"

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
	if (*name != '\0' && *end == '\0' && id < RTE_MAX_ETHPORTS &&
	    rte_eth_dev_is_valid_port((uint16_t)id)) {
		*port_id = (uint16_t)id;
		return 0;
	}
	return -ENODEV;
}

static int
gale__rss_reta_program(uint16_t port_id, uint16_t reta_size, uint16_t nb_queues)
{
	struct rte_eth_rss_reta_entry64 reta[GALE_STEER_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	unsigned int i;

	if (reta_size == 0 || reta_size > GALE_STEER_RETA_MAX || !rte_is_power_of_2(reta_size))
		return -ENOTSUP;
	memset(reta, 0, sizeof(reta));
	for (i = 0; i < reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
		        (uint16_t)(i % nb_queues);
	}
	return rte_eth_dev_rss_reta_update(port_id, reta, reta_size);
}

/* gale's symmetric key at the device's key length: 0x6d, 0x5a repeated is symmetric at any length,
 * and the IPv4 4-tuple hash only reads its first 16 bytes, which gale_steer_rss_key shares. */
static uint8_t gale__rss_key[256];

static void
gale__eth_conf(struct rte_eth_conf *ec, const struct gale_offloads *on, bool rss, uint64_t rss_hf,
               uint8_t key_len)
{
	memset(ec, 0, sizeof(*ec));
	if (on->rx_ipv4_cksum)
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if (on->rx_tcp_cksum)
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if (on->rx_udp_cksum)
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if (on->tx_ipv4_cksum)
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	if (on->tx_tcp_cksum)
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	if (on->tx_udp_cksum)
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if (on->tso)
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	if (on->multi_seg)
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (rss) {
		ec->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		unsigned int i;

		for (i = 0; i < key_len; i++)
			gale__rss_key[i] = i % 2 == 0 ? 0x6d : 0x5a;
		ec->rx_adv_conf.rss_conf.rss_key = gale__rss_key;
		ec->rx_adv_conf.rss_conf.rss_key_len = key_len;
		ec->rx_adv_conf.rss_conf.rss_hf = rss_hf;
		if (on->rx_rss_hash)
			ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
	}
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
	uint64_t rss_hf = 0;
	uint8_t key_len;
	bool want_rss;
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
	if (conf->steer != GALE_STEER_AUTO && conf->steer != GALE_STEER_RSS &&
	    conf->steer != GALE_STEER_SW)
		return -EINVAL;
	nb_rxd = conf->nb_rxd != 0 ? conf->nb_rxd : 1024;
	nb_txd = conf->nb_txd != 0 ? conf->nb_txd : 1024;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		return ret;
	ret = gale_offload_discover(port_id, &port->capa);
	if (ret != 0)
		return ret;
	if (!conf->no_offloads) {
		port->on = port->capa;
		port->on.rss_types = 0;
		port->on.reta_size = 0;
		port->on.rx_rss_hash = false;
	}

	/* RSS: IPv4 TCP and UDP 4-tuple hashing and a RETA are what steering needs. */
	rss_hf = info.flow_type_rss_offloads &
	         (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_IPV4);
	want_rss = conf->steer != GALE_STEER_SW &&
	           (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0 &&
	           (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_UDP) != 0 &&
	           info.reta_size != 0 && info.reta_size <= GALE_STEER_RETA_MAX &&
	           !(conf->steer == GALE_STEER_AUTO && info.driver_name != NULL &&
	             strcmp(info.driver_name, "net_tap") == 0);
	if (conf->steer == GALE_STEER_RSS && !want_rss)
		return -ENOTSUP;
	key_len = info.hash_key_size != 0 ? info.hash_key_size : GALE_STEER_KEY_LEN;
	if (key_len < 16) /* too short for a 4-tuple hash (12 bytes of input + 4) */
		want_rss = false;
	if (conf->steer == GALE_STEER_RSS && !want_rss)
		return -ENOTSUP;

	socket = rte_eth_dev_socket_id(port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	port->socket = socket;
	if (conf->pool != NULL) {
		port->pool = conf->pool;
	} else {
		nb_mbufs = conf->nb_mbufs;
		if (nb_mbufs == 0)
			nb_mbufs = port->nb_queues * (nb_rxd + nb_txd + 2u * GALE_PORT_BURST) +
			           rte_lcore_count() * GALE_PORT_CACHE + 1024u;
		snprintf(pool_name, sizeof(pool_name), "gale_p%u", port_id);
		port->pool = rte_pktmbuf_pool_create(
		        pool_name, nb_mbufs,
		        conf->pool_cache != 0 ? conf->pool_cache : GALE_PORT_CACHE, 0,
		        (uint16_t)(conf->mbuf_size != 0 ? conf->mbuf_size
		                                        : RTE_MBUF_DEFAULT_BUF_SIZE),
		        socket);
		if (port->pool == NULL)
			return -rte_errno;
		port->own_pool = true;
	}

	gale__eth_conf(&eth_conf, &port->on, want_rss, rss_hf, key_len);
	ret = rte_eth_dev_configure(port_id, port->nb_queues, port->nb_queues, &eth_conf);
	if (ret != 0 && want_rss && conf->steer == GALE_STEER_AUTO) {
		want_rss = false;
		gale__eth_conf(&eth_conf, &port->on, false, 0, key_len);
		ret = rte_eth_dev_configure(port_id, port->nb_queues, port->nb_queues, &eth_conf);
	}
	if (ret != 0)
		goto fail;
	if (want_rss) {
		ret = gale__rss_reta_program(port_id, info.reta_size, port->nb_queues);
		if (ret != 0 && conf->steer == GALE_STEER_AUTO) {
			want_rss = false;
			gale__eth_conf(&eth_conf, &port->on, false, 0, key_len);
			ret = rte_eth_dev_configure(port_id, port->nb_queues, port->nb_queues,
			                            &eth_conf);
		}
		if (ret != 0) {
			ret = ret == -ENOTSUP ? -ENOTSUP : ret;
			goto fail;
		}
	}
	if (want_rss) {
		port->rss = true;
		port->reta_size = info.reta_size;
		port->on.rss_types = rss_hf;
		port->on.reta_size = info.reta_size;
		port->on.rx_rss_hash = port->capa.rx_rss_hash;
	}
	if (conf->mtu != 0) {
		ret = rte_eth_dev_set_mtu(port_id, conf->mtu);
		if (ret != 0)
			goto fail;
	}
	if (port->capa.tso && info.driver_name != NULL &&
	    strcmp(info.driver_name, "net_tap") == 0) {
		uint16_t mtu = 1500;

		/* net_tap compares each frame it cuts, Ethernet header included, with its MTU. */
		(void)rte_eth_dev_get_mtu(port_id, &mtu);
		port->capa.tso_frame_max = mtu;
		if (port->on.tso)
			port->on.tso_frame_max = mtu;
	}
	for (q = 0; q < port->nb_queues; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;

		rxc.offloads = eth_conf.rxmode.offloads;
		txc.offloads = eth_conf.txmode.offloads;
		ret = rte_eth_rx_queue_setup(port_id, q, nb_rxd, (unsigned int)socket, &rxc,
		                             port->pool);
		if (ret != 0)
			goto fail;
		ret = rte_eth_tx_queue_setup(port_id, q, nb_txd, (unsigned int)socket, &txc);
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
		if (rte_eth_link_get_nowait(port_id, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP) {
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
	if (port->own_pool)
		rte_mempool_free(port->pool);
	port->pool = NULL;
	port->own_pool = false;
	return ret < 0 ? ret : -ret;
}

static int gale__intr_barrier_done;

static void
gale__intr_barrier_cb(void *arg)
{
	(void)arg;
	__atomic_store_n(&gale__intr_barrier_done, 1, __ATOMIC_RELEASE);
}

/*
 * Wait until the EAL interrupt thread has finished what it is running, by running a callback there (it runs its
 * events one at a time) and waiting for it, at most a second. Why: when a net_memif peer leaves, DPDK 22.11 tears
 * the control channel down from the interrupt thread (memif_disconnect) without a lock against dev_stop doing
 * the same from ours; stopping while that runs is a use-after-free (seen as SIGSEGV in rte_eth_dev_stop in
 * about 1 run in 5 of the memif-pair test). By the time the link reads down, that handler is running or done.
 */
static void
gale__intr_thread_barrier(void)
{
	unsigned int i;

	__atomic_store_n(&gale__intr_barrier_done, 0, __ATOMIC_RELAXED);
	if (rte_eal_alarm_set(1, gale__intr_barrier_cb, NULL) != 0)
		return;
	for (i = 0; i < 1000 && !__atomic_load_n(&gale__intr_barrier_done, __ATOMIC_ACQUIRE); i++)
		rte_delay_us_sleep(1000);
	if (!__atomic_load_n(&gale__intr_barrier_done, __ATOMIC_ACQUIRE))
		rte_eal_alarm_cancel(gale__intr_barrier_cb, NULL);
}

void
gale_port_close(struct gale_port *port)
{
	struct rte_eth_link link;

	if (port == NULL || port->pool == NULL)
		return;
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(port->port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_DOWN)
		gale__intr_thread_barrier(); /* a peer that left may still be being torn down */
	rte_eth_dev_stop(port->port_id);
	rte_eth_dev_close(port->port_id);
	gale_impair_free(port->impair);
	port->impair = NULL;
	if (port->own_pool)
		rte_mempool_free(port->pool);
	port->pool = NULL;
	port->own_pool = false;
}

int
gale_port_impair_set(struct gale_port *port, const struct gale_impair_conf *conf)
{
	struct gale_impair *imp = NULL;

	if (port == NULL || port->pool == NULL)
		return -EINVAL;
	if (conf != NULL) {
		imp = gale_impair_create(conf, port->nb_queues, port->pool, port->socket);
		if (imp == NULL)
			return -rte_errno;
	}
	gale_impair_free(port->impair);
	port->impair = imp;
	/* A corrupted TSO segment would be cut and checksummed by the device after the damage, so
	 * nobody could detect it: with tx corruption the port's TSO is not used (port->on.tso). */
	if (conf != NULL && conf->tx.corrupt > 0)
		port->on.tso = false;
	return 0;
}

struct gale_steer *
gale_port_steer_create(const struct gale_port *port, unsigned int ring_size)
{
	struct gale_steer_conf sc = {
		.nb_workers = port->nb_queues,
		.reta_size = port->rss ? port->reta_size : 0,
		.rss = port->rss,
		.ring_size = ring_size,
		.socket = port->socket,
	};

	return gale_steer_create(&sc);
}

int
gale_port_xstats_get(uint16_t port_id, const char *const *names, uint64_t *values, unsigned int n)
{
	unsigned int i, found = 0;
	uint64_t id;

	if ((names == NULL || values == NULL) && n != 0)
		return -EINVAL;
	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	for (i = 0; i < n; i++) {
		values[i] = UINT64_MAX;
		if (rte_eth_xstats_get_id_by_name(port_id, names[i], &id) != 0)
			continue;
		if (rte_eth_xstats_get_by_id(port_id, &id, &values[i], 1) == 1)
			found++;
		else
			values[i] = UINT64_MAX;
	}
	return (int)found;
}

int
gale_port_xstats_foreach(uint16_t port_id, bool nonzero_only,
                         void (*cb)(const char *name, uint64_t value, void *arg), void *arg)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *xs = NULL;
	int n, got, i, ret;

	if (cb == NULL)
		return -EINVAL;
	n = rte_eth_xstats_get_names(port_id, NULL, 0);
	if (n < 0)
		return n;
	names = calloc((size_t)n + 1, sizeof(*names));
	xs = calloc((size_t)n + 1, sizeof(*xs));
	ret = -ENOMEM;
	if (names == NULL || xs == NULL)
		goto out;
	ret = rte_eth_xstats_get_names(port_id, names, (unsigned int)n);
	got = rte_eth_xstats_get(port_id, xs, (unsigned int)n);
	if (ret < 0 || got < 0) {
		ret = ret < 0 ? ret : got;
		goto out;
	}
	for (i = 0; i < got && i < n; i++)
		if (!nonzero_only || xs[i].value != 0)
			cb(names[xs[i].id].name, xs[i].value, arg);
	ret = got;
out:
	free(names);
	free(xs);
	return ret;
}

int
gale_port_ring_pair(const char *name, uint16_t nb_queues, unsigned int ring_size, int socket,
                    uint16_t *port_a, uint16_t *port_b)
{
	struct rte_ring *ab[RTE_PMD_RING_MAX_RX_RINGS], *ba[RTE_PMD_RING_MAX_RX_RINGS];
	char rname[RTE_RING_NAMESIZE], pname[64];
	unsigned int q;
	int a, b;

	if (name == NULL || port_a == NULL || port_b == NULL || nb_queues == 0 ||
	    nb_queues > RTE_PMD_RING_MAX_RX_RINGS || nb_queues > RTE_PMD_RING_MAX_TX_RINGS)
		return -EINVAL;
	if (ring_size == 0)
		ring_size = 1024;
	for (q = 0; q < nb_queues; q++) {
		snprintf(rname, sizeof(rname), "%.20s_ab%u", name, q);
		ab[q] = rte_ring_create(rname, ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(rname, sizeof(rname), "%.20s_ba%u", name, q);
		ba[q] = rte_ring_create(rname, ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (ab[q] == NULL || ba[q] == NULL)
			return -rte_errno;
	}
	snprintf(pname, sizeof(pname), "%s_a", name);
	a = rte_eth_from_rings(pname, ba, nb_queues, ab, nb_queues,
	                       (unsigned int)(socket < 0 ? 0 : socket));
	snprintf(pname, sizeof(pname), "%s_b", name);
	b = rte_eth_from_rings(pname, ab, nb_queues, ba, nb_queues,
	                       (unsigned int)(socket < 0 ? 0 : socket));
	if (a < 0 || b < 0)
		return -rte_errno;
	*port_a = (uint16_t)a;
	*port_b = (uint16_t)b;
	return 0;
}
