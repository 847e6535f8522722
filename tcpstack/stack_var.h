/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the stack's files share: the stack instance, the ARP cache, the tx queue and the helpers
 * that build and send frames. Private to tcpstack/.
 *
 * The tx queue holds built frames until gale_stack_flush (or until it holds a burst); it is
 * bounded, and TCP output stops producing segments when it is nearly full rather than have them
 * dropped (back-pressure), while ARP, ICMP and RST frames are dropped and counted when it is full.
 */
#ifndef GALE_STACK_VAR_H
#define GALE_STACK_VAR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <gale/tcp.h>
#include <gale/tcpstack.h>
#include <gale/timer.h>

#define GALE__TXQ_SIZE        512u /**< frames the stack queues between flushes. */
#define GALE__TX_BURST        32u  /**< flush as soon as this many are queued. */
#define GALE__TXQ_TCP_RESERVE 64u  /**< TCP output leaves this much room for control frames. */
#define GALE__ACKPEND_MAX     64u  /**< connections owing an ACK at the end of a receive burst. */

#define GALE__ARP_FREE       0
#define GALE__ARP_INCOMPLETE 1
#define GALE__ARP_RESOLVED   2
#define GALE__ARP_STATIC     3

/** One ARP cache entry. */
struct gale__arp_entry {
	uint32_t ip;               /**< host order; meaningful unless state is FREE. */
	uint8_t state;             /**< GALE__ARP_*. */
	uint8_t retries;           /**< requests sent while INCOMPLETE. */
	struct rte_ether_addr mac; /**< when RESOLVED or STATIC. */
	uint64_t expire_us;        /**< RESOLVED: end of life; INCOMPLETE: next retry. */
	struct rte_mbuf *hold; /**< one frame waiting for resolution (owned), as BSD's la_hold. */
};

/** A listener. */
struct gale__listener {
	uint16_t port;           /**< 0 = slot free. */
	uint32_t backlog;        /**< half-open connections allowed before cookies. */
	uint32_t nhalfopen;      /**< connections in SYN_RECEIVED from this listener. */
	gale_tcp_accept_cb_t cb; /**< accept callback. */
	void *arg;               /**< its argument. */
};

struct gale_stack {
	struct gale_stack_conf conf;   /**< defaults applied. */
	struct gale_stack_stats stats; /**< counters, this worker only. */

	struct rte_mbuf *txq[GALE__TXQ_SIZE]; /**< frames built, not yet taken by tx_burst. */
	unsigned int txq_len;                 /**< frames in txq. */
	uint64_t tx_stuck_us; /**< when tx_burst first refused txq[0] with no progress; 0 = not. */
	uint32_t tx_stuck_tries; /**< flushes since then that made no progress. */

	struct gale__arp_entry *arp; /**< the ARP cache (open addressing, linear probe). */
	uint32_t arp_mask;           /**< size - 1 (a power of two). */
	struct gale_timer arp_timer; /**< retries of incomplete entries. */

	uint64_t icmp_bucket_us; /**< ICMP token bucket: time of the last refill. */
	uint32_t icmp_tokens;    /**< tokens left. */
	uint64_t chack_second;   /**< challenge-ACK limit: current second. */
	uint32_t chack_count;    /**< challenge ACKs sent in it. */

	struct gale_tcp_conn *conns;      /**< max_conns control blocks. */
	struct gale_tcp_conn *free_conns; /**< free list. */
	uint32_t nconns;                  /**< in use. */
	struct gale_tcp_conn *
	        *table;      /**< 4-tuple hash, open addressing, backward-shift deletion. */
	uint32_t table_mask; /**< size - 1. */
	struct gale_tcp_conn *last_hit;   /**< what the last lookup found, NULL once it leaves the
	                                       table: a burst of one flow's segments skips the keyed
	                                       hash (SipHash, ~180 instructions a segment). */
	struct gale__listener *listeners; /**< max_listeners slots. */
	void *reass_mem;                  /**< reassembly slots of every connection. */
	uint16_t next_ephemeral;          /**< next local port to try without a picker. */
	uint16_t ip_id;                   /**< next IPv4 identification. */
	bool freeing;                     /**< in gale_stack_free: no callbacks. */
	unsigned int nackpend;            /**< entries in ackpend. */
	struct gale_tcp_conn *ackpend[GALE__ACKPEND_MAX]; /**< owe an ACK at the burst's end. */
};

/* stack.c */
uint64_t gale__now_us(const struct gale_stack *s);
int gale__txq_put(struct gale_stack *s, struct rte_mbuf *m);
unsigned int gale__txq_room(const struct gale_stack *s);
struct rte_mbuf *gale__pkt_alloc(struct gale_stack *s);
uint32_t gale__siphash(const uint64_t key[2], const void *data, size_t len);

/* eth / arp */
void gale__arp_input(struct gale_stack *s, struct rte_mbuf *m);
int gale__arp_resolve_and_send(struct gale_stack *s, uint32_t nexthop, struct rte_mbuf *m);
void gale__arp_timer_cb(struct gale_timer *t, void *arg);
void gale__arp_flush_all(struct gale_stack *s);

/* ip.c */
void gale__ip_input(struct gale_stack *s, struct rte_mbuf *m);
int gale__ip_output(struct gale_stack *s, struct rte_mbuf *m, uint32_t dst, uint8_t proto);
void gale__ip_fill_hdr(struct gale_stack *s, struct rte_mbuf *m, uint32_t src, uint32_t dst,
                       uint8_t proto);

/* icmp.c */
void gale__icmp_input(struct gale_stack *s, struct rte_mbuf *m, uint16_t l3_off);
void gale__icmp_unreach(struct gale_stack *s, const struct rte_mbuf *orig, uint16_t l3_off,
                        uint8_t code);

/* tcp_input.c */
void gale__tcp_input(struct gale_stack *s, struct rte_mbuf *m, uint16_t l3_off);
void gale__tcp_ack_flush(struct gale_stack *s);

/* tcp_subr.c */
void gale__tcp_free_all(struct gale_stack *s);
int gale__tcp_init(struct gale_stack *s);

/** Walk an mbuf chain's segments. */
static inline unsigned int
gale__mbuf_segs(const struct rte_mbuf *m)
{
	unsigned int n = 0;

	for (; m != NULL; m = m->next)
		n++;
	return n;
}

/* Plain min/max (the operands have no side effects); RTE_MIN nests badly under -Wshadow. */
#define GALE__MIN(a, b) ((a) < (b) ? (a) : (b))
#define GALE__MAX(a, b) ((a) > (b) ? (a) : (b))

#define GALE__STAT(s, name)        ((s)->stats.name++)
#define GALE__STAT_ADD(s, name, v) ((s)->stats.name += (v))

#endif /* GALE_STACK_VAR_H */
