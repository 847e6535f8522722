/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A per-worker TCP/IP stack instance: Ethernet II, ARP, IPv4, ICMP and TCP over rte_mbufs.
 *
 * One stack belongs to one worker and is touched only by it: no atomics, no locks, no shared
 * tables. The worker feeds it every frame it receives (gale_stack_input, consumes), advances the
 * timer wheel the stack was given, (its clock is the stack's clock: advance it before feeding
 * frames) and calls gale_stack_flush at the end of each poll iteration. The stack never calls the
 * EAL and never touches a NIC: it transmits through the tx_burst function of its configuration (the
 * runtime binds it to rte_eth_tx_burst on the worker's queue; unit tests bind it to a capture
 * buffer).
 *
 * Everything a stack holds is sized at creation (connections, listeners, ARP entries, buffer
 * limits); nothing on the data path allocates except packet buffers from the configured pool. Every
 * drop and event is a counter in struct gale_stack_stats, written only by the owning worker and
 * read by the runtime's telemetry (which may see a slightly stale value, never a torn one on 64-bit
 * targets).
 *
 * Addresses and ports in this API are in host byte order.
 */
#ifndef GALE_TCPSTACK_H
#define GALE_TCPSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mbuf;
struct rte_mempool;
struct gale_timer_wheel;
struct gale_stack;

/**
 * Transmit a burst of frames: returns how many were taken (and so consumed); the stack keeps the
 * tail for the next flush (bounded; beyond that it drops and counts).
 */
typedef uint16_t (*gale_stack_tx_burst_t)(void *ctx, struct rte_mbuf **pkts, uint16_t nb_pkts);

/**
 * Pick a local port for a connection to raddr:rport from laddr so that replies reach this worker
 * (dpdk_port's steering). Returns 0 with *lport set, or a negative errno. The stack checks the
 * 4-tuple is free and asks again (up to 16 times) when it is not.
 */
typedef int (*gale_stack_port_pick_t)(void *ctx, uint32_t laddr, uint32_t raddr, uint16_t rport,
                                      uint16_t *lport);

/** A worker learned ip -> mac from the wire; the runtime forwards it to the other workers
 * (gale_stack_arp_add). */
typedef void (*gale_stack_arp_learn_t)(void *ctx, uint32_t ip, const struct rte_ether_addr *mac);

/** Offloads the port offers (gale_stack_conf.tx_offloads). */
#define GALE_STACK_OFFLOAD_IPV4_CKSUM (1u << 0) /**< the NIC fills the IPv4 header checksum. */
#define GALE_STACK_OFFLOAD_TCP_CKSUM                                                               \
	(1u << 1) /**< the NIC fills the TCP checksum (pseudo header given). */
#define GALE_STACK_OFFLOAD_TSO                                                                     \
	(1u << 2) /**< the NIC cuts a TCP segment of up to 64 KiB into MSS-sized frames (TSO). */

/** Congestion control algorithms. */
enum gale_tcp_cc {
	GALE_TCP_CC_NEWRENO = 0, /**< RFC 5681 + RFC 6582. */
	GALE_TCP_CC_CUBIC = 1,   /**< RFC 8312. */
};

/** How to build a stack. gale_stack_conf_init fills every default; then set at least ip, mac, pool,
 * wheel, tx. */
