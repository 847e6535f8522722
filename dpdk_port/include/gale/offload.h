/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offloads: what a port can do (checksums, TSO, multi-segment tx, RSS), what gale_port_setup turned
 * on, and the software fallbacks that make a packet correct whatever the port did.
 *
 * Contract with the layers above (tcpstack): build IPv4 TCP/UDP frames, set m->l2_len and
 * m->l3_len, and ask for checksums the DPDK way: RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM (IP
 * header checksum field 0) and RTE_MBUF_F_TX_TCP_CKSUM or RTE_MBUF_F_TX_UDP_CKSUM with the L4
 * checksum field holding the pseudo-header checksum (rte_ipv4_phdr_cksum). Then pass the burst
 * through gale_offload_tx_prepare_burst: whatever the port has not enabled is computed in software
 * and its flag cleared, so every port gets a correct frame. TSO is not emulated: when `tso` is
 * false the stack segments to MSS itself (asking for RTE_MBUF_F_TX_TCP_SEG then is -ENOTSUP). On
 * rx, gale_offload_rx_cksum trusts the NIC's GOOD/BAD verdict and verifies in software when the NIC
 * said nothing (net_tap, memif, ring).
 */
#ifndef GALE_OFFLOAD_H
#define GALE_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;

/** A set of offloads (what a port can do, or what is enabled on it). */
struct gale_offloads {
	bool rx_ipv4_cksum; /**< NIC verifies IPv4 header checksums (RTE_MBUF_F_RX_IP_CKSUM_*). */
	bool rx_tcp_cksum;  /**< NIC verifies TCP checksums (RTE_MBUF_F_RX_L4_CKSUM_*). */
	bool rx_udp_cksum;  /**< NIC verifies UDP checksums. */
	bool rx_rss_hash;   /**< NIC reports the RSS hash in m->hash.rss. */
	bool tx_ipv4_cksum; /**< NIC fills IPv4 header checksums. */
	bool tx_tcp_cksum;  /**< NIC fills TCP checksums. */
	bool tx_udp_cksum;  /**< NIC fills UDP checksums. */
	bool tso;           /**< NIC segments TCP (RTE_MBUF_F_TX_TCP_SEG). */
	uint16_t tso_frame_max; /**< with tso: the longest frame (Ethernet header included) the NIC
	                           cuts; 0 = MTU + Ethernet header. net_tap (DPDK 22.11) refuses a
	                           segment when tso_segsz + l2 + l3 + l4 lengths exceed its MTU. */
	bool multi_seg;     /**< NIC sends chained mbufs. */
	uint64_t rss_types; /**< RSS hash types (RTE_ETH_RSS_*); 0 = no RSS. */
	uint16_t reta_size; /**< redirection table entries; 0 = no RETA. */
	uint64_t rx_capa;   /**< raw RTE_ETH_RX_OFFLOAD_* bits. */
	uint64_t tx_capa;   /**< raw RTE_ETH_TX_OFFLOAD_* bits. */
};

/** Fill off with what port_id can do. 0 or a negative errno. */
int gale_offload_discover(uint16_t port_id, struct gale_offloads *off);

/** Print an offload set on one line into buf ("rx-cksum ip,tcp,udp tx-cksum ... tso multi-seg
 * rss(...)"). */
void gale_offload_format(const struct gale_offloads *off, char *buf, unsigned int size);

/**
 * Make one outgoing packet correct for a port with offloads `on` enabled: compute in software each
 * checksum the packet asks for and the port does not do, and clear that request. Borrows m
 * (rewrites its headers). A chained packet for a port without multi-segment tx is linearised into
 * its first segment. 0; -EINVAL when the packet cannot be parsed with its l2_len/l3_len; -ENOTSUP
 * for TSO without TSO; -EMSGSIZE for a chain that does not fit one segment on a port without
 * multi-segment tx.
 */
int gale_offload_tx_prepare(const struct gale_offloads *on, struct rte_mbuf *m);

/**
 * gale_offload_tx_prepare over a burst. Borrows the packets. Returns the number prepared: the first
 * failure stops it (like rte_eth_tx_prepare), leaving that packet and the tail to the caller.
 */
uint16_t gale_offload_tx_prepare_burst(const struct gale_offloads *on, struct rte_mbuf **pkts,
                                       uint16_t n);

/**
 * Checksums of a received IPv4 packet (TCP or UDP; IP header only for other protocols): the NIC's
 * verdict when it gave one, else verified in software. Borrows m. 0 good (or not IPv4: nothing to
 * check), -EBADMSG bad.
 */
int gale_offload_rx_cksum(const struct gale_offloads *on, const struct rte_mbuf *m);

/**
 * The Internet checksum's one's complement sum (RFC 1071) of len bytes at buf, folded to 16 bits
 * and not inverted: the value __rte_raw_cksum_reduce(__rte_raw_cksum(buf, len, 0)) gives, with the
 * same byte-order convention (a trailing odd byte is the first byte of a 16-bit word), at several
 * times its speed (32-bit words into four 64-bit accumulators instead of one 16-bit word per add).
 * Any alignment of buf.
 */
uint16_t gale_cksum_raw(const void *buf, size_t len);

/**
 * The same sum over len bytes from offset off of the mbuf chain m, segments of any length, odd
 * ones included (DPDK 22.11's rte_raw_cksum_mbuf gets odd boundaries wrong). Borrows m. 0, or -1
 * when the chain is shorter than off + len.
 */
int gale_cksum_chain(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *sum);

#endif /* GALE_OFFLOAD_H */
