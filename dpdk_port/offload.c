/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offload discovery and the software fallbacks (see gale/offload.h).
 *
 * The fallbacks follow DPDK's own convention for a packet that asks for checksum offload: the IPv4
 * header checksum field is ignored (recomputed), and the L4 checksum field holds the pseudo-header
 * sum, which the software path discards before summing the whole segment. Chained mbufs are summed
 * here rather than with rte_ipv4_udptcp_cksum_mbuf: DPDK 22.11's rte_raw_cksum_mbuf byte-swaps an
 * unreduced 32-bit partial sum after a segment of odd length, which gives a wrong checksum (the
 * unit test splits a payload at an odd offset and caught it); gale__l4_sum reduces each segment's
 * sum before swapping. Headers are assumed contiguous in the first segment, as every PMD delivers
 * them and as the stack builds them.
 */

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "gale/offload.h"

/*
 * Written here rather than taken from rte_ip.h: __rte_raw_cksum adds one 16-bit word at a time (one
 * dependent add per 2 bytes), and every byte of a segment crosses it twice (sender and receiver)
 * on ports without checksum offload (memif, tap); four independent 64-bit accumulators of 32-bit
 * words (which the compiler may also vectorise) are several times faster. The sum is the same:
 * 2^16 = 1 modulo 2^16 - 1, so a 32-bit word adds what its two 16-bit halves add, and the folds
 * carry around.
 */
uint16_t
gale_cksum_raw(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t a = 0, b = 0, c = 0, d = 0;
	uint32_t w[4];
	uint16_t h;

	while (len >= sizeof(w)) {
		memcpy(w, p, sizeof(w));
		a += w[0];
		b += w[1];
		c += w[2];
		d += w[3];
		p += sizeof(w);
		len -= sizeof(w);
	}
	/* Each accumulator holds at most len / 16 words of < 2^32: no overflow below 2^64 bytes. */
	a = (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + (c & 0xffffffffu) +
	    (c >> 32) + (d & 0xffffffffu) + (d >> 32);
	while (len >= sizeof(w[0])) {
		memcpy(&w[0], p, sizeof(w[0]));
		a += w[0];
		p += sizeof(w[0]);
		len -= sizeof(w[0]);
	}
	if (len >= sizeof(h)) {
		memcpy(&h, p, sizeof(h));
		a += h;
		p += sizeof(h);
		len -= sizeof(h);
	}
	if (len != 0) {
		h = 0;
		memcpy(&h, p, 1);
		a += h;
	}
	a = (a & 0xffffffffu) + (a >> 32);
	a = (a & 0xffffffffu) + (a >> 32);
	a = (a & 0xffffu) + (a >> 16);
	a = (a & 0xffffu) + (a >> 16);
	a = (a & 0xffffu) + (a >> 16);
	return (uint16_t)a;
}

int
gale_cksum_chain(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *sum)
{
	uint32_t acc = 0, done = 0, seglen, part;

	while (m != NULL && off >= rte_pktmbuf_data_len(m)) {
		off -= rte_pktmbuf_data_len(m);
		m = m->next;
	}
	while (m != NULL && done < len) {
		seglen = RTE_MIN((uint32_t)rte_pktmbuf_data_len(m) - off, len - done);
		part = gale_cksum_raw(rte_pktmbuf_mtod_offset(m, const void *, off), seglen);
		/* A segment that starts at an odd offset of the sum has its bytes in the other lanes:
		 * swap its reduced sum (swapping an unreduced one is DPDK 22.11's bug). */
		acc += (done & 1) != 0 ? rte_bswap16((uint16_t)part) : part;
		done += seglen;
		off = 0;
		m = m->next;
	}
	if (done < len)
		return -1;
	*sum = (uint16_t)__rte_raw_cksum_reduce(acc);
	return 0;
}

/* One's complement sum (reduced, not inverted) of len bytes from offset off of a chain, plus the
 * IPv4 pseudo-header. Returns 0 when the chain is too short (no valid sum is 0 after folding a
 * nonzero header). */
static uint16_t
gale__l4_sum(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t off, uint32_t len)
{
	uint16_t part;

	if (gale_cksum_chain(m, off, len, &part) != 0)
		return 0;
	return (uint16_t)__rte_raw_cksum_reduce(rte_ipv4_phdr_cksum(ip, 0) + (uint32_t)part);
}

int
gale_offload_discover(uint16_t port_id, struct gale_offloads *off)
{
	struct rte_eth_dev_info info;
	int ret;

	if (off == NULL)
		return -EINVAL;
	memset(off, 0, sizeof(*off));
	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret != 0)
		return ret;
	off->rx_capa = info.rx_offload_capa;
	off->tx_capa = info.tx_offload_capa;
	off->rx_ipv4_cksum = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	off->rx_tcp_cksum = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
	off->rx_udp_cksum = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0;
	off->rx_rss_hash = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH) != 0;
	off->tx_ipv4_cksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	off->tx_tcp_cksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
	off->tx_udp_cksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	off->tso = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) != 0;
	off->multi_seg = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	off->rss_types = info.flow_type_rss_offloads;
	off->reta_size = info.reta_size;
	return 0;
}

