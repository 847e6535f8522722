/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TCP control block and what tcp_*.c share. Private to tcpstack/.
 *
 * Names follow FreeBSD's tcp_var.h (snd_una, rcv_nxt, t_maxseg, ...) so that RFC 9293 and FreeBSD's
 * code read across. Buffers are mbuf chains: the send buffer holds every byte from snd_una on
 * (acknowledged bytes are freed from its front), the receive chain holds in-order bytes not yet
 * consumed by the application, and the reassembly slots hold out-of-order segments, sorted,
 * non-overlapping, bounded by reass_max_segs and rcvbuf.
 *
 * Callbacks are never made from the middle of processing: events are latched in `events` and
 * delivered by gale__tcp_unbusy when the outermost entry into the connection (input, timer, API
 * call) finishes, so a callback that closes or aborts its own connection never pulls a control
 * block out from under the code running it.
 */
#ifndef GALE_TCP_VAR_H
#define GALE_TCP_VAR_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_tcp.h>

#include "gale/offload.h"

#include "stack_var.h"
#include "tcp_seq.h"

/* State sets. */
#define GALE_TCPS_HAVE_RCVD_SYN                                                                    \
	(GALE_TCPS_SYN_RECEIVED | GALE_TCPS_ESTABLISHED | GALE_TCPS_CLOSE_WAIT |                   \
	 GALE_TCPS_FIN_WAIT_1 | GALE_TCPS_CLOSING | GALE_TCPS_LAST_ACK | GALE_TCPS_FIN_WAIT_2 |    \
	 GALE_TCPS_TIME_WAIT)
#define GALE_TCPS_SYNCHRONIZED (GALE_TCPS_HAVE_RCVD_SYN & ~GALE_TCPS_SYN_RECEIVED)
#define GALE_TCPS_HAVE_RCVD_FIN                                                                    \
	(GALE_TCPS_CLOSE_WAIT | GALE_TCPS_CLOSING | GALE_TCPS_LAST_ACK | GALE_TCPS_TIME_WAIT)
#define GALE_TCPS_CAN_RCV_DATA (GALE_TCPS_ESTABLISHED | GALE_TCPS_FIN_WAIT_1 | GALE_TCPS_FIN_WAIT_2)
#define GALE_TCPS_SENT_FIN                                                                         \
	(GALE_TCPS_FIN_WAIT_1 | GALE_TCPS_CLOSING | GALE_TCPS_LAST_ACK | GALE_TCPS_FIN_WAIT_2 |    \
	 GALE_TCPS_TIME_WAIT)

/* t_flags */
#define GALE_TF_ACKNOW      0x00000001u /**< send an ACK now. */
#define GALE_TF_DELACK      0x00000002u /**< an ACK is owed (delayed). */
#define GALE_TF_NODELAY     0x00000004u /**< Nagle off. */
#define GALE_TF_SHUT_WR     0x00000008u /**< FIN after the queued data. */
#define GALE_TF_REQ_SCALE   0x00000010u /**< we offered window scaling. */
#define GALE_TF_RCVD_SCALE  0x00000020u /**< peer offered it. */
#define GALE_TF_REQ_TSTMP   0x00000040u /**< we offered timestamps. */
#define GALE_TF_RCVD_TSTMP  0x00000080u /**< both use timestamps. */
#define GALE_TF_SACK_PERMIT 0x00000100u /**< both use SACK. */
#define GALE_TF_APP_CLOSED  0x00000200u /**< the application closed; data arriving now resets. */
#define GALE_TF_CLOSED_CB   0x00000400u /**< closed callback delivered (or application gone). */
#define GALE_TF_FASTRECOV   0x00000800u /**< in fast recovery (NewReno or SACK). */
#define GALE_TF_WANT_WRITE  0x00001000u /**< a send was refused: tell writable. */
#define GALE_TF_PERSIST     0x00002000u /**< the rexmt timer is the persist timer. */
#define GALE_TF_FORCE       0x00004000u /**< send one byte into a zero window (probe). */
#define GALE_TF_IN_TABLE    0x00008000u /**< in the 4-tuple table. */
#define GALE_TF_COOKIE      0x00010000u /**< created from a SYN cookie. */
#define GALE_TF_RCVD_FIN    0x00020000u /**< the peer's FIN is in sequence (rcv_nxt counts it). */
#define GALE_TF_ACCEPTED    0x00040000u /**< accept callback ran (passive) or connect returned. */
#define GALE_TF_SACK_REXMT  0x00080000u /**< recovery driven by the SACK scoreboard. */
#define GALE_TF_SYN_REXMT                                                                          \
	0x00100000u /**< the SYN was retransmitted (Karn: no sample, RFC 6298 5.7). */
