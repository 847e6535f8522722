/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-worker TCP/IP stacks (gale/runtime.h, "TCP/IP stacks"): one gale_stack per worker and port
 * that has a template, made and freed on the worker's own lcore, fed by the worker loop (worker.c)
 * and flushed by it after the work callback and after the timers.
 *
 * A stack transmits straight onto the worker's queue (gale_port_tx_burst: the stack keeps a
 * partial burst's tail and counts its drops itself, so the runtime's tx queue is not involved).
 * Its source-port picker is the port's steering object: a connection worker k opens gets a local
 * port whose reply tuple hashes to k, so its replies arrive on (or are steered to) k.
 *
 * ARP: a frame that is not a flow (ARP, ICMP) stays on the worker that received it, so only that
 * worker's stack learns a peer's MAC. Its arp_learn hook puts (port, ip, mac) into every other
 * worker's ARP ring (multi-producer, single-consumer, 16-byte elements); each worker empties its
 * ring every iteration into its own stack with gale_stack_arp_add, which also releases a frame
 * held waiting for that resolution. A full ring drops the mapping (counted: arp_share_dropped);
 * the worker then resolves it itself, as it would without sharing.
 *
 * Time: a stack's clock is the worker's wheel, which the loop advances after tx (worker.c), so
 * frames are input with the clock of the previous advance: at most one
 * iteration (or one idle sleep, 200 us in gale-echo) late. Advancing it before rx instead would run
 * due timers first and retransmit segments whose ACK is already waiting in the rx ring.
 *
 * Telemetry (/gale/stacks) reads stacks from the telemetry thread; a worker publishes and
 * withdraws its stack pointers under this file's mutex (at start and stop, never on the data
 * path), so a query never reads a freed stack. Counters are single-writer words (a reader may see
 * a slightly stale value, never a torn one on 64-bit targets).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_telemetry.h>

#include <gale/port.h>
#include <gale/steer.h>
#include <gale/tcp.h>
#include <gale/tcpstack.h>

#include "runtime_private.h"

/** One ARP mapping on its way to another worker (an rte_ring element of 16 bytes). */
struct gale__arp_msg {
	uint32_t ip;   /**< host order. */
	uint16_t port; /**< port index. */
	uint8_t mac[RTE_ETHER_ADDR_LEN];
	uint32_t pad;
};

#define GALE__ARP_RING  256
#define GALE__ARP_BURST 16

static pthread_mutex_t gale__stk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gale_runtime *gale__stk_rt;
static bool gale__stk_registered;

static uint16_t
gale__stack_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct gale__wstack *ws = ctx;
	struct gale_worker *w = ws->w;
	uint16_t sent;

	sent = gale_port_tx_burst(w->rt->ports[ws->port], (uint16_t)w->id, pkts, n);
	if (sent != 0)
		gale__stat_add(&w->st.tx_pkts, sent);
	return sent;
}

static int
gale__stack_port_pick(void *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport, uint16_t *lport)
{
	struct gale__wstack *ws = ctx;
	const struct gale_runtime *rt = ws->w->rt;
	const struct gale_stack_conf *t = rt->stack_tmpl[ws->port];
	uint16_t start = ws->sport_next;
	int ret;

	if (start < t->ephemeral_lo || start > t->ephemeral_hi)
		start = t->ephemeral_lo;
	ret = gale_steer_pick_sport(rt->steers[ws->port], (uint16_t)ws->w->id, laddr, raddr, rport,
	                            t->ephemeral_lo, t->ephemeral_hi, start, lport);
	if (ret == 0)
		ws->sport_next =
		        *lport == t->ephemeral_hi ? t->ephemeral_lo : (uint16_t)(*lport + 1);
	return ret == -ENOENT ? -EADDRNOTAVAIL : ret;
}

