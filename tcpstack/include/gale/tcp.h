/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP connections on a gale stack (gale/tcpstack.h): the zero-copy API the runtime builds on.
 *
 * Everything is callback driven and runs on the stack's worker. Receiving: the readable callback
 * says new in-order bytes are there; gale_tcp_recv_peek borrows the whole in-order receive chain
 * (the received mbufs themselves, headers stripped, never copied) and gale_tcp_consume releases
 * bytes from its front, which reopens the window. Sending: gale_tcp_send consumes a chain of mbufs
 * the caller filled, or refuses with -EAGAIN (leaving the chain to the caller) when the send buffer
 * is full; the writable callback says when space came back.
 *
 * A connection handle is valid from accept (or connect) until its closed callback returns; after
 * gale_tcp_close or gale_tcp_abort the application must not use it again except inside callbacks
 * still running. The error callback (ECONNRESET, ECONNREFUSED, ETIMEDOUT) is always followed by
 * closed. Callbacks may call any function here on any connection, including close and abort on
 * their own.
 */
#ifndef GALE_TCP_H
#define GALE_TCP_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct gale_stack;
struct gale_tcp_conn;

/** TCP states, as bit flags so that sets of states are masks. */
#define GALE_TCPS_CLOSED       0x0001u
#define GALE_TCPS_LISTEN       0x0002u
#define GALE_TCPS_SYN_SENT     0x0004u
#define GALE_TCPS_SYN_RECEIVED 0x0008u
#define GALE_TCPS_ESTABLISHED  0x0010u
#define GALE_TCPS_CLOSE_WAIT   0x0020u
#define GALE_TCPS_FIN_WAIT_1   0x0040u
#define GALE_TCPS_CLOSING      0x0080u
#define GALE_TCPS_LAST_ACK     0x0100u
#define GALE_TCPS_FIN_WAIT_2   0x0200u
#define GALE_TCPS_TIME_WAIT    0x0400u

/** Callbacks of one connection; any may be NULL. arg is the one given with them. */
struct gale_tcp_callbacks {
	void (*connected)(struct gale_tcp_conn *conn, void *arg); /**< active open completed. */
	void (*readable)(struct gale_tcp_conn *conn, void *arg);  /**< new in-order bytes or EOF. */
	void (*writable)(struct gale_tcp_conn *conn,
	                 void *arg); /**< send space came back (see send_space). */
	void (*error)(struct gale_tcp_conn *conn, void *arg,
	              int err); /**< negative errno; closed follows. */
	void (*closed)(struct gale_tcp_conn *conn,
	               void *arg); /**< last call; the handle dies after it. */
};

/**
 * A listener got a new connection (three-way handshake done). Return 0 to take it (set its
 * callbacks with gale_tcp_set_callbacks before returning), or a negative errno to refuse it (it is
 * reset).
 */
typedef int (*gale_tcp_accept_cb_t)(void *arg, struct gale_tcp_conn *conn);

/** A snapshot of a connection, for tests and diagnostics. */
struct gale_tcp_info {
	uint32_t state;                 /**< GALE_TCPS_*. */
	uint32_t laddr, raddr;          /**< addresses, host order. */
	uint16_t lport, rport;          /**< ports, host order. */
	uint16_t mss;                   /**< send MSS in use. */
	uint8_t snd_wscale, rcv_wscale; /**< window shifts (0 when scaling is off). */
	bool ts, sack;                  /**< timestamps and SACK negotiated. */
	uint32_t snd_una, snd_nxt, snd_wnd, cwnd, ssthresh; /**< send side. */
	uint32_t rcv_nxt, rcv_wnd;           /**< receive side (window as advertised, unscaled). */
	uint32_t srtt_us, rttvar_us, rto_us; /**< RFC 6298 estimator. */
	uint32_t snd_buffered; /**< bytes in the send buffer (unacknowledged and unsent). */
	uint32_t rcv_buffered; /**< in-order bytes not yet consumed. */
	uint32_t ooo_segs;     /**< out-of-order segments held. */
	uint32_t rexmits;      /**< retransmissions on this connection. */
};

/** Listen on port (all our addresses). 0, -EADDRINUSE, -ENOSPC. backlog 0 = the stack default. */
int gale_tcp_listen(struct gale_stack *stack, uint16_t port, uint32_t backlog,
                    gale_tcp_accept_cb_t cb, void *arg);

/** Stop listening; established connections are unaffected, half-open ones are reset. 0 or -ENOENT.
 */
int gale_tcp_unlisten(struct gale_stack *stack, uint16_t port);

/**
 * Open a connection to raddr:rport; the source port comes from the stack's port picker. *connp is
 * set at once (the connected or error callback follows). 0, -ENOSPC (table full), -EADDRNOTAVAIL
 * (no free port), -EINVAL.
 */
int gale_tcp_connect(struct gale_stack *stack, uint32_t raddr, uint16_t rport,
                     const struct gale_tcp_callbacks *cbs, void *arg, struct gale_tcp_conn **connp);

/** Set the callbacks of conn (typically in the accept callback). */
void gale_tcp_set_callbacks(struct gale_tcp_conn *conn, const struct gale_tcp_callbacks *cbs,
                            void *arg);

/**
 * Queue a chain of mbufs for sending. Consumes the chain on 0. On -EAGAIN (send buffer full: less
 * than the chain's length free) or -ENOTCONN / -EPIPE (cannot send any more) the chain stays the
 * caller's.
 */
int gale_tcp_send(struct gale_tcp_conn *conn, struct rte_mbuf *chain);

/**
 * Bytes gale_tcp_send would accept now. When it returns 0 (as when gale_tcp_send returns -EAGAIN)
 * the writable callback is armed: it runs once acknowledgements free space.
 */
uint32_t gale_tcp_send_space(struct gale_tcp_conn *conn);

/**
 * Borrow the in-order receive chain: NULL when empty, else the first mbuf of a chain holding *len
 * bytes (pkt_len and nb_segs of the head are coherent). Valid until the next consume, close or
 * return to the stack.
 */
const struct rte_mbuf *gale_tcp_recv_peek(const struct gale_tcp_conn *conn, uint32_t *len);

/** Release len bytes from the front of the receive chain. 0, or -EINVAL when len exceeds what is
 * there. */
int gale_tcp_consume(struct gale_tcp_conn *conn, uint32_t len);

/** True once the peer's FIN was received and every byte before it is in the receive chain. */
bool gale_tcp_eof(const struct gale_tcp_conn *conn);

/** Half-close: send FIN after the queued data; receiving continues. 0 or -ENOTCONN. */
int gale_tcp_shutdown(struct gale_tcp_conn *conn);

/**
 * Close: like shutdown, and the application is done with the connection (unread data is dropped;
 * data still arriving resets it, RFC 1122 4.2.2.13). The closed callback follows once the close
 * completes.
 */
int gale_tcp_close(struct gale_tcp_conn *conn);

/** Abort: send RST, drop every buffer; the closed callback is called before this returns. */
void gale_tcp_abort(struct gale_tcp_conn *conn);

/** Nagle's algorithm on or off for this connection. */
void gale_tcp_set_nodelay(struct gale_tcp_conn *conn, bool nodelay);

/** Fill info. */
void gale_tcp_get_info(const struct gale_tcp_conn *conn, struct gale_tcp_info *info);

/** The stack a connection belongs to. */
struct gale_stack *gale_tcp_stack(const struct gale_tcp_conn *conn);

/** Name of a GALE_TCPS_* state ("ESTABLISHED"), "?" for anything else. */
const char *gale_tcp_state_name(uint32_t state);

#endif /* GALE_TCP_H */
