/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stack instance: configuration defaults, creation, Ethernet II input dispatch, the tx queue
 * and the counters' names.
 *
 * Everything is allocated here, once, with rte_zmalloc on the pool's socket: connection blocks, the
 * 4-tuple table, reassembly slots, listeners and the ARP cache. The data path allocates only packet
 * buffers.
 *
 * The connection table is our own open-addressing table (linear probing, backward-shift deletion,
 * twice as many pointer slots as connections) rather than rte_hash: it never allocates, needs no
 * lock or multi-writer support (one worker owns it), compares the 4-tuple inline in the control
 * block, and the hash is SipHash under the stack's secret so that a peer cannot aim collisions at
 * one slot chain. rte_hash would add a key copy, a second indirection to reach the control block
 * and its own locking modes we would have to turn off.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "stack_var.h"
#include "tcp_var.h"

const char *const gale_stack_stat_names[] = {
#define GALE__STACK_STAT_NAME(name, desc) #name,
	GALE_STACK_STATS(GALE__STACK_STAT_NAME)
#undef GALE__STACK_STAT_NAME
};

void
gale_stack_conf_init(struct gale_stack_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->netmask = 0xffffff00u;
	conf->mtu = 1500;
	conf->max_conns = 4096;
	conf->max_listeners = 16;
	conf->arp_entries = 256;
	conf->arp_retry_us = 200000;
	conf->arp_retries = 3;
	conf->arp_ttl_us = 300000000u;
	conf->icmp_rate = 1000;
	conf->rcvbuf = 256 * 1024;
	conf->sndbuf = 256 * 1024;
	conf->reass_max_segs = 64;
	conf->rto_min_us = 5000;
	conf->rto_max_us = 60000000u;
	conf->rto_init_us = 1000000u;
	conf->syn_retries = 6;
	conf->data_retries = 15;
	conf->delack_us = 0;
	conf->msl_us = 30000000u;
	conf->keepalive_idle_us = 0;
	conf->keepalive_intvl_us = 75000000u;
	conf->keepalive_probes = 9;
	conf->syn_backlog = 256;
	conf->challenge_ack_limit = 1000;
	conf->ephemeral_lo = 32768;
	conf->ephemeral_hi = 60999;
	conf->cc = GALE_TCP_CC_NEWRENO;
	conf->syncookies = true;
	conf->nagle = false;
	conf->timestamps = true;
	conf->window_scaling = true;
	conf->sack = true;
}

static uint32_t
gale__pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

struct gale_stack *
gale_stack_create(const struct gale_stack_conf *conf)
{
	struct gale_stack *s;
	int socket;
	uint32_t arp_n;

	if (conf == NULL || conf->pool == NULL || conf->wheel == NULL || conf->tx_burst == NULL ||
	    conf->ip == 0 || conf->max_conns == 0 || conf->max_conns > (1u << 24) ||
	    conf->mtu < 576 || conf->rcvbuf < 2048 || conf->sndbuf < 2048 ||
	    conf->arp_entries == 0 || conf->ephemeral_lo == 0 ||
	    conf->ephemeral_hi < conf->ephemeral_lo || conf->rto_min_us == 0 ||
	    conf->rto_max_us < conf->rto_min_us || conf->msl_us == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	socket = conf->pool->socket_id;
	s = rte_zmalloc_socket("gale_stack", sizeof(*s), RTE_CACHE_LINE_SIZE, socket);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	s->conf = *conf;
	if (s->conf.isn_secret[0] == 0 && s->conf.isn_secret[1] == 0) {
		s->conf.isn_secret[0] = rte_rand();
		s->conf.isn_secret[1] = rte_rand();
	}
	if (s->conf.reass_max_segs == 0)
		s->conf.reass_max_segs = 1;
	if (s->conf.max_listeners == 0)
		s->conf.max_listeners = 1;
	arp_n = gale__pow2(conf->arp_entries);
	s->arp = rte_zmalloc_socket("gale_arp", sizeof(*s->arp) * arp_n, RTE_CACHE_LINE_SIZE,
	                            socket);
	s->arp_mask = arp_n - 1;
	s->listeners =
	        rte_zmalloc_socket("gale_listen", sizeof(*s->listeners) * s->conf.max_listeners,
	                           RTE_CACHE_LINE_SIZE, socket);
	s->next_ephemeral =
	        conf->ephemeral_lo +
	        (uint16_t)(rte_rand() % ((uint32_t)conf->ephemeral_hi - conf->ephemeral_lo + 1));
	s->icmp_tokens = s->conf.icmp_rate;
	gale_timer_init(&s->arp_timer, gale__arp_timer_cb, s);
	if (s->arp == NULL || s->listeners == NULL || gale__tcp_init(s) < 0) {
		gale_stack_free(s);
		rte_errno = ENOMEM;
		return NULL;
	}
	s->icmp_bucket_us = gale__now_us(s);
	return s;
}

void
gale_stack_free(struct gale_stack *s)
{
	unsigned int i;

	if (s == NULL)
		return;
	s->freeing = true;
	if (s->conns != NULL)
		gale__tcp_free_all(s);
	if (s->arp != NULL) {
		gale__arp_flush_all(s);
		gale_timer_cancel(s->conf.wheel, &s->arp_timer);
	}
	for (i = 0; i < s->txq_len; i++)
		rte_pktmbuf_free(s->txq[i]);
	rte_free(s->conns);
	rte_free(s->table);
	rte_free(s->reass_mem);
	rte_free(s->listeners);
	rte_free(s->arp);
	rte_free(s);
}

uint64_t
gale__now_us(const struct gale_stack *s)
{
	return gale_timer_wheel_now(s->conf.wheel);
}

struct rte_mbuf *
gale__pkt_alloc(struct gale_stack *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->conf.pool);

	if (m == NULL)
		GALE__STAT(s, tx_nombuf);
	return m;
}