static void
gale__stack_arp_learn(void *ctx, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct gale__wstack *ws = ctx;
	struct gale_worker *w = ws->w;
	struct gale__arp_msg m;
	unsigned int k;

	memset(&m, 0, sizeof(m));
	m.ip = ip;
	m.port = ws->port;
	memcpy(m.mac, mac->addr_bytes, sizeof(m.mac));
	for (k = 0; k < w->rt->nb_workers; k++) {
		struct gale_worker *o = &w->rt->workers[k];

		if (o == w || o->arp_ring == NULL)
			continue;
		if (rte_ring_mp_enqueue_elem(o->arp_ring, &m, sizeof(m)) == 0)
			gale__stat_add(&w->st.arp_shared, 1);
		else
			gale__stat_add(&w->st.arp_share_dropped, 1);
	}
}

unsigned int
gale__worker_arp_drain(struct gale_worker *w)
{
	struct gale__arp_msg m[GALE__ARP_BURST];
	unsigned int n, i;

	if (w->arp_ring == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst_elem(w->arp_ring, m, sizeof(m[0]), GALE__ARP_BURST, NULL);
	for (i = 0; i < n; i++) {
		struct rte_ether_addr mac;

		if (m[i].port >= GALE_RUNTIME_MAX_PORTS || w->stacks[m[i].port].stack == NULL)
			continue;
		memcpy(mac.addr_bytes, m[i].mac, sizeof(m[i].mac));
		gale_stack_arp_add(w->stacks[m[i].port].stack, m[i].ip, &mac);
	}
	return n;
}

struct gale_stack *
gale_worker_stack(const struct gale_worker *w, uint16_t port)
{
	return port < GALE_RUNTIME_MAX_PORTS ? w->stacks[port].stack : NULL;
}

int
gale_worker_stack_port(const struct gale_worker *w)
{
	uint16_t p;

	for (p = 0; p < w->rt->nb_ports; p++)
		if (w->stacks[p].stack != NULL)
			return p;
	return -ENOENT;
}

int
gale__worker_stacks_start(struct gale_worker *w)
{
	struct gale_runtime *rt = w->rt;
	struct gale_stack_conf sc;
	uint16_t p;

	for (p = 0; p < rt->nb_ports; p++) {
		struct gale__wstack *ws = &w->stacks[p];
		struct gale_stack *st;

		ws->w = w;
		ws->port = p;
		if (rt->stack_tmpl[p] == NULL)
			continue;
		sc = *rt->stack_tmpl[p];
		sc.mac = rt->ports[p]->mac;
		sc.pool = rt->ports[p]->pool;
		sc.wheel = w->wheel;
		sc.worker_id = (uint16_t)w->id;
		sc.tx_burst = gale__stack_tx;
		sc.tx_ctx = ws;
		sc.port_pick = rt->steers[p] != NULL ? gale__stack_port_pick : NULL;
		sc.port_pick_ctx = ws;
		sc.arp_learn = rt->nb_workers > 1 ? gale__stack_arp_learn : NULL;
		sc.arp_learn_ctx = ws;
		/* The work callback answers what rx delivered before the stacks flush: its replies
		 * carry the ACKs (gale__worker_stacks_flush sends those still owed). */
		sc.ack_at_flush = true;
		/* Spread the workers' first source ports so their searches do not all start at lo.
		 */
		ws->sport_next =
		        (uint16_t)(sc.ephemeral_lo + (uint32_t)(sc.ephemeral_hi - sc.ephemeral_lo) *
		                                             w->id / rt->nb_workers);
		st = gale_stack_create(&sc);
		if (st == NULL) {
			int err = rte_errno != 0 ? rte_errno : ENOMEM;

			gale__worker_stacks_stop(w);
			return -err;
		}
		pthread_mutex_lock(&gale__stk_lock);
		ws->stack = st;
		pthread_mutex_unlock(&gale__stk_lock);
		if (w->id == 0)
			gale_stack_arp_announce(st);
	}
	return 0;
}

void
gale__worker_stacks_stop(struct gale_worker *w)
{
	uint16_t p;

	for (p = 0; p < GALE_RUNTIME_MAX_PORTS; p++) {
		struct gale_stack *st = w->stacks[p].stack;

		if (st == NULL)
			continue;
		gale_stack_flush(st); /* the last RSTs and FINs, when the device takes them */
		gale__stat_add(&w->st.stack_conns_left,
		               gale_stack_conn_count_in(
		                       st, ~(uint32_t)(GALE_TCPS_TIME_WAIT | GALE_TCPS_CLOSED)));
		pthread_mutex_lock(&gale__stk_lock);
		w->stacks[p].stack = NULL;
		pthread_mutex_unlock(&gale__stk_lock);
		gale_stack_free(st);
	}
}

int
gale__worker_flush_hook_add(struct gale_worker *w, void (*fn)(void *arg), void *arg)
{
	if (w->nflush_hooks == GALE__WORKER_FLUSH_HOOKS)
		return -ENOSPC;
	w->flush_hooks[w->nflush_hooks].fn = fn;
	w->flush_hooks[w->nflush_hooks].arg = arg;
	w->nflush_hooks++;
	return 0;
}

void
gale__worker_flush_hook_del(struct gale_worker *w, void (*fn)(void *arg), void *arg)
{
	unsigned int i;

	for (i = 0; i < w->nflush_hooks; i++)
		if (w->flush_hooks[i].fn == fn && w->flush_hooks[i].arg == arg) {
			w->flush_hooks[i] = w->flush_hooks[--w->nflush_hooks];
			return;
		}
}

unsigned int
gale__worker_stacks_flush(struct gale_worker *w)
{
	unsigned int sent = 0, i;
	uint16_t p;

	/* Output the iteration's callbacks held back (a native backend's), then the ACKs that
	 * none of it carried, then the frames. */
	for (i = 0; i < w->nflush_hooks; i++)
		w->flush_hooks[i].fn(w->flush_hooks[i].arg);

	for (p = 0; p < w->rt->nb_ports; p++)
		if (w->stacks[p].stack != NULL) {
			gale_stack_ack_flush(w->stacks[p].stack);
			sent += gale_stack_flush(w->stacks[p].stack);
		}
	return sent;
}

unsigned int
gale__worker_stacks_pending(const struct gale_worker *w)
{
	unsigned int n = 0;
	uint16_t p;

	/* Frames to send, and closes whose last data or FIN is not acknowledged yet. */
	for (p = 0; p < w->rt->nb_ports; p++)
		if (w->stacks[p].stack != NULL)
			n += gale_stack_tx_pending(w->stacks[p].stack) +
			     gale_stack_conn_count_in(w->stacks[p].stack,
			                              GALE_TCPS_FIN_WAIT_1 | GALE_TCPS_CLOSING |
			                                      GALE_TCPS_LAST_ACK);
	return n;
}

/* ---- telemetry ---- */

static void
gale__tel_stack(struct rte_tel_data *d, const struct gale_stack *st)
{
	const uint64_t *v = (const uint64_t *)gale_stack_stats(st);
	size_t i;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "conns", gale_stack_conn_count(st));
	rte_tel_data_add_dict_u64(d, "mbufs_held", gale_stack_mbufs_held(st));
	for (i = 0; i < GALE_STACK_NB_STATS; i++) {
		uint64_t x = __atomic_load_n(&v[i], __ATOMIC_RELAXED);

		if (x != 0)
			rte_tel_data_add_dict_u64(d, gale_stack_stat_names[i], x);
	}
}