#define GALE_TF_ACKPEND                                                                            \
	0x00400000u /**< an ACK is owed by the end of the receive burst (gale__tcp_ack_flush). */
#define GALE_TF_PTO                                                                                \
	0x00800000u /**< the rexmt timer is the tail loss probe's timeout (RFC 8985 7.2). */
#define GALE_TF_TLP 0x01000000u /**< a tail loss probe is out, up to tlp_high (RFC 8985 7.3). */
#define GALE_TF_RTO_UNDO                                                                           \
	0x02000000u /**< after a timeout: undo it if the next ACK proves it spurious (RFC 3522).   \
	             */
#define GALE_TF_SENTFIN                                                                            \
	0x00200000u /**< our FIN has been sent (it is at snd_max - 1 once sent).                   \
	             */

/* events latched for delivery */
#define GALE__EV_CONNECTED 0x01u
#define GALE__EV_READABLE  0x02u
#define GALE__EV_WRITABLE  0x04u
#define GALE__EV_ERROR     0x08u
#define GALE__EV_CLOSED    0x10u

#define GALE__SACK_SCOREBOARD  8 /**< SACK blocks remembered from the peer. */
#define GALE__SACK_SEND        4 /**< SACK blocks we report (3 with timestamps). */
#define GALE__TCP_MAXWIN       65535u
#define GALE__TCP_MAX_WINSHIFT 14
#define GALE__TCP_IW_SEGS      10u /**< RFC 6928. */

/** A range [start, end) of sequence space. */
struct gale__seq_block {
	uint32_t start;
	uint32_t end;
};

/** One out-of-order segment held for reassembly. */
struct gale__reass_seg {
	uint32_t seq;       /**< first byte. */
	uint32_t len;       /**< payload bytes (the mbuf chain holds exactly these). */
	bool fin;           /**< a FIN follows the last byte. */
	struct rte_mbuf *m; /**< payload only, headers stripped (owned). */
};

struct gale_tcp_conn {
	struct gale_stack *stack;        /**< owner. */
	struct gale_tcp_conn *next_free; /**< free list link. */
	uint32_t hash;                   /**< 4-tuple hash (table probing). */
	uint32_t laddr, faddr;           /**< host order. */
	uint16_t lport, fport;           /**< host order. */
	uint32_t state;                  /**< GALE_TCPS_*. */
	uint32_t t_flags;                /**< GALE_TF_*. */
	uint16_t listen_port;            /**< passive: the listener's port (0 for active opens). */
	bool halfopen;                   /**< counted in its listener's nhalfopen. */

	struct gale_tcp_callbacks cbs; /**< the application's callbacks. */
	void *cb_arg;                  /**< their argument. */
	uint8_t events;                /**< GALE__EV_* to deliver. */
	uint8_t busy;                  /**< nesting of entries into this connection. */
	int error;                     /**< the error to report (negative errno). */

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_sndwnd; /**< largest window the peer offered. */
	uint32_t snd_cwnd, snd_ssthresh;
	uint32_t snd_recover;         /**< RFC 6582 "recover". */
	uint32_t sack_rexmit_nxt;     /**< SACK recovery: next hole byte to consider. */
	uint32_t tlp_high;            /**< snd_max when the tail loss probe went. */
	uint32_t undo_cwnd, undo_ssthresh; /**< cwnd and ssthresh before a timeout (RFC 4015). */
	uint32_t undo_tsval;               /**< TSval of the timeout's first retransmission. */
	uint16_t t_maxseg;            /**< payload bytes per segment (options excluded). */
	uint16_t peer_mss;            /**< MSS option the peer sent (536 when absent). */
	uint8_t snd_scale, rcv_scale; /**< window shifts in use. */
	uint8_t request_r_scale;      /**< the shift we offered. */
	uint8_t rxtshift;             /**< consecutive retransmission timeouts. */
	uint8_t dupacks;              /**< consecutive duplicate ACKs. */
	uint8_t keep_probes;          /**< unanswered keepalive probes. */
	uint8_t nsackblks;            /**< entries in sackblks. */
	uint8_t nsack_send;           /**< entries in sack_send. */
	uint32_t t_rexmits;           /**< total retransmissions. */

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv;
	uint32_t rcv_wnd_cur; /**< last window advertised (bytes). */