/*
 * A head frame refused for long enough (GALE_STACK_TX_STUCK_*) goes: a device that will never take
 * it (too long for it, say) would otherwise stop every frame behind it for good, and a device that
 * is only full loses one frame per period, which TCP recovers like any loss. Both the count and the
 * time must pass, so neither a flush loop spinning within one instant nor one late flush after a
 * long pause drops a frame that a single retry would send.
 */
static bool
gale__tx_stuck(struct gale_stack *s)
{
	const uint64_t now = gale__now_us(s);

	if (s->tx_stuck_us == 0) {
		s->tx_stuck_us = now != 0 ? now : 1;
		s->tx_stuck_tries = 0;
		return false;
	}
	if (++s->tx_stuck_tries < GALE_STACK_TX_STUCK_TRIES ||
	    now - s->tx_stuck_us < GALE_STACK_TX_STUCK_US)
		return false;
	GALE__STAT(s, tx_drop_stuck);
	rte_pktmbuf_free(s->txq[0]);
	memmove(s->txq, s->txq + 1, (s->txq_len - 1) * sizeof(s->txq[0]));
	s->txq_len--;
	s->tx_stuck_us = 0;
	return true;
}

unsigned int
gale_stack_flush(struct gale_stack *s)
{
	uint16_t n, want;
	unsigned int sent = 0;

	while (s->txq_len > 0) {
		want = (uint16_t)GALE__MIN(s->txq_len, 256u);
		n = s->conf.tx_burst(s->conf.tx_ctx, s->txq, want);
		if (n > want)
			n = want;
		sent += n;
		s->stats.tx_frames += n;
		if (n > 0) {
			s->tx_stuck_us = 0;
			memmove(s->txq, s->txq + n, (s->txq_len - n) * sizeof(s->txq[0]));
			s->txq_len -= n;
		} else if (gale__tx_stuck(s)) {
			continue;
		}
		if (n < want)
			break;
	}
	return sent;
}

unsigned int
gale_stack_tx_pending(const struct gale_stack *s)
{
	return s->txq_len;
}

unsigned int
gale__txq_room(const struct gale_stack *s)
{
	return GALE__TXQ_SIZE - s->txq_len;
}

/* Consumes m: queued, or dropped and counted when the queue stays full after a flush. */
int
gale__txq_put(struct gale_stack *s, struct rte_mbuf *m)
{
	if (s->txq_len == GALE__TXQ_SIZE) {
		gale_stack_flush(s);
		if (s->txq_len == GALE__TXQ_SIZE) {
			GALE__STAT(s, tx_drop_full);
			rte_pktmbuf_free(m);
			return -ENOBUFS;
		}
	}
	s->txq[s->txq_len++] = m;
	if (s->txq_len >= GALE__TX_BURST && s->txq_len % GALE__TX_BURST == 0)
		gale_stack_flush(s);
	return 0;
}