static int
gale__tel_stacks(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gale_runtime *rt;
	unsigned int k, lo = 0, hi;
	char key[32];

	(void)cmd;
	pthread_mutex_lock(&gale__stk_lock);
	rt = gale__stk_rt;
	if (rt == NULL) {
		pthread_mutex_unlock(&gale__stk_lock);
		return -ENODEV;
	}
	hi = rt->nb_workers;
	if (params != NULL && params[0] != '\0') {
		char *end;
		unsigned long id = strtoul(params, &end, 10);

		if (*end != '\0' || id >= rt->nb_workers) {
			pthread_mutex_unlock(&gale__stk_lock);
			return -EINVAL;
		}
		lo = (unsigned int)id;
		hi = lo + 1;
	}
	rte_tel_data_start_dict(d);
	for (k = lo; k < hi; k++) {
		for (uint16_t p = 0; p < rt->nb_ports; p++) {
			const struct gale_stack *st = rt->workers[k].stacks[p].stack;
			struct rte_tel_data *c;

			if (st == NULL)
				continue;
			c = rte_tel_data_alloc();
			if (c == NULL)
				break;
			gale__tel_stack(c, st);
			snprintf(key, sizeof(key), "%u_%u", k,
			         p); /* telemetry keys: [A-Za-z0-9_/] */
			rte_tel_data_add_dict_container(d, key, c, 0);
		}
	}
	pthread_mutex_unlock(&gale__stk_lock);
	return 0;
}

