/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ICMP (RFC 792, RFC 1122 3.2.2): echo replies, destination unreachable (protocol, port) for what
 * we cannot deliver. Both share one token bucket (conf.icmp_rate per second) so that the stack
 * cannot be turned into a reflector; what the bucket refuses is counted. Other ICMP messages are
 * counted and ignored (TCP does not yet act on soft errors).
 */
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>

#include "stack_var.h"

#define GALE__ICMP_DEST_UNREACH 3 /* RFC 792; DPDK 22.11 has no name for it. */

static bool
gale__icmp_allowed(struct gale_stack *s)
{
	uint64_t now = gale__now_us(s), add;

	add = (now - s->icmp_bucket_us) * s->conf.icmp_rate / 1000000u;
	if (add > 0) {
		s->icmp_tokens =
		        (uint32_t)GALE__MIN((uint64_t)s->conf.icmp_rate, s->icmp_tokens + add);
		s->icmp_bucket_us = now;
	}
	if (s->icmp_tokens == 0) {
		GALE__STAT(s, icmp_rate_limited);
		return false;
	}
	s->icmp_tokens--;
	return true;
}

/* Consumes m. */
void
gale__icmp_input(struct gale_stack *s, struct rte_mbuf *m, uint16_t l3_off)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l3_off);
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t len = rte_be_to_cpu_16(ip->total_length) - ihl;
	struct rte_icmp_hdr *ic;
	uint16_t raw;
	uint32_t src;

	GALE__STAT(s, icmp_rx);
	if (len < sizeof(*ic) || m->nb_segs != 1 || rte_pktmbuf_data_len(m) < l3_off + ihl + len) {
		GALE__STAT(s, icmp_drop_bad);
		goto drop;
	}
	ic = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	raw = rte_raw_cksum(ic, len);
	if (raw != 0xffff) {
		GALE__STAT(s, icmp_drop_cksum);
		goto drop;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		GALE__STAT(s, icmp_ignored);
		goto drop;
	}
	if (!gale__icmp_allowed(s))
		goto drop;
	/* Echo reply in place: same identifier, sequence and data; options dropped. */
	src = rte_be_to_cpu_32(ip->src_addr);
	if (ihl > sizeof(*ip)) {
		memmove((uint8_t *)ip + sizeof(*ip), ic, len);
		rte_pktmbuf_trim(m, (uint16_t)(ihl - sizeof(*ip)));
		ic = (struct rte_icmp_hdr *)(ip + 1);
	}
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, len);
	m->ol_flags = 0;
	gale__ip_fill_hdr(s, m, s->conf.ip, src, IPPROTO_ICMP);
	GALE__STAT(s, icmp_echo_tx);
	gale__ip_output(s, m, src, IPPROTO_ICMP);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* Borrows orig: send destination unreachable with its IP header and the first 8 bytes after it. */
void
gale__icmp_unreach(struct gale_stack *s, const struct rte_mbuf *orig, uint16_t l3_off, uint8_t code)
{
	const struct rte_ipv4_hdr *oip =
	        rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, l3_off);
	uint32_t ihl = (uint32_t)(oip->version_ihl & 0xf) * 4;
	uint32_t quote = GALE__MIN(ihl + 8, (uint32_t)rte_be_to_cpu_16(oip->total_length));
	uint32_t src = rte_be_to_cpu_32(oip->src_addr);
	struct rte_icmp_hdr *ic;
	struct rte_mbuf *m;
	uint8_t *p;

	if (rte_pktmbuf_data_len(orig) < l3_off + quote || !gale__icmp_allowed(s))
		return;
	m = gale__pkt_alloc(s);
	if (m == NULL)
		return;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(struct rte_ether_hdr) +
	                                                sizeof(struct rte_ipv4_hdr) + sizeof(*ic) +
	                                                quote));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	ic = (struct rte_icmp_hdr *)(p + sizeof(struct rte_ether_hdr) +
	                             sizeof(struct rte_ipv4_hdr));
	memset(ic, 0, sizeof(*ic));
	ic->icmp_type = GALE__ICMP_DEST_UNREACH;
	ic->icmp_code = code;
	memcpy(ic + 1, oip, quote);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + quote);
	gale__ip_fill_hdr(s, m, s->conf.ip, src, IPPROTO_ICMP);
	GALE__STAT(s, icmp_unreach_tx);
	gale__ip_output(s, m, src, IPPROTO_ICMP);
}
