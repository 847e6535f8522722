/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers for tcpstack (after lwIP's test/unit/tcp/tcp_helper.c): one stack on a
 * captured-transmit fake port, a timer wheel whose clock the test moves, segment builders for the
 * peer (198.18.0.1, MAC 02:..:01) and a parser for what the stack sent (checksums verified on every
 * captured frame).
 */
#ifndef GALE_TEST_TCP_HELPER_H
#define GALE_TEST_TCP_HELPER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <gale/tcp.h>
#include <gale/tcpstack.h>
#include <gale/timer.h>

#define TH_PEER_IP  0xc6120001u /* 198.18.0.1 */
#define TH_LOCAL_IP 0xc6120002u /* 198.18.0.2 */
#define TH_MAXCAP   2048

#define TH_F_FIN 0x01
#define TH_F_SYN 0x02
#define TH_F_RST 0x04
#define TH_F_PSH 0x08
#define TH_F_ACK 0x10

/** A segment the test sends (zero fields are absent options). */
struct th_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss; /**< MSS option when non-zero. */
	int ws;       /**< window scale option when >= 0; set -1 for none (th_seg_init does). */
	bool sackperm;
	bool ts;
	uint32_t tsval, tsecr;
	unsigned int nsack;
	uint32_t sack[4][2];
	const void *data;
	uint32_t len;
	bool bad_cksum;
	uint32_t src_ip; /**< 0 = TH_PEER_IP. */
};

/** A frame the stack sent, parsed. */
struct th_out {
	bool tcp, arp, icmp;
	uint16_t arp_op;
	uint32_t arp_tip, arp_sip;
	uint8_t icmp_type, icmp_code;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;
	int ws;
	bool sackperm, ts;
	uint32_t tsval, tsecr;
	unsigned int nsack;
	uint32_t sack[4][2];
	uint32_t len;
	uint32_t frame_len; /**< the whole Ethernet frame, headers included. */
	uint8_t data[9000];
	struct rte_ether_addr eth_dst;
};

/** Events a connection reported. */
struct th_events {
	unsigned int connected, readable, writable, closed;
	int error;
	struct gale_tcp_conn *conn;
};

struct th_env {
	struct rte_mempool *pool;
	struct gale_timer_wheel *wheel;
	struct gale_stack *s;
	struct gale_stack_conf conf;
	uint64_t now;
	struct rte_mbuf *cap[TH_MAXCAP];
	unsigned int ncap, capr;
	struct gale_tcp_conn *accepted;
	struct th_events ev;
	bool auto_consume;
	bool auto_echo; /**< the readable callback sends back what arrived (then consumes it). */
	bool refuse_accept;
	bool refuse_arp; /**< the fake port refuses ARP frames (and so what queues behind one). */
};

extern struct th_env th;
extern const struct rte_ether_addr th_peer_mac;
extern const struct rte_ether_addr th_local_mac;
extern const struct gale_tcp_callbacks th_cbs;

int th_global_setup(void **state);
int th_global_teardown(void **state);
/** Fill conf with the test defaults (can then be changed before th_stack_start). */
void th_conf_default(struct gale_stack_conf *conf);
/** Create th.s from th.conf, with the peer's MAC in the ARP cache. */
void th_stack_start(void);
/** Free the stack, check no mbuf is left from the pool. */
void th_stack_stop(void);
int th_setup(void **state);
int th_teardown(void **state);

void th_seg_init(struct th_seg *sg, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                 uint8_t flags);
struct rte_mbuf *th_build(const struct th_seg *sg);
void th_input(const struct th_seg *sg);
void th_input_mbuf(struct rte_mbuf *m);
/** Pop the next frame the stack sent; false when none. */
bool th_pop(struct th_out *o);
/** Pop and require a TCP segment. */
void th_pop_tcp(struct th_out *o);
struct rte_ipv4_hdr;
/**
 * Pop the next frame the stack sent, of one buffer or a chain: checks the mbuf (rte_mbuf_check),
 * reads its bytes into buf (cap bytes at least its length; a chain is copied there), requires an
 * IPv4 TCP segment whose total length is the frame's, and returns its IPv4 header (in the mbuf or
 * in buf) with the mbuf in *mp for the caller to inspect and free. NULL when none is left.
 */
const struct rte_ipv4_hdr *th_pop_chain(struct rte_mbuf **mp, uint8_t *buf, size_t cap);
unsigned int th_pending(void);
void th_drain(void);
void th_advance(uint64_t us);

/** Listen on port with the test's accept callback. */
void th_listen(uint16_t port);
/** Handshake from the peer: SYN (with options if opts), SYN-ACK check, ACK. Returns the accepted
 * conn. */
struct gale_tcp_conn *th_passive_open(uint16_t lport, uint16_t pport, uint32_t peer_isn, bool opts,
                                      struct th_out *synack);
/** Handshake started by gale_tcp_connect; peer answers with SYN-ACK. */
struct gale_tcp_conn *th_active_open(uint16_t pport, uint32_t peer_isn, bool opts,
                                     struct th_out *syn);
/** An mbuf chain holding len bytes of pattern starting at off. */
struct rte_mbuf *th_payload(uint32_t len, uint32_t off);
uint8_t th_pattern(uint32_t i);
uint32_t th_state(const struct gale_tcp_conn *c);

#endif