int
gale__stacks_setup(struct gale_runtime *rt, const struct gale_runtime_conf *conf)
{
	bool any = false;
	unsigned int k;
	uint16_t p;
	char name[RTE_RING_NAMESIZE];

	for (p = 0; p < conf->nb_ports && conf->stacks != NULL; p++) {
		if (conf->stacks[p] == NULL)
			continue;
		if (conf->stacks[p]->ip == 0)
			return -EINVAL;
		rt->stack_tmpl[p] = malloc(sizeof(*rt->stack_tmpl[p]));
		if (rt->stack_tmpl[p] == NULL)
			return -ENOMEM;
		*rt->stack_tmpl[p] = *conf->stacks[p];
		if (rt->stack_tmpl[p]->ephemeral_lo == 0 || rt->stack_tmpl[p]->ephemeral_hi == 0 ||
		    rt->stack_tmpl[p]->ephemeral_lo > rt->stack_tmpl[p]->ephemeral_hi) {
			rt->stack_tmpl[p]->ephemeral_lo = 32768;
			rt->stack_tmpl[p]->ephemeral_hi = 60999;
		}
		any = true;
	}
	if (!any)
		return 0;
	for (k = 0; rt->nb_workers > 1 && k < rt->nb_workers; k++) {
		snprintf(name, sizeof(name), "%s_arp%u", rt->name, k);
		rt->workers[k].arp_ring = rte_ring_create_elem(
		        name, sizeof(struct gale__arp_msg), GALE__ARP_RING,
		        (int)rte_lcore_to_socket_id(rt->workers[k].lcore), RING_F_SC_DEQ);
		if (rt->workers[k].arp_ring == NULL)
			return -(rte_errno != 0 ? rte_errno : ENOMEM);
	}
	if (conf->telemetry) {
		pthread_mutex_lock(&gale__stk_lock);
		if (!gale__stk_registered) {
			rte_telemetry_register_cmd(
			        "/gale/stacks", gale__tel_stacks,
			        "Per-worker TCP/IP stack counters (non-zero), by "
			        "WORKER_PORT. Parameter: worker id (optional)");
			gale__stk_registered = true;
		}
		gale__stk_rt = rt;
		pthread_mutex_unlock(&gale__stk_lock);
	}
	return 0;
}

void
gale__stacks_teardown(struct gale_runtime *rt)
{
	unsigned int k;
	uint16_t p;

	pthread_mutex_lock(&gale__stk_lock);
	if (gale__stk_rt == rt)
		gale__stk_rt = NULL;
	pthread_mutex_unlock(&gale__stk_lock);
	for (k = 0; rt->workers != NULL && k < rt->nb_workers; k++) {
		rte_ring_free(rt->workers[k].arp_ring);
		rt->workers[k].arp_ring = NULL;
	}
	for (p = 0; p < GALE_RUNTIME_MAX_PORTS; p++) {
		free(rt->stack_tmpl[p]);
		rt->stack_tmpl[p] = NULL;
	}
}