struct gale_stack_conf {
	uint32_t ip;               /**< our IPv4 address. */
	uint32_t netmask;          /**< on-link prefix; default 255.255.255.0. */
	uint32_t gateway;          /**< next hop off-link; 0 = none (off-link is unreachable). */
	struct rte_ether_addr mac; /**< our MAC address. */
	uint16_t mtu;              /**< IP MTU of the port; default 1500. MSS is clamped to it. */
	uint16_t worker_id;        /**< for logs and telemetry. */
	struct rte_mempool *pool;  /**< where the stack takes the buffers it sends. */
	struct gale_timer_wheel
	        *wheel; /**< the worker's timer wheel; the stack's notion of time is its clock. */
	gale_stack_tx_burst_t tx_burst; /**< transmit function. */
	void *tx_ctx;                   /**< its argument. */
	gale_stack_port_pick_t
	        port_pick;   /**< source-port picker; NULL = ephemeral range, sequential. */
	void *port_pick_ctx; /**< its argument. */
	gale_stack_arp_learn_t arp_learn; /**< told when a mapping is learned; may be NULL. */
	void *arp_learn_ctx;              /**< its argument. */
	uint32_t tx_offloads;             /**< GALE_STACK_OFFLOAD_* the port offers. */
	uint16_t tso_frame_max; /**< with TSO: the longest frame, Ethernet header included, the
	                           port cuts (0 = no limit but the MTU); net_tap in DPDK 22.11
	                           refuses a segment whose frames would exceed its MTU. */
	bool tx_zerocopy; /**< segments reference the send buffer (indirect mbufs) instead of a
	                     copy of it; off by default: nothing may write into a frame after
	                     transmit (an impairment that corrupts frames would corrupt the
	                     send buffer, and so the retransmissions). */

	uint32_t max_conns;     /**< connections incl. SYN_RECEIVED and TIME_WAIT; default 4096. */
	uint32_t max_listeners; /**< default 16. */
	uint32_t arp_entries;   /**< ARP cache size; default 256. */
	uint32_t arp_retry_us;  /**< ARP request retry interval; default 200 ms. */
	uint32_t arp_retries;   /**< requests before giving up; default 3. */
	uint32_t arp_ttl_us;    /**< lifetime of a learned entry; default 300 s. */
	uint32_t icmp_rate;     /**< ICMP errors and echo replies per second; default 1000. */

	uint32_t rcvbuf; /**< receive buffer bytes per connection (in order + out of order); 256
	                    KiB. */
	uint32_t sndbuf; /**< send buffer bytes per connection; default 256 KiB. */
	uint32_t reass_max_segs; /**< out-of-order segments held per connection; default 64. */
	uint32_t rto_min_us;   /**< RFC 6298 lower bound; default 5 ms (datacenter, not Linux's 200
	                          ms). */
	uint32_t rto_max_us;   /**< default 60 s. */
	uint32_t rto_init_us;  /**< before any RTT sample; default 1 s (RFC 6298 2.1). */
	uint32_t syn_retries;  /**< SYN / SYN-ACK retransmissions before giving up; default 6. */
	uint32_t data_retries; /**< retransmissions of data before the connection fails; default 15.
	                        */
	uint32_t delack_us;    /**< delayed ACK; 0 = off (ACK every segment); default 0. */
	uint32_t msl_us;       /**< TIME_WAIT lasts 2 MSL; default 30 s. */
	uint32_t keepalive_idle_us;  /**< keepalive after this idle time; 0 = off (default). */
	uint32_t keepalive_intvl_us; /**< between probes; default 75 s. */
	uint32_t keepalive_probes; /**< unanswered probes before the connection fails; default 9. */
	uint32_t syn_backlog; /**< half-open connections per listener before SYN cookies; default
	                         256. */
	uint32_t challenge_ack_limit; /**< challenge ACKs per second (RFC 5961 7); default 1000. */
	uint16_t ephemeral_lo; /**< local port range for connect without a picker; default 32768. */
	uint16_t ephemeral_hi; /**< default 60999. */
	enum gale_tcp_cc cc;   /**< congestion control; default NewReno. */
	bool syncookies; /**< answer with SYN cookies when a listener's backlog is full; default on.
	                  */
	bool nagle;      /**< Nagle's algorithm for new connections; default off. */
	bool timestamps; /**< offer RFC 7323 timestamps; default on. */
	bool window_scaling;    /**< offer RFC 7323 window scaling; default on. */
	bool sack;              /**< offer RFC 2018 SACK; default on. */
	bool ack_at_flush; /**< the ACKs a receive burst owes (delack_us 0) wait for
	                      gale_stack_ack_flush instead of leaving at the end of
	                      gale_stack_input: a caller that answers the burst in between (the
	                      runtime's work callback) sends them on its replies; default off. */
	uint64_t isn_secret[2]; /**< RFC 6528 / cookie key; zero = drawn from rte_rand at creation.
	                         */
};

