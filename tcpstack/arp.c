/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ARP (RFC 826) for one worker: a small cache, replies to requests for our address, requests with
 * retry and timeout for addresses we need, gratuitous ARP on start.
 *
 * The cache is open addressing with a probe limit of 8: an insert that finds no free slot in its
 * window evicts the entry closest to expiry there (never a static one). An unresolved entry holds
 * at most one frame (the newest; older ones are dropped and counted), like BSD's la_hold: TCP
 * retransmits anything that matters. Mappings learned here are reported through conf.arp_learn so
 * the runtime can hand them to the other workers.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>

#include "stack_var.h"

#define GALE__ARP_PROBE 8u

static uint32_t
gale__arp_slot(const struct gale_stack *s, uint32_t ip)
{
	return (ip * 2654435761u) & s->arp_mask;
}

static struct gale__arp_entry *
gale__arp_find(const struct gale_stack *s, uint32_t ip)
{
	uint32_t i, slot = gale__arp_slot(s, ip);
	struct gale__arp_entry *e;

	for (i = 0; i < GALE__ARP_PROBE && i <= s->arp_mask; i++) {
		e = &s->arp[(slot + i) & s->arp_mask];
		if (e->state != GALE__ARP_FREE && e->ip == ip)
			return e;
	}
	return NULL;
}

static struct gale__arp_entry *
gale__arp_insert(struct gale_stack *s, uint32_t ip)
{
	uint32_t i, slot = gale__arp_slot(s, ip);
	struct gale__arp_entry *e, *victim = NULL;

	e = gale__arp_find(s, ip);
	if (e != NULL)
		return e;
	for (i = 0; i < GALE__ARP_PROBE && i <= s->arp_mask; i++) {
		e = &s->arp[(slot + i) & s->arp_mask];
		if (e->state == GALE__ARP_FREE) {
			victim = e;
			break;
		}
		if (e->state != GALE__ARP_STATIC &&
		    (victim == NULL || e->expire_us < victim->expire_us))
			victim = e;
	}
	if (victim == NULL)
		return NULL;
	if (victim->hold != NULL) {
		GALE__STAT(s, arp_hold_drop);
		rte_pktmbuf_free(victim->hold);
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

/* Build and queue an ARP packet. */
static int
gale__arp_send(struct gale_stack *s, uint16_t op, const struct rte_ether_addr *eth_dst,
               const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_mbuf *m = gale__pkt_alloc(s);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (m == NULL)
		return -ENOBUFS;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ah));
	ah = (struct rte_arp_hdr *)(eh + 1);
	rte_ether_addr_copy(eth_dst, &eh->dst_addr);
	rte_ether_addr_copy(&s->conf.mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&s->conf.mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = rte_cpu_to_be_32(s->conf.ip);
	rte_ether_addr_copy(tha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return gale__txq_put(s, m);
}

static void
gale__arp_request(struct gale_stack *s, uint32_t ip)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
		                                                     0xff } };
	static const struct rte_ether_addr zero;

	if (gale__arp_send(s, RTE_ARP_OP_REQUEST, &bcast, &zero, ip) == 0)
		GALE__STAT(s, arp_req_tx);
}

int
gale_stack_arp_announce(struct gale_stack *s)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
		                                                     0xff } };
	int ret;

	/* A gratuitous ARP is a request for our own address (RFC 5227 3: ARP Announcement). */
	ret = gale__arp_send(s, RTE_ARP_OP_REQUEST, &bcast, &bcast, s->conf.ip);
	if (ret == 0)
		GALE__STAT(s, arp_gratuitous_tx);
	return ret;
}

/* Set a mapping; send the held frame if any. */
static void
gale__arp_set(struct gale_stack *s, struct gale__arp_entry *e, const struct rte_ether_addr *mac,
              bool is_static)
{
	struct rte_ether_hdr *eh;
	struct rte_mbuf *m;

	rte_ether_addr_copy(mac, &e->mac);
	if (is_static)
		e->state = GALE__ARP_STATIC;
	else if (e->state != GALE__ARP_STATIC)
		e->state = GALE__ARP_RESOLVED;
	e->expire_us = gale__now_us(s) + s->conf.arp_ttl_us;
	e->retries = 0;
	m = e->hold;
	e->hold = NULL;
	if (m != NULL) {
		eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_addr_copy(mac, &eh->dst_addr);
		gale__txq_put(s, m);
	}
}

int
gale_stack_arp_add(struct gale_stack *s, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct gale__arp_entry *e = gale__arp_insert(s, ip);

	if (e == NULL)
		return -ENOSPC;
	gale__arp_set(s, e, mac, false);
	return 0;
}

int
gale_stack_arp_lookup(const struct gale_stack *s, uint32_t ip, struct rte_ether_addr *mac)
{
	const struct gale__arp_entry *e = gale__arp_find(s, ip);

	if (e == NULL || (e->state != GALE__ARP_RESOLVED && e->state != GALE__ARP_STATIC))
		return -ENOENT;
	rte_ether_addr_copy(&e->mac, mac);
	return 0;
}