/* Ethernet II input. Consumes every frame. */
void
gale_stack_input(struct gale_stack *s, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	const struct rte_ether_hdr *eh;
	struct rte_mbuf *m;
	uint16_t i, type;

	for (i = 0; i < nb_pkts; i++) {
		m = pkts[i];
		if (i + 2 < nb_pkts)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 2], void *));
		GALE__STAT(s, eth_rx);
		if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eh))) {
			GALE__STAT(s, eth_drop_short);
			rte_pktmbuf_free(m);
			continue;
		}
		eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (unlikely(!rte_is_same_ether_addr(&eh->dst_addr, &s->conf.mac) &&
		             !rte_is_broadcast_ether_addr(&eh->dst_addr))) {
			GALE__STAT(s, eth_drop_dst);
			rte_pktmbuf_free(m);
			continue;
		}
		type = rte_be_to_cpu_16(eh->ether_type);
		if (likely(type == RTE_ETHER_TYPE_IPV4)) {
			gale__ip_input(s, m);
		} else if (type == RTE_ETHER_TYPE_ARP) {
			gale__arp_input(s, m);
		} else {
			/* VLAN-tagged frames are not passed through yet: the port strips or we
			 * drop. */
			GALE__STAT(s, eth_drop_type);
			rte_pktmbuf_free(m);
		}
	}
	if (s->nackpend > 0 && !s->conf.ack_at_flush)
		gale__tcp_ack_flush(s);
}

void
gale_stack_ack_flush(struct gale_stack *s)
{
	if (s->nackpend > 0)
		gale__tcp_ack_flush(s);
}

const struct gale_stack_stats *
gale_stack_stats(const struct gale_stack *s)
{
	return &s->stats;
}

unsigned int
gale_stack_conn_count(const struct gale_stack *s)
{
	return s->nconns;
}

unsigned int
gale_stack_conn_count_in(const struct gale_stack *s, uint32_t states)
{
	unsigned int i, n = 0;

	for (i = 0; i < s->conf.max_conns; i++)
		if (s->conns[i].state & states)
			n++;
	return n;
}

const struct gale_stack_conf *
gale_stack_conf(const struct gale_stack *s)
{
	return &s->conf;
}

unsigned int
gale_stack_mbufs_held(const struct gale_stack *s)
{
	unsigned int n = 0, i, j;
	const struct gale_tcp_conn *tp;

	for (i = 0; i < s->txq_len; i++)
		n += gale__mbuf_segs(s->txq[i]);
	for (i = 0; i <= s->arp_mask; i++)
		n += gale__mbuf_segs(s->arp[i].hold);
	for (i = 0; i < s->conf.max_conns; i++) {
		tp = &s->conns[i];
		if (tp->state == 0)
			continue;
		n += gale__mbuf_segs(tp->snd_head) + gale__mbuf_segs(tp->rcv_head);
		for (j = 0; j < tp->reass_n; j++)
			n += gale__mbuf_segs(tp->reass[j].m);
	}
	return n;
}

/*
 * SipHash-2-4 (Aumasson and Bernstein), folded to 32 bits: the keyed PRF behind RFC 6528 ISNs, SYN
 * cookies and the connection table's hash.
 */
#define GALE__ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define GALE__SIPROUND                                                                             \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = GALE__ROTL(v1, 13);                                                           \
		v1 ^= v0;                                                                          \
		v0 = GALE__ROTL(v0, 32);                                                           \
		v2 += v3;                                                                          \
		v3 = GALE__ROTL(v3, 16);                                                           \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = GALE__ROTL(v3, 21);                                                           \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = GALE__ROTL(v1, 17);                                                           \
		v1 ^= v2;                                                                          \
		v2 = GALE__ROTL(v2, 32);                                                           \
	} while (0)

uint32_t
gale__siphash(const uint64_t key[2], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	uint64_t b = (uint64_t)len << 56, mi;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&mi, p + i, 8);
		v3 ^= mi;
		GALE__SIPROUND;
		GALE__SIPROUND;
		v0 ^= mi;
	}
	for (size_t k = 0; k < left; k++)
		b |= (uint64_t)p[i + k] << (8 * k);
	v3 ^= b;
	GALE__SIPROUND;
	GALE__SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	GALE__SIPROUND;
	GALE__SIPROUND;
	GALE__SIPROUND;
	GALE__SIPROUND;
	b = v0 ^ v1 ^ v2 ^ v3;
	return (uint32_t)(b ^ (b >> 32));
}