#define GALE_STACK_TX_STUCK_US    10000u /**< see gale_stack_flush. */
#define GALE_STACK_TX_STUCK_TRIES 8u     /**< see gale_stack_flush. */

/** Per-worker counters: X(name, description). Every drop and every event has one. */
#define GALE_STACK_STATS(X)                                                                        \
	X(eth_rx, "frames received")                                                               \
	X(eth_drop_short, "frames shorter than an Ethernet header")                                \
	X(eth_drop_dst, "frames not for our MAC or broadcast")                                     \
	X(eth_drop_type, "frames of an unhandled ethertype")                                       \
	X(arp_rx, "ARP packets received")                                                          \
	X(arp_drop_bad, "malformed ARP packets")                                                   \
	X(arp_drop_other, "ARP packets for another address")                                       \
	X(arp_req_rx, "ARP requests for us")                                                       \
	X(arp_reply_rx, "ARP replies received")                                                    \
	X(arp_req_tx, "ARP requests sent")                                                         \
	X(arp_reply_tx, "ARP replies sent")                                                        \
	X(arp_gratuitous_tx, "gratuitous ARPs sent")                                               \
	X(arp_learned, "ARP mappings learned or refreshed")                                        \
	X(arp_timeout, "ARP resolutions that failed")                                              \
	X(arp_hold_drop, "packets dropped waiting for ARP")                                        \
	X(ip_rx, "IPv4 packets received")                                                          \
	X(ip_tx, "IPv4 packets sent")                                                              \
	X(ip_drop_short, "IPv4 packets shorter than their header")                                 \
	X(ip_drop_version, "IP packets not version 4")                                             \
	X(ip_drop_hdrlen, "IPv4 header length invalid")                                            \
	X(ip_drop_len, "IPv4 total length invalid")                                                \
	X(ip_drop_cksum, "IPv4 header checksum errors")                                            \
	X(ip_drop_frag, "IPv4 fragments (not reassembled)")                                        \
	X(ip_drop_dst, "IPv4 packets not for our address")                                         \
	X(ip_drop_src, "IPv4 packets from an invalid source")                                      \
	X(ip_drop_proto, "IPv4 packets of an unhandled protocol")                                  \
	X(ip_drop_noroute, "packets to send with no route")                                        \
	X(icmp_rx, "ICMP messages received")                                                       \
	X(icmp_drop_bad, "malformed ICMP messages")                                                \
	X(icmp_drop_cksum, "ICMP checksum errors")                                                 \
	X(icmp_echo_tx, "ICMP echo replies sent")                                                  \
	X(icmp_unreach_tx, "ICMP destination unreachable sent")                                    \
	X(icmp_rate_limited, "ICMP messages not sent (rate limit)")                                \
	X(icmp_ignored, "ICMP messages of other types ignored")                                    \
	X(tcp_rx, "TCP segments received")                                                         \
	X(tcp_tx, "TCP segments sent")                                                             \
	X(tcp_tso_tx, "TCP segments sent for the NIC to cut into MSS-sized frames (TSO)")          \
	X(tcp_drop_short, "TCP segments shorter than their header")                                \
	X(tcp_drop_cksum, "TCP checksum errors")                                                   \
	X(tcp_drop_flags, "TCP segments with illegal flag combinations")                           \
	X(tcp_drop_noport, "TCP segments for no connection or listener")                           \
	X(tcp_drop_paws, "TCP segments rejected by PAWS")                                          \
	X(tcp_drop_out_of_window, "TCP segments outside the receive window")                       \
	X(tcp_drop_badack, "TCP segments acknowledging unsent data")                               \
	X(tcp_drop_listen, "bad segments to a listener")                                           \
	X(tcp_drop_reass_full, "out-of-order segments dropped: reassembly full")                   \
	X(tcp_drop_after_close, "data after the application closed (RST sent)")                    \
	X(tcp_drop_conn_limit, "connections refused: table full")                                  \
	X(tcp_rst_rx, "RSTs accepted")                                                             \
	X(tcp_rst_ignored, "RSTs ignored (outside the window)")                                    \
	X(tcp_rst_tx, "RSTs sent")                                                                 \
	X(tcp_challenge_ack_tx, "RFC 5961 challenge ACKs sent")                                    \
	X(tcp_challenge_ack_limited, "challenge ACKs suppressed by the rate limit")                \
	X(tcp_syn_rx, "SYNs received by listeners")                                                \
	X(tcp_synack_tx, "SYN-ACKs sent (incl. retransmissions)")                                  \
	X(tcp_backlog_drop, "SYNs dropped: backlog full, cookies off")                             \
	X(tcp_syncookie_tx, "SYN cookies sent")                                                    \
	X(tcp_syncookie_ok, "SYN cookies validated")                                               \
	X(tcp_syncookie_bad, "ACKs to a listener with a bad cookie")                               \
	X(tcp_conn_active, "connections opened (connect)")                                         \
	X(tcp_conn_passive, "connections accepted")                                                \
	X(tcp_conn_established, "connections established")                                         \
	X(tcp_conn_closed, "connections closed (freed)")                                           \
	X(tcp_conn_reset, "connections reset by the peer")                                         \
	X(tcp_conn_refused, "connects refused by the peer")                                        \
	X(tcp_conn_timeout, "connections dropped after retransmission or keepalive timeout")       \
	X(tcp_conn_aborted, "connections aborted by the application")                              \
	X(tcp_timewait_reuse, "TIME_WAIT connections reused by a new SYN")                         \
	X(tcp_seg_data_rx, "segments with payload received")                                       \
	X(tcp_bytes_rx, "payload bytes received in order")                                         \
	X(tcp_bytes_tx, "payload bytes sent (first transmissions)")                                \
	X(tcp_ack_tx, "pure ACKs sent")                                                            \
	X(tcp_delack, "delayed ACKs sent by the timer")                                            \
	X(tcp_dupack_rx, "duplicate ACKs received")                                                \
	X(tcp_rexmt_timeout, "retransmission timeouts")                                            \
	X(tcp_rexmt_seg, "segments retransmitted")                                                 \
	X(tcp_fast_rexmt, "fast retransmits")                                                      \
	X(tcp_early_rexmt, "fast retransmits on fewer than 3 duplicate ACKs (RFC 5827)")           \
	X(tcp_fast_recovery, "NewReno fast recoveries entered")                                    \
	X(tcp_sack_recovery, "SACK-based recoveries entered")                                      \
	X(tcp_sack_rexmt, "segments retransmitted from the SACK scoreboard")                       \
	X(tcp_tlp_probe, "tail loss probes sent (RFC 8985)")                                       \
	X(tcp_tlp_recovery, "recoveries entered when a tail loss probe was SACKed")                \
	X(tcp_rto_spurious, "retransmission timeouts undone as spurious (RFC 3522 / RFC 4015)")    \
	X(tcp_sack_blocks_rx, "SACK blocks received")                                              \
	X(tcp_sack_blocks_tx, "SACK blocks sent")                                                  \
	X(tcp_ooo_seg, "out-of-order segments queued")                                             \
	X(tcp_dup_seg, "duplicate segments (all data already received)")                           \
	X(tcp_rtt_sample, "RTT samples taken")                                                     \
	X(tcp_persist_probe, "zero-window probes sent")                                            \
	X(tcp_keepalive_probe, "keepalive probes sent")                                            \
	X(tcp_nombuf, "TCP sends that found no packet buffer")                                     \
	X(tx_frames, "frames handed to tx_burst")                                                  \
	X(tx_drop_full, "frames dropped: tx queue full")                                           \
	X(tx_nombuf, "frames not built: no packet buffer")                                         \
	X(tx_drop_stuck, "frames dropped: refused by tx_burst for too long at the queue's head")