/* Consumes m. */
void
gale__arp_input(struct gale_stack *s, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	struct gale__arp_entry *e;
	struct rte_ether_addr sha;
	uint32_t sip, tip;
	uint16_t op;

	GALE__STAT(s, arp_rx);
	if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ah) ||
	    ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4) {
		GALE__STAT(s, arp_drop_bad);
		goto drop;
	}
	op = rte_be_to_cpu_16(ah->arp_opcode);
	sip = rte_be_to_cpu_32(ah->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	rte_ether_addr_copy(&ah->arp_data.arp_sha, &sha);
	if ((op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
	    !rte_is_valid_assigned_ether_addr(&sha) || sip == s->conf.ip) {
		GALE__STAT(s, arp_drop_bad);
		goto drop;
	}
	/* RFC 826 merge: refresh an entry we have whoever the packet is for. */
	e = sip != 0 ? gale__arp_find(s, sip) : NULL;
	if (tip != s->conf.ip) {
		if (e != NULL) {
			gale__arp_set(s, e, &sha, false);
			GALE__STAT(s, arp_learned);
		} else {
			GALE__STAT(s, arp_drop_other);
		}
		goto drop;
	}
	if (sip != 0) {
		if (e == NULL)
			e = gale__arp_insert(s, sip);
		if (e != NULL) {
			gale__arp_set(s, e, &sha, false);
			GALE__STAT(s, arp_learned);
			if (s->conf.arp_learn != NULL)
				s->conf.arp_learn(s->conf.arp_learn_ctx, sip, &sha);
		}
	}
	if (op == RTE_ARP_OP_REPLY) {
		GALE__STAT(s, arp_reply_rx);
		goto drop;
	}
	GALE__STAT(s, arp_req_rx);
	/* Turn the request into the reply in place. */
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&sha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(sip);
	rte_ether_addr_copy(&s->conf.mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = rte_cpu_to_be_32(s->conf.ip);
	rte_ether_addr_copy(&sha, &eh->dst_addr);
	rte_ether_addr_copy(&s->conf.mac, &eh->src_addr);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - sizeof(*eh) - sizeof(*ah)));
	if (gale__txq_put(s, m) == 0)
		GALE__STAT(s, arp_reply_tx);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* Consumes m, a complete frame whose destination MAC is filled here. */
int
gale__arp_resolve_and_send(struct gale_stack *s, uint32_t nexthop, struct rte_mbuf *m)
{
	struct gale__arp_entry *e = gale__arp_find(s, nexthop);
	struct rte_ether_hdr *eh;
	uint64_t now = gale__now_us(s);

	if (likely(e != NULL && (e->state == GALE__ARP_STATIC ||
	                         (e->state == GALE__ARP_RESOLVED && e->expire_us > now)))) {
		eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_addr_copy(&e->mac, &eh->dst_addr);
		return gale__txq_put(s, m);
	}
	if (e == NULL) {
		e = gale__arp_insert(s, nexthop);
		if (e == NULL) {
			GALE__STAT(s, arp_hold_drop);
			rte_pktmbuf_free(m);
			return -ENOSPC;
		}
	}
	if (e->state != GALE__ARP_INCOMPLETE) {
		e->state = GALE__ARP_INCOMPLETE;
		e->retries = 1;
		e->expire_us = now + s->conf.arp_retry_us;
		gale__arp_request(s, nexthop);
		if (!gale_timer_pending(&s->arp_timer))
			gale_timer_arm(s->conf.wheel, &s->arp_timer, e->expire_us);
	}
	if (e->hold != NULL) {
		GALE__STAT(s, arp_hold_drop);
		rte_pktmbuf_free(e->hold);
	}
	e->hold = m;
	return 0;
}

void
gale__arp_timer_cb(struct gale_timer *t, void *arg)
{
	struct gale_stack *s = arg;
	uint64_t now = gale__now_us(s), next = 0;
	struct gale__arp_entry *e;
	uint32_t i;

	(void)t;
	for (i = 0; i <= s->arp_mask; i++) {
		e = &s->arp[i];
		if (e->state != GALE__ARP_INCOMPLETE)
			continue;
		if (e->expire_us <= now) {
			if (e->retries >= s->conf.arp_retries) {
				GALE__STAT(s, arp_timeout);
				if (e->hold != NULL) {
					GALE__STAT(s, arp_hold_drop);
					rte_pktmbuf_free(e->hold);
				}
				memset(e, 0, sizeof(*e));
				continue;
			}
			e->retries++;
			e->expire_us = now + s->conf.arp_retry_us;
			gale__arp_request(s, e->ip);
		}
		if (next == 0 || e->expire_us < next)
			next = e->expire_us;
	}
	if (next != 0)
		gale_timer_arm(s->conf.wheel, &s->arp_timer, next);
}

void
gale__arp_flush_all(struct gale_stack *s)
{
	uint32_t i;

	for (i = 0; i <= s->arp_mask; i++) {
		rte_pktmbuf_free(s->arp[i].hold);
		s->arp[i].hold = NULL;
	}
}