	/* RFC 7323 */
	uint32_t ts_recent;        /**< peer's TSval to echo. */
	uint64_t ts_recent_age_us; /**< when ts_recent was set. */
	uint32_t last_ack_sent;    /**< rcv_nxt in our last ACK. */
	uint32_t ts_offset;        /**< random per connection, hides our clock. */

	/* RFC 6298 */
	bool rtt_active;       /**< a segment is being timed. */
	uint32_t rtseq;        /**< its sequence number. */
	uint64_t rtt_start_us; /**< when it was sent. */
	uint32_t srtt_us, rttvar_us, rto_us;

	/* CUBIC (RFC 8312) */
	uint32_t cubic_wmax;     /**< W_max in bytes. */
	uint64_t cubic_epoch_us; /**< start of the current epoch; 0 = none. */
	uint32_t cubic_k_ms;     /**< K in ms. */

	/* buffers */
	struct rte_mbuf *snd_head, *snd_tail; /**< bytes from snd_una on. */
	uint32_t snd_cc;                      /**< bytes in the send buffer. */
	struct rte_mbuf *snd_cur; /**< tcp_output's place in the send buffer: the buffer whose */
	uint32_t snd_cur_seq;     /**< first byte is this seq (valid only while >= snd_una). */
	struct rte_mbuf *rcv_head, *rcv_tail; /**< in-order bytes for the application. */
	uint32_t rcv_cc;                      /**< bytes in the receive chain. */
	struct gale__reass_seg *reass;        /**< reass_max_segs slots, sorted by seq. */
	uint32_t reass_n;                     /**< slots in use. */
	uint32_t reass_bytes;                 /**< bytes held there. */

	struct gale__seq_block
	        sackblks[GALE__SACK_SCOREBOARD]; /**< SACKed by the peer, above snd_una. */
	struct gale__seq_block sack_send[GALE__SACK_SEND]; /**< to report; most recent first. */

	uint64_t last_rx_us; /**< keepalive idle reference. */

	struct gale_timer t_rexmt;  /**< retransmission and persist. */
	struct gale_timer t_delack; /**< delayed ACK. */
	struct gale_timer t_keep;   /**< connection establishment and keepalive. */
	struct gale_timer t_2msl;   /**< TIME_WAIT and FIN_WAIT_2. */
};

/* tcp_subr.c */
struct gale_tcp_conn *gale__tcp_lookup(struct gale_stack *s, uint32_t laddr, uint16_t lport,
                                       uint32_t faddr, uint16_t fport);
struct gale_tcp_conn *gale__tcp_newconn(struct gale_stack *s, uint32_t laddr, uint16_t lport,
                                        uint32_t faddr, uint16_t fport);