/** The counters, one uint64_t per GALE_STACK_STATS entry, in order. */
struct gale_stack_stats {
#define GALE__STACK_STAT_FIELD(name, desc) uint64_t name;
	GALE_STACK_STATS(GALE__STACK_STAT_FIELD)
#undef GALE__STACK_STAT_FIELD
};

/** Number of counters, and their names ("tcp_rst_tx", ...) in struct order, for telemetry. */
#define GALE_STACK_NB_STATS (sizeof(struct gale_stack_stats) / sizeof(uint64_t))
extern const char *const gale_stack_stat_names[];

/** Fill conf with every default (and zero addresses and pointers). */
void gale_stack_conf_init(struct gale_stack_conf *conf);

/** Create a stack. NULL with rte_errno set (EINVAL for a bad conf, ENOMEM) on failure. */
struct gale_stack *gale_stack_create(const struct gale_stack_conf *conf);

/** Abort every connection (no callbacks), free every held buffer and the stack. Accepts NULL. */
void gale_stack_free(struct gale_stack *stack);

/** Process received frames. Consumes all nb_pkts mbufs. May call connection callbacks. */
void gale_stack_input(struct gale_stack *stack, struct rte_mbuf **pkts, uint16_t nb_pkts);

/**
 * Hand queued frames to tx_burst. Returns how many were taken; the rest stay queued. A frame that
 * tx_burst keeps refusing at the head of the queue (no progress on GALE_STACK_TX_STUCK_TRIES calls
 * spanning GALE_STACK_TX_STUCK_US of the timer wheel's time) is dropped and counted in
 * tx_drop_stuck, so one frame a device will never take cannot block everything behind it.
 */
