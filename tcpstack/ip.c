/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv4 input and output (RFC 791, RFC 1122 3.2.1): header checks, checksum (hardware verdict when
 * the port gives one, else software), fragments dropped and counted (TCP never needs them: we send
 * DF and clamp MSS to the MTU), options skipped, then dispatch to TCP or ICMP; anything else earns
 * a rate-limited protocol unreachable.
 *
 * Output fills the Ethernet and IPv4 headers of a frame TCP or ICMP built, picks the next hop
 * (on-link or the gateway) and hands the frame to ARP.
 */
#include <errno.h>

#include <rte_ip.h>

#include "stack_var.h"
#include "tcp_var.h"

static bool
gale__ip_bad_src(const struct gale_stack *s, uint32_t src)
{
	uint32_t bcast = (s->conf.ip & s->conf.netmask) | ~s->conf.netmask;

	return src == 0 || src == 0xffffffffu || (src & 0xf0000000u) == 0xe0000000u ||
	       src == s->conf.ip || (src == bcast && s->conf.netmask != 0xffffffffu) ||
	       (src >> 24) == 127;
}

/* Consumes m. */
void
gale__ip_input(struct gale_stack *s, struct rte_mbuf *m)
{
	const uint16_t l3_off = sizeof(struct rte_ether_hdr);
	struct rte_ipv4_hdr *ip;
	uint32_t ihl, total, src;
	uint64_t ck;

	GALE__STAT(s, ip_rx);
	if (unlikely(rte_pktmbuf_data_len(m) < l3_off + sizeof(*ip))) {
		GALE__STAT(s, ip_drop_short);
		goto drop;
	}
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l3_off);
	if (unlikely((ip->version_ihl >> 4) != 4)) {
		GALE__STAT(s, ip_drop_version);
		goto drop;
	}
	ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (unlikely(ihl < sizeof(*ip))) {
		GALE__STAT(s, ip_drop_hdrlen);
		goto drop;
	}
	if (unlikely(rte_pktmbuf_data_len(m) < l3_off + ihl)) {
		GALE__STAT(s, ip_drop_short);
		goto drop;
	}
	total = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(total < ihl || total > rte_pktmbuf_pkt_len(m) - l3_off)) {
		GALE__STAT(s, ip_drop_len);
		goto drop;
	}
	ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (unlikely(ck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	             (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(ip, ihl) != 0xffff))) {
		GALE__STAT(s, ip_drop_cksum);
		goto drop;
	}
	if (unlikely((ip->fragment_offset &
	              rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)) {
		GALE__STAT(s, ip_drop_frag);
		goto drop;
	}
	if (unlikely(rte_be_to_cpu_32(ip->dst_addr) != s->conf.ip)) {
		GALE__STAT(s, ip_drop_dst);
		goto drop;
	}
	src = rte_be_to_cpu_32(ip->src_addr);
	if (unlikely(gale__ip_bad_src(s, src))) {
		GALE__STAT(s, ip_drop_src);
		goto drop;
	}
	/* Ethernet padding and anything past the IP datagram go. */
	if (rte_pktmbuf_pkt_len(m) > l3_off + total)
		gale__mbuf_trim(m, l3_off + total);
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		gale__tcp_input(s, m, l3_off);
		return;
	case IPPROTO_ICMP:
		gale__icmp_input(s, m, l3_off);
		return;
	default:
		GALE__STAT(s, ip_drop_proto);
		gale__icmp_unreach(s, m, l3_off, 2 /* protocol unreachable */);
		break;
	}
drop:
	rte_pktmbuf_free(m);
}

/* Borrows m: fill Ethernet (but the destination) and IPv4 headers for a frame whose length is
 * final. */
void
gale__ip_fill_hdr(struct gale_stack *s, struct rte_mbuf *m, uint32_t src, uint32_t dst,
                  uint8_t proto)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);

	rte_ether_addr_copy(&s->conf.mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(rte_pktmbuf_pkt_len(m) - sizeof(*eh)));
	ip->packet_id =
	        rte_cpu_to_be_16(s->ip_id++); /* DF is set: ids only need to differ, per worker */
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = 0;
	m->l2_len = sizeof(*eh);
	m->l3_len = sizeof(*ip);
	if (s->conf.tx_offloads & GALE_STACK_OFFLOAD_IPV4_CKSUM)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* Consumes m: a frame with headers filled; route it and send it through ARP. */
int
gale__ip_output(struct gale_stack *s, struct rte_mbuf *m, uint32_t dst, uint8_t proto)
{
	uint32_t nexthop = dst;

	(void)proto;
	if ((dst & s->conf.netmask) != (s->conf.ip & s->conf.netmask)) {
		if (s->conf.gateway == 0) {
			GALE__STAT(s, ip_drop_noroute);
			rte_pktmbuf_free(m);
			return -ENETUNREACH;
		}
		nexthop = s->conf.gateway;
	}
	GALE__STAT(s, ip_tx);
	return gale__arp_resolve_and_send(s, nexthop, m);
}