struct gale__listener *gale__tcp_listener(struct gale_stack *s, uint16_t port);
uint32_t gale__tcp_isn(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                       uint16_t fport);
void gale__tcp_busy(struct gale_tcp_conn *tp);
void gale__tcp_unbusy(struct gale_tcp_conn *tp);
void gale__tcp_close(struct gale_tcp_conn *tp);
void gale__tcp_drop(struct gale_tcp_conn *tp, int err);
void gale__tcp_event(struct gale_tcp_conn *tp, uint8_t ev);
void gale__tcp_set_mss(struct gale_tcp_conn *tp);
void gale__tcp_init_cwnd(struct gale_tcp_conn *tp);
uint8_t gale__tcp_wscale_for(uint32_t buf);
void gale__tcp_enter_timewait(struct gale_tcp_conn *tp);
void gale__tcp_established(struct gale_tcp_conn *tp);
uint32_t gale__tcp_rcv_space(const struct gale_tcp_conn *tp);
void gale__tcp_snd_drop(struct gale_tcp_conn *tp, uint32_t n);
int gale__tcp_respond(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                      uint16_t fport, uint32_t seq, uint32_t ack, uint8_t flags);
bool gale__tcp_challenge_allowed(struct gale_stack *s);
void gale__mbuf_chain_free(struct rte_mbuf *m);
struct rte_mbuf *gale__mbuf_adj(struct rte_mbuf *m, uint32_t len);
void gale__mbuf_trim(struct rte_mbuf *m, uint32_t len);
uint32_t gale__syncookie_make(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                              uint16_t fport, uint32_t irs, uint16_t mss, uint16_t *mss_out);
int gale__syncookie_check(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                          uint16_t fport, uint32_t irs, uint32_t cookie, uint16_t *mss);

/* tcp_output.c */
int gale__tcp_output(struct gale_tcp_conn *tp);
void gale__tcp_ack_now(struct gale_tcp_conn *tp);
void gale__tcp_setpersist(struct gale_tcp_conn *tp);
int gale__tcp_send_cookie_synack(struct gale_stack *s, uint32_t laddr, uint16_t lport,
                                 uint32_t faddr, uint16_t fport, uint32_t iss, uint32_t ack,
                                 uint16_t mss);
uint32_t gale__tcp_ts_now(const struct gale_tcp_conn *tp);

/* tcp_timer.c */
void gale__tcp_timer_init(struct gale_tcp_conn *tp);
void gale__tcp_timers_cancel(struct gale_tcp_conn *tp);
void gale__tcp_rexmt_arm(struct gale_tcp_conn *tp);
void gale__tcp_rexmt_stop(struct gale_tcp_conn *tp);
void gale__tcp_tlp_send(struct gale_tcp_conn *tp);
void gale__tcp_rtt_update(struct gale_tcp_conn *tp, uint32_t rtt_us);
void gale__tcp_keep_arm(struct gale_tcp_conn *tp);
void gale__tcp_delack_arm(struct gale_tcp_conn *tp);

/* tcp_reass.c */
int gale__tcp_reass(struct gale_tcp_conn *tp, uint32_t seq, struct rte_mbuf *m, uint32_t len,
                    bool fin);
void gale__tcp_reass_flush(struct gale_tcp_conn *tp);
bool gale__tcp_reass_pull(struct gale_tcp_conn *tp);
void gale__tcp_rcv_append(struct gale_tcp_conn *tp, struct rte_mbuf *m, uint32_t len);

/* tcp_sack.c */
void gale__tcp_sack_update_send(struct gale_tcp_conn *tp, uint32_t start, uint32_t end);
void gale__tcp_sack_prune_send(struct gale_tcp_conn *tp);
void gale__tcp_sack_rcvd(struct gale_tcp_conn *tp, const struct gale__seq_block *blks,
                         unsigned int n);
void gale__tcp_sack_clear(struct gale_tcp_conn *tp);
uint32_t gale__tcp_sacked_bytes(const struct gale_tcp_conn *tp);
uint32_t gale__tcp_sack_pipe(const struct gale_tcp_conn *tp);
bool gale__tcp_sack_next_hole(struct gale_tcp_conn *tp, uint32_t *seq, uint32_t *len);

/* tcp_input.c */
void gale__tcp_enter_recovery(struct gale_tcp_conn *tp);

/* tcp_cc.c */
void gale__cc_ack_received(struct gale_tcp_conn *tp, uint32_t acked);
void gale__cc_cong_signal(struct gale_tcp_conn *tp);
void gale__cc_after_idle_or_rto(struct gale_tcp_conn *tp);

#endif /* GALE_TCP_VAR_H */