unsigned int gale_stack_flush(struct gale_stack *stack);

/**
 * Send the ACKs that received segments still owe (none were carried by data sent since). With
 * conf.ack_at_flush the owner calls it once it has answered what gale_stack_input delivered, at
 * the latest before its gale_stack_flush; without, gale_stack_input does it and this finds none.
 */
void gale_stack_ack_flush(struct gale_stack *stack);

/** Frames waiting in the stack's tx queue. */
unsigned int gale_stack_tx_pending(const struct gale_stack *stack);

/** Send a gratuitous ARP for our address (do it when the port comes up). 0 or -ENOBUFS. */
int gale_stack_arp_announce(struct gale_stack *stack);

/** Add or refresh a mapping (from another worker, or static). 0 or -ENOSPC. Does not call
 * arp_learn. */
int gale_stack_arp_add(struct gale_stack *stack, uint32_t ip, const struct rte_ether_addr *mac);

/** Look up a resolved mapping. 0 and *mac set, or -ENOENT. */
int gale_stack_arp_lookup(const struct gale_stack *stack, uint32_t ip, struct rte_ether_addr *mac);

/** The stack's counters (live; read-only for others). */
const struct gale_stack_stats *gale_stack_stats(const struct gale_stack *stack);

/** Connections in use (any state, TIME_WAIT included). */
unsigned int gale_stack_conn_count(const struct gale_stack *stack);

/** Connections whose state is one of the GALE_TCPS_* bits of states (gale/tcp.h); not for the data
 * path. */
unsigned int gale_stack_conn_count_in(const struct gale_stack *stack, uint32_t states);

/** Packet buffers held by the stack (send, receive, reassembly, ARP hold and tx queues). */
unsigned int gale_stack_mbufs_held(const struct gale_stack *stack);

/** The configuration the stack runs with (defaults applied). */
const struct gale_stack_conf *gale_stack_conf(const struct gale_stack *stack);

#endif /* GALE_TCPSTACK_H */