void
gale_offload_format(const struct gale_offloads *off, char *buf, unsigned int size)
{
	snprintf(buf, size, "rx-cksum%s%s%s%s tx-cksum%s%s%s%s%s%s rss-types 0x%llx reta %u",
	         off->rx_ipv4_cksum ? " ip" : "", off->rx_tcp_cksum ? " tcp" : "",
	         off->rx_udp_cksum ? " udp" : "",
	         off->rx_ipv4_cksum || off->rx_tcp_cksum || off->rx_udp_cksum ? "" : " none",
	         off->tx_ipv4_cksum ? " ip" : "", off->tx_tcp_cksum ? " tcp" : "",
	         off->tx_udp_cksum ? " udp" : "",
	         off->tx_ipv4_cksum || off->tx_tcp_cksum || off->tx_udp_cksum ? "" : " none",
	         off->tso ? " tso" : "", off->multi_seg ? " multi-seg" : "",
	         (unsigned long long)off->rss_types, off->reta_size);
}

int
gale_offload_tx_prepare(const struct gale_offloads *on, struct rte_mbuf *m)
{
	const uint64_t fl = m->ol_flags;
	const uint64_t l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4_cksum;
	uint32_t cksum_off;
	uint16_t cksum;

	if ((fl & RTE_MBUF_F_TX_TCP_SEG) != 0)
		return on->tso ? 0 : -ENOTSUP;
	/* A chain for a port that sends single segments: copy it into the first segment when it
	 * fits. */
	if (m->nb_segs > 1 && !on->multi_seg && rte_pktmbuf_linearize(m) != 0)
		return -EMSGSIZE;
	if ((fl & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)) == 0)
		return 0;
	if ((fl & RTE_MBUF_F_TX_IPV4) == 0 || m->l3_len < sizeof(*ip) ||
	    rte_pktmbuf_data_len(m) < (uint32_t)m->l2_len + m->l3_len)
		return -EINVAL;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	if ((fl & RTE_MBUF_F_TX_IP_CKSUM) != 0 && !on->tx_ipv4_cksum) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM && !on->tx_tcp_cksum) {
		if (rte_pktmbuf_data_len(m) <
		    (uint32_t)m->l2_len + m->l3_len + sizeof(struct rte_tcp_hdr))
			return -EINVAL;
		cksum_off = m->l2_len + m->l3_len + offsetof(struct rte_tcp_hdr, cksum);
	} else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM && !on->tx_udp_cksum) {
		if (rte_pktmbuf_data_len(m) <
		    (uint32_t)m->l2_len + m->l3_len + sizeof(struct rte_udp_hdr))
			return -EINVAL;
		cksum_off = m->l2_len + m->l3_len + offsetof(struct rte_udp_hdr, dgram_cksum);
	} else {
		return l4 == 0 || l4 == RTE_MBUF_F_TX_TCP_CKSUM || l4 == RTE_MBUF_F_TX_UDP_CKSUM
		               ? 0
		               : -EINVAL;
	}
	if (rte_be_to_cpu_16(ip->total_length) < m->l3_len ||
	    rte_pktmbuf_pkt_len(m) < (uint32_t)m->l2_len + rte_be_to_cpu_16(ip->total_length))
		return -EINVAL;
	l4_cksum = rte_pktmbuf_mtod_offset(m, uint8_t *, cksum_off);
	memset(l4_cksum, 0, sizeof(cksum));
	cksum = (uint16_t)~gale__l4_sum(m, ip, m->l2_len + m->l3_len,
	                                rte_be_to_cpu_16(ip->total_length) - (uint32_t)m->l3_len);
	if (cksum == 0 && l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		cksum = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	memcpy(l4_cksum, &cksum, sizeof(cksum));
	m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	return 0;
}

uint16_t
gale_offload_tx_prepare_burst(const struct gale_offloads *on, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (gale_offload_tx_prepare(on, pkts[i]) != 0)
			break;
	return i;
}

int
gale_offload_rx_cksum(const struct gale_offloads *on, const struct rte_mbuf *m)
{
	const uint64_t fl = m->ol_flags;
	const struct rte_ether_hdr *eth;
	const struct rte_ipv4_hdr *ip;
	uint64_t ipf, l4f;
	unsigned int ihl;
	bool l4_known;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*ip))
		return 0;
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return 0;
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	ihl = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4u;
	if (ihl < sizeof(*ip) || rte_pktmbuf_data_len(m) < sizeof(*eth) + ihl)
		return -EBADMSG;
	ipf = fl & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (on->rx_ipv4_cksum && ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return -EBADMSG;
	if (!(on->rx_ipv4_cksum && ipf == RTE_MBUF_F_RX_IP_CKSUM_GOOD) &&
	    rte_raw_cksum(ip, ihl) != 0xffff)
		return -EBADMSG;
	if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP)
		return 0;
	if ((ip->fragment_offset &
	     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return 0; /* a fragment's L4 checksum covers the reassembled datagram */
	l4f = fl & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	l4_known = ip->next_proto_id == IPPROTO_TCP ? on->rx_tcp_cksum : on->rx_udp_cksum;
	if (l4_known && l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return -EBADMSG;
	if (l4_known && l4f == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return 0;
	if (rte_be_to_cpu_16(ip->total_length) < ihl + 8u ||
	    rte_pktmbuf_pkt_len(m) < sizeof(*eth) + rte_be_to_cpu_16(ip->total_length))
		return -EBADMSG;
	if (ip->next_proto_id == IPPROTO_UDP &&
	    rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, sizeof(*eth) + ihl)
	                    ->dgram_cksum == 0)
		return 0; /* UDP over IPv4 without a checksum */
	return gale__l4_sum(m, ip, sizeof(*eth) + ihl, rte_be_to_cpu_16(ip->total_length) - ihl) ==
	                       0xffff
	               ? 0
	               : -EBADMSG;
}
