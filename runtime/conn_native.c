/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native backend of gale/conn.h: gale's TCP stack (gale/tcp.h) on the worker's DPDK queue.
 *
 * One instance per worker (and per user: the RPC server and the RPC client of a worker each have
 * their own) on the stack the runtime made for that worker; every call runs on that worker.
 *
 * Events: the stack calls its callbacks while it processes input, timers, or one of our own calls
 * into it. None of them reaches the application from there: connected, readable and writable are
 * latched on the connection, which goes on the ready list; error is remembered; closed moves the
 * connection to the dead list. gale_conn_poll (the RPC layer's work callback, after the worker's
 * rx) delivers the ready events and then reaps the dead (error, then closed, then free). So no
 * callback ever runs inside the call that caused it, and closed is always last, as on kernel.
 *
 * Receiving without copying: gale_conn_recv_peek shows the stack's in-order receive chain, one
 * segment per mbuf, and gale_conn_consume releases it into the stack (which reopens the window).
 * A reader that waits for a whole frame peeks and leaves bytes unconsumed; two cases need a copy
 * into the connection's linear buffer (grown by doubling up to rx_max, past which the connection
 * fails with -EMSGSIZE, counted rx_full): a peek (from any callback) could not show every buffered
 * byte, and then the chain is gathered and readable runs again (at once when the peek was in
 * readable, else from the next poll); or the reader saw everything and the chain holds half the
 * stack's receive buffer (the window would close before a frame larger than it could arrive). A
 * reader that did not peek is not reading now (paused): its bytes stay in the stack, whose closing
 * window is the back-pressure on the peer. While the buffer holds bytes, new ones are appended to
 * it before the reader hears of them, so a frame gathered there stays one contiguous segment (its
 * strings decode as views, not as copies into an arena too small for them). A peek shows the
 * linear buffer first and the stack's chain after it; consume takes from the buffer first. Once
 * the buffer is empty again, reception is zero-copy again.
 *
 * Sending: gale_conn_tx_begin hands the writer mbufs from the port's pool (one segment per mbuf,
 * refilled one at a time up to tx_space), and the commit chains exactly the written mbufs onto
 * the connection's output queue (the rest go back). The output queue feeds the stack's send
 * buffer, whole mbufs at a time, as its space allows (at once, and again on each writable from
 * the stack); tx_pending is what still waits here, tx_max its bound. The writer's segment array
 * belongs to the instance (two open transmissions at most, enough for a reply and a nested
 * call), sized for tx_max.
 *
 * Closing: gale_conn_close waits until the output queue is in the stack, discards unread input
 * (so the stack closes with a FIN, not an RFC 1122 reset), detaches the stack connection (its FIN
 * handshake and TIME_WAIT go on inside the stack, which calls nobody any more) and reports closed
 * from the next poll. gale_conn_abort drops the queue and resets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <gale/tcp.h>
#include <gale/tcpstack.h>

#include "conn_private.h"
#include "runtime_private.h"

#define GALE__N_EV_CONNECTED 0x1u
#define GALE__N_EV_READABLE  0x2u
#define GALE__N_EV_WRITABLE  0x4u
#define GALE__N_TX_SLOTS     2
#define GALE__N_IBUF0        (64u << 10)
/** Most mbufs handed to the stack in one gale_tcp_send (it refuses chains past 60000). */
#define GALE__N_SEND_SEGS 4096u
/** Room the output queue's last buffer must have left for a transmission to begin in it. */
#define GALE__N_TAIL_MIN 128u

enum gale__nstate {
	GALE__NS_CONNECTING = 1,
	GALE__NS_OPEN,
	GALE__NS_CLOSING, /* output queue draining into the stack, then detach */
	GALE__NS_DEAD,    /* on the dead list */
};

struct gale_conn {
	const struct gale__conn_ops *ops; /**< first: conn.c dispatches on it */
	struct gale_conn_backend *be;
	struct gale_tcp_conn *tc; /**< NULL once detached or closed by the stack */
	uint8_t state;
	uint8_t ev;       /**< latched GALE__N_EV_* */
	bool on_ready;    /**< on the ready list */
	bool tx_open;     /**< between tx_begin and commit/abort */
	bool tx_blocked;  /**< a send was refused or output waits: tell writable when it is out */
	bool peeked;      /**< the reader peeked during its readable callback */
	bool want_absorb; /**< a peek could not show every buffered byte: gather them */
	bool on_flush;    /**< on the backend's flush list (output waits for the poll's end) */
	int err;          /**< error to report before closed, 0 = none */
	const struct gale_conn_callbacks *cbs;
	void *arg;
	uint8_t *ibuf; /**< bytes moved out of the stack: ibuf[ioff..ilen) */
	size_t ioff, ilen, icap;
	struct rte_mbuf *oq_head,
	        *oq_tail; /**< output not yet in the stack (mbufs linked by next) */
	size_t oq_len;
	uint32_t raddr; /**< host order */
	uint16_t rport;
	struct gale_conn *prev, *next; /**< every connection of the instance */
	struct gale_conn *next_ready;
	struct gale_conn *next_dead;
	struct gale_conn *next_flush;
};

/** The segments of one open transmission. */
struct gale__ntx {
	struct gale_codec_wseg *segs;
	struct rte_mbuf **mbufs;
	unsigned int n; /**< mbufs taken */
	bool busy;
	bool tail0; /**< mbufs[0] is the output queue's tail, written on after its bytes */
};

struct gale_conn_backend {
	const struct gale__conn_ops *ops; /**< first: conn.c dispatches on it */
	struct gale_conn_conf conf;
	struct gale_stack *stack;
	struct rte_mempool *pool;
	uint32_t ip;    /**< the stack's address, host order */
	uint16_t room;  /**< data bytes one tx mbuf holds */
	uint16_t lport; /**< listening port, 0 = not listening */
	gale_conn_accept_cb_t accept_cb;
	void *accept_arg;
	unsigned int nconns;
	unsigned int max_segs; /**< entries of each tx slot */
	struct gale_conn *conns;
	struct gale_conn *ready;
	struct gale_conn *dead;
	struct gale_conn *flush; /**< connections whose output waits for the poll's end */
	bool in_poll;            /**< gale__n_poll_wait is delivering events */
	struct gale__ntx tx[GALE__N_TX_SLOTS];
	struct gale_conn_stats st;
};

#define GALE__NCNT(be, f, n) __atomic_store_n(&(be)->st.f, (be)->st.f + (n), __ATOMIC_RELAXED)

static const struct gale__conn_ops gale__native_ops;
/** What a detached stack connection calls: nobody. */
static const struct gale_tcp_callbacks gale__n_orphan_cbs;

/* ---- lists ---- */

static void
gale__n_ready(struct gale_conn *c, uint8_t ev)
{
	c->ev |= ev;
	if (!c->on_ready && c->state != GALE__NS_DEAD) {
		c->on_ready = true;
		c->next_ready = c->be->ready;
		c->be->ready = c;
	}
}

/* Mark dead (once); the poll reports and frees it. */
static void
gale__n_kill(struct gale_conn *c, int err)
{
	if (c->state == GALE__NS_DEAD)
		return;
	if (err != 0 && c->err == 0)
		c->err = err;
	c->state = GALE__NS_DEAD;
	c->next_dead = c->be->dead;
	c->be->dead = c;
}

/* Leave the stack connection to finish on its own (close) or reset it (abort). */
static void
gale__n_detach(struct gale_conn *c, bool reset)
{
	struct gale_tcp_conn *tc = c->tc;
	uint32_t len;

	if (tc == NULL)
		return;
	c->tc = NULL;
	gale_tcp_set_callbacks(tc, &gale__n_orphan_cbs, NULL);
	if (reset) {
		gale_tcp_abort(tc);
		return;
	}
	if (gale_tcp_recv_peek(tc, &len) != NULL && len != 0)
		gale_tcp_consume(tc, len);
	gale_tcp_close(tc);
}

static void
gale__n_free(struct gale_conn *c)
{
	struct gale_conn_backend *be = c->be;

	if (c->on_ready) {
		/* Latched events of a connection that died meanwhile: never deliver them. */
		struct gale_conn **pp = &be->ready;

		while (*pp != NULL && *pp != c)
			pp = &(*pp)->next_ready;
		if (*pp == c)
			*pp = c->next_ready;
	}
	if (c->on_flush) {
		struct gale_conn **pp = &be->flush;

		while (*pp != NULL && *pp != c)
			pp = &(*pp)->next_flush;
		if (*pp == c)
			*pp = c->next_flush;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		be->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	be->nconns--;
	rte_pktmbuf_free(c->oq_head);
	free(c->ibuf);
	free(c);
}

static void
gale__n_reap(struct gale_conn_backend *be)
{
	while (be->dead != NULL) {
		struct gale_conn *c = be->dead;

		be->dead = c->next_dead;
		gale__n_detach(c, true);
		if (c->err != 0) {
			GALE__NCNT(be, errors, 1);
			if (c->cbs != NULL && c->cbs->error != NULL)
				c->cbs->error(c, c->arg, c->err);
		}
		GALE__NCNT(be, closed, 1);
		if (c->cbs != NULL && c->cbs->closed != NULL)
			c->cbs->closed(c, c->arg);
		gale__n_free(c);
	}
}

static struct gale_conn *
gale__n_new(struct gale_conn_backend *be)
{
	struct gale_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ops = &gale__native_ops;
	c->be = be;
	c->next = be->conns;
	if (be->conns != NULL)
		be->conns->prev = c;
	be->conns = c;
	be->nconns++;
	return c;
}

/* ---- output ---- */

static void gale__n_finish_close(struct gale_conn *c);

/* Hand the output queue to the stack, whole mbufs, as far as its send buffer takes them. */
static void
gale__n_push(struct gale_conn *c)
{
	while (c->oq_head != NULL && c->tc != NULL) {
		uint32_t space = gale_tcp_send_space(c->tc), cum = 0, n = 0;
		struct rte_mbuf *m = c->oq_head, *last = NULL, *head;
		int ret;

		while (m != NULL && cum + m->data_len <= space && n < GALE__N_SEND_SEGS) {
			cum += m->data_len;
			n++;
			last = m;
			m = m->next;
		}
		head = c->oq_head;
		if (n == 0) {
			/* Nothing fits: offering the first mbuf arms the stack's writable. */
			last = head;
			m = head->next;
			cum = head->data_len;
			n = 1;
		}
		last->next = NULL;
		head->pkt_len = cum;
		head->nb_segs = (uint16_t)n;
		ret = gale_tcp_send(c->tc, head);
		if (ret != 0) {
			last->next = m;
			if (ret != -EAGAIN && c->state != GALE__NS_DEAD)
				gale__n_kill(c, ret == -ENOTCONN ? -ENOTCONN : -EPIPE);
			break;
		}
		c->oq_head = m;
		if (m == NULL)
			c->oq_tail = NULL;
		c->oq_len -= cum;
		GALE__NCNT(c->be, tx_bytes, cum);
	}
	if (c->oq_head != NULL)
		c->tx_blocked = true;
	else if (c->state == GALE__NS_CLOSING)
		gale__n_finish_close(c);
}

static void
gale__n_finish_close(struct gale_conn *c)
{
	gale__n_detach(c, false);
	gale__n_kill(c, 0);
}

/* Queue head..tail (len bytes; consumes them); head NULL: the bytes were written on from the
 * queue's tail, already linked up to tail. */
static void
gale__n_enqueue(struct gale_conn *c, struct rte_mbuf *head, struct rte_mbuf *tail, size_t len)
{
	if (head != NULL) {
		if (c->oq_tail != NULL)
			c->oq_tail->next = head;
		else
			c->oq_head = head;
	}
	c->oq_tail = tail;
	c->oq_len += len;
	if (c->be->in_poll || c->be->conf.worker != NULL) {
		/* Held until the worker flushes its stacks (or, without a worker, until the poll
		 * that wrote it ends): every reply to one receive burst, or every call of one
		 * iteration, leaves in one segment instead of a segment each (gale__n_flush). */
		if (!c->on_flush) {
			c->on_flush = true;
			c->next_flush = c->be->flush;
			c->be->flush = c;
		}
		return;
	}
	gale__n_push(c);
}

/* The end of a poll, or the worker's flush hook: hand what was written to the stack. */
static void
gale__n_flush(struct gale_conn_backend *be)
{
	while (be->flush != NULL) {
		struct gale_conn *c = be->flush;

		be->flush = c->next_flush;
		c->on_flush = false;
		if (c->state != GALE__NS_DEAD)
			gale__n_push(c);
	}
}

static void
gale__n_flush_hook(void *arg)
{
	gale__n_flush(arg);
}

/* ---- stack callbacks ---- */

static void
gale__t_connected(struct gale_tcp_conn *tc, void *arg)
{
	struct gale_conn *c = arg;

	(void)tc;
	if (c->state == GALE__NS_CONNECTING) {
		c->state = GALE__NS_OPEN;
		gale__n_ready(c, GALE__N_EV_CONNECTED);
	}
}

static void
gale__t_readable(struct gale_tcp_conn *tc, void *arg)
{
	(void)tc;
	gale__n_ready(arg, GALE__N_EV_READABLE);
}

static void
gale__t_writable(struct gale_tcp_conn *tc, void *arg)
{
	struct gale_conn *c = arg;

	(void)tc;
	gale__n_push(c);
	if (c->state == GALE__NS_OPEN && c->oq_head == NULL && c->tx_blocked)
		gale__n_ready(c, GALE__N_EV_WRITABLE);
}

static void
gale__t_error(struct gale_tcp_conn *tc, void *arg, int err)
{
	struct gale_conn *c = arg;

	(void)tc;
	if (c->err == 0)
		c->err = err < 0 ? err : -err;
}

static void
gale__t_closed(struct gale_tcp_conn *tc, void *arg)
{
	struct gale_conn *c = arg;

	(void)tc;
	c->tc = NULL;
	gale__n_kill(c, 0);
}

static const struct gale_tcp_callbacks gale__n_tcp_cbs = {
	.connected = gale__t_connected,
	.readable = gale__t_readable,
	.writable = gale__t_writable,
	.error = gale__t_error,
	.closed = gale__t_closed,
};

static void
gale__n_peer(struct gale_conn *c)
{
	struct gale_tcp_info ti;

	gale_tcp_get_info(c->tc, &ti);
	c->raddr = ti.raddr;
	c->rport = ti.rport;
}

static int
gale__t_accept(void *arg, struct gale_tcp_conn *tc)
{
	struct gale_conn_backend *be = arg;
	struct gale_conn *c;
	int ret;

	GALE__NCNT(be, accepted, 1);
	if (be->accept_cb == NULL || be->nconns >= be->conf.max_conns ||
	    (c = gale__n_new(be)) == NULL) {
		GALE__NCNT(be, refused, 1);
		return -ENOSPC;
	}
	c->tc = tc;
	c->state = GALE__NS_OPEN;
	gale__n_peer(c);
	gale_tcp_set_callbacks(tc, &gale__n_tcp_cbs, c);
	ret = be->accept_cb(be->accept_arg, c);
	if (ret != 0) {
		GALE__NCNT(be, refused, 1);
		gale_tcp_set_callbacks(tc, &gale__n_orphan_cbs, NULL);
		c->tc = NULL;
		gale__n_free(c);
		return ret < 0 ? ret : -ECONNREFUSED;
	}
	return 0;
}

/* ---- instance ---- */

struct gale_conn_backend *
gale__conn_native_create(const struct gale_conn_conf *conf)
{
	const struct gale_stack_conf *sc;
	struct gale_conn_backend *be;
	unsigned int i;

	if (conf->stack == NULL) {
		errno = EINVAL;
		return NULL;
	}
	sc = gale_stack_conf(conf->stack);
	be = calloc(1, sizeof(*be));
	if (be == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	be->ops = &gale__native_ops;
	be->conf = *conf;
	if (be->conf.max_conns == 0)
		be->conf.max_conns = 1024;
	if (be->conf.rx_max == 0)
		be->conf.rx_max = (16u << 20) + (64u << 10);
	if (be->conf.tx_max == 0)
		be->conf.tx_max = (16u << 20) + (64u << 10);
	be->stack = conf->stack;
	be->pool = sc->pool;
	be->ip = sc->ip;
	i = rte_pktmbuf_data_room_size(be->pool);
	if (i <= RTE_PKTMBUF_HEADROOM + 64u) {
		free(be);
		errno = EINVAL;
		return NULL;
	}
	be->room = (uint16_t)(i - RTE_PKTMBUF_HEADROOM);
	be->max_segs = (unsigned int)(be->conf.tx_max / be->room) + 2;
	for (i = 0; i < GALE__N_TX_SLOTS; i++) {
		be->tx[i].segs = calloc(be->max_segs, sizeof(*be->tx[i].segs));
		be->tx[i].mbufs = calloc(be->max_segs, sizeof(*be->tx[i].mbufs));
		if (be->tx[i].segs == NULL || be->tx[i].mbufs == NULL) {
			for (;; i--) {
				free(be->tx[i].segs);
				free(be->tx[i].mbufs);
				if (i == 0)
					break;
			}
			free(be);
			errno = ENOMEM;
			return NULL;
		}
	}
	if (be->conf.worker != NULL &&
	    gale__worker_flush_hook_add(be->conf.worker, gale__n_flush_hook, be) != 0)
		be->conf.worker = NULL; /* no room: output goes to the stack at each poll's end */
	return be;
}

static enum gale_conn_kind
gale__n_kind(const struct gale_conn_backend *be)
{
	(void)be;
	return GALE_CONN_NATIVE;
}

static int
gale__n_unlisten(struct gale_conn_backend *be)
{
	if (be->lport == 0)
		return -ENOENT;
	gale_tcp_unlisten(be->stack, be->lport);
	be->lport = 0;
	return 0;
}

static void
gale__n_backend_free(struct gale_conn_backend *be)
{
	struct gale_conn *c;
	unsigned int i;

	if (be->conf.worker != NULL)
		gale__worker_flush_hook_del(be->conf.worker, gale__n_flush_hook, be);
	gale__n_unlisten(be);
	for (c = be->conns; c != NULL; c = c->next) {
		rte_pktmbuf_free(c->oq_head);
		c->oq_head = c->oq_tail = NULL;
		c->oq_len = 0;
		gale__n_detach(c, true);
		gale__n_kill(c, 0);
	}
	gale__n_reap(be);
	for (i = 0; i < GALE__N_TX_SLOTS; i++) {
		free(be->tx[i].segs);
		free(be->tx[i].mbufs);
	}
	free(be);
}

static int
gale__n_listen(struct gale_conn_backend *be, const char *host, uint16_t port,
               gale_conn_accept_cb_t cb, void *arg)
{
	uint32_t ip;
	int ret;

	if (be->lport != 0)
		return -EEXIST;
	if (cb == NULL || gale__conn_parse_ip(host, &ip) != 0 ||
	    (ip != htonl(INADDR_ANY) && ntohl(ip) != be->ip))
		return -EINVAL;
	if (port == 0) {
		/* Any free port: the stack has no port-0 listen, so try the dynamic range. */
		for (uint32_t p = 49152; p <= 65535; p++) {
			ret = gale_tcp_listen(be->stack, (uint16_t)p, be->conf.backlog,
			                      gale__t_accept, be);
			if (ret == 0) {
				port = (uint16_t)p;
				break;
			}
			if (ret != -EADDRINUSE)
				return ret;
		}
		if (port == 0)
			return -EADDRINUSE;
	} else {
		ret = gale_tcp_listen(be->stack, port, be->conf.backlog, gale__t_accept, be);
		if (ret != 0)
			return ret == -ENOSPC ? -EADDRINUSE : ret;
	}
	be->lport = port;
	be->accept_cb = cb;
	be->accept_arg = arg;
	return 0;
}

static uint16_t
gale__n_listen_port(const struct gale_conn_backend *be)
{
	return be->lport;
}

static int
gale__n_connect(struct gale_conn_backend *be, const char *host, uint16_t port,
                const struct gale_conn_callbacks *cbs, void *arg, struct gale_conn **cp)
{
	struct gale_tcp_conn *tc = NULL;
	struct in_addr a;
	struct gale_conn *c;
	int ret;

	if (host == NULL || inet_pton(AF_INET, host, &a) != 1 || port == 0)
		return -EINVAL;
	if (be->nconns >= be->conf.max_conns)
		return -ENOSPC;
	c = gale__n_new(be);
	if (c == NULL)
		return -ENOMEM;
	c->cbs = cbs;
	c->arg = arg;
	c->state = GALE__NS_CONNECTING;
	c->raddr = ntohl(a.s_addr);
	c->rport = port;
	ret = gale_tcp_connect(be->stack, c->raddr, port, &gale__n_tcp_cbs, c, &tc);
	if (ret != 0) {
		if (c->state == GALE__NS_DEAD) {
			/* Cannot happen without a handle, but never free what the dead list holds.
			 */
			c->cbs = NULL;
			return ret;
		}
		gale__n_free(c);
		return ret;
	}
	if (c->state != GALE__NS_DEAD)
		c->tc = tc;
	*cp = c;
	return 0;
}

static void
gale__n_set_callbacks(struct gale_conn *c, const struct gale_conn_callbacks *cbs, void *arg)
{
	c->cbs = cbs;
	c->arg = arg;
}

/* ---- receiving ---- */

static unsigned int
gale__n_recv_peek(const struct gale_conn *c, struct gale_codec_seg *segs, unsigned int max,
                  size_t *len)
{
	struct gale_conn *mc = (struct gale_conn *)(uintptr_t)c; /* peek bookkeeping only */
	const struct rte_mbuf *m = NULL;
	uint32_t clen = 0;
	unsigned int n = 0;

	*len = 0;
	if (c->tc != NULL)
		m = gale_tcp_recv_peek(c->tc, &clen);
	if (c->ilen > c->ioff && n < max) {
		segs[n].base = c->ibuf + c->ioff;
		segs[n].len = c->ilen - c->ioff;
		*len += segs[n].len;
		n++;
	}
	for (; m != NULL && n < max; m = m->next) {
		if (m->data_len == 0)
			continue;
		segs[n].base = rte_pktmbuf_mtod(m, const uint8_t *);
		segs[n].len = m->data_len;
		*len += m->data_len;
		n++;
	}
	while (m != NULL && m->data_len == 0)
		m = m->next;
	mc->peeked = true;
	if ((m != NULL || (c->ilen > c->ioff && max == 0)) && c->tc != NULL && !mc->want_absorb) {
		/* The reader cannot see it all (from whatever callback it peeks in): gather the
		 * chain into one segment and tell it again, so a frame longer than a peek
		 * completes. */
		mc->want_absorb = true;
		gale__n_ready(mc, GALE__N_EV_READABLE);
	}
	return n;
}

static int
gale__n_consume(struct gale_conn *c, size_t len)
{
	size_t have = c->ilen - c->ioff, take;
	uint32_t clen = 0;

	if (c->tc != NULL)
		gale_tcp_recv_peek(c->tc, &clen);
	if (len > have + clen)
		return -EINVAL;
	take = len < have ? len : have;
	c->ioff += take;
	if (c->ioff == c->ilen)
		c->ioff = c->ilen = 0;
	len -= take;
	if (len != 0) {
		gale_tcp_consume(c->tc, (uint32_t)len);
		GALE__NCNT(c->be, rx_bytes, len);
	}
	return 0;
}

static bool
gale__n_eof(const struct gale_conn *c)
{
	return c->tc != NULL && gale_tcp_eof(c->tc);
}

/* Move the stack's receive chain into the linear buffer. false when the connection failed. */
static bool
gale__n_absorb(struct gale_conn *c)
{
	const struct rte_mbuf *m;
	uint32_t clen;
	size_t have, need;

	m = gale_tcp_recv_peek(c->tc, &clen);
	if (m == NULL || clen == 0)
		return true;
	have = c->ilen - c->ioff;
	need = have + clen;
	if (need > c->be->conf.rx_max) {
		GALE__NCNT(c->be, rx_full, 1);
		gale__n_detach(c, true);
		gale__n_kill(c, -EMSGSIZE);
		return false;
	}
	if (c->ioff != 0) {
		memmove(c->ibuf, c->ibuf + c->ioff, have);
		c->ioff = 0;
		c->ilen = have;
	}
	if (need > c->icap) {
		size_t cap = c->icap != 0 ? c->icap : GALE__N_IBUF0;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		if (cap > c->be->conf.rx_max)
			cap = c->be->conf.rx_max;
		nb = realloc(c->ibuf, cap);
		if (nb == NULL) {
			gale__n_detach(c, true);
			gale__n_kill(c, -ENOMEM);
			return false;
		}
		c->ibuf = nb;
		c->icap = cap;
	}
	for (; m != NULL; m = m->next) {
		memcpy(c->ibuf + c->ilen, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
		c->ilen += m->data_len;
	}
	gale_tcp_consume(c->tc, clen);
	GALE__NCNT(c->be, rx_bytes, clen);
	return true;
}

static void
gale__n_deliver_readable(struct gale_conn *c)
{
	const struct gale_stack_conf *sc = gale_stack_conf(c->be->stack);
	uint32_t clen = 0;

	for (int round = 0; round < 2; round++) {
		if (c->cbs == NULL || c->cbs->readable == NULL)
			return;
		/* Gather first in copy mode (a frame is being gathered: new bytes join it, so it
		 * stays one segment and its strings decode as views) or after a short peek. */
		if (c->tc != NULL && (c->ilen > c->ioff || c->want_absorb)) {
			c->want_absorb = false;
			c->ev &= (uint8_t)~GALE__N_EV_READABLE; /* delivered now, not next poll */
			if (!gale__n_absorb(c))
				return;
		}
		c->peeked = false;
		c->cbs->readable(c, c->arg);
		if (c->state != GALE__NS_OPEN || c->tc == NULL || !c->want_absorb)
			break;
	}
	/* A reader that saw everything and waits for more while the chain holds half the window:
	 * gather it, so the window stays open for a frame larger than it. A reader that did not
	 * peek is paused: the closing window pushes back on the peer. */
	if (c->state == GALE__NS_OPEN && c->tc != NULL && c->peeked &&
	    gale_tcp_recv_peek(c->tc, &clen) != NULL && clen >= sc->rcvbuf / 2)
		gale__n_absorb(c);
}

/* ---- sending ---- */

static size_t
gale__n_tx_space(const struct gale_conn *c)
{
	return c->oq_len >= c->be->conf.tx_max ? 0 : c->be->conf.tx_max - c->oq_len;
}

static size_t
gale__n_tx_pending(const struct gale_conn *c)
{
	return c->oq_len;
}

static int
gale__n_refill(void *arg, struct gale_codec_wseg *seg)
{
	struct gale_conn_tx *tx = arg;
	struct gale__ntx *t = tx->priv;
	struct gale_conn *c = tx->conn;
	struct rte_mbuf *m;

	if (t->n >= c->be->max_segs || (size_t)t->n * c->be->room >= gale__n_tx_space(c)) {
		c->tx_blocked = true;
		return -ENOBUFS;
	}
	m = rte_pktmbuf_alloc(c->be->pool);
	if (m == NULL)
		return -ENOBUFS;
	t->mbufs[t->n++] = m;
	seg->base = rte_pktmbuf_mtod(m, uint8_t *);
	seg->cap = c->be->room;
	return 0;
}

static int
gale__n_tx_begin(struct gale_conn *c, struct gale_conn_tx *tx, size_t hint)
{
	struct gale_conn_backend *be = c->be;
	struct gale__ntx *t = NULL;
	unsigned int i;

	(void)hint; /* mbufs have one size */
	if (c->state != GALE__NS_OPEN || c->tx_open)
		return -ENOTCONN;
	for (i = 0; i < GALE__N_TX_SLOTS; i++)
		if (!be->tx[i].busy) {
			t = &be->tx[i];
			break;
		}
	if (t == NULL || gale__n_tx_space(c) == 0)
		return -ENOBUFS;
	t->n = 0;
	t->tail0 = false;
	tx->conn = c;
	tx->priv = t;
	if (c->oq_tail != NULL && (unsigned int)(be->room - c->oq_tail->data_len) >= GALE__N_TAIL_MIN) {
		/* Go on writing in the last buffer of the output queue (not in the stack yet, so
		 * ours alone): pipelined replies of one burst share buffers and segments. */
		struct rte_mbuf *m = c->oq_tail;

		t->mbufs[t->n++] = m;
		t->tail0 = true;
		t->segs[0].base = rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len);
		t->segs[0].cap = be->room - m->data_len;
	} else if (gale__n_refill(tx, &t->segs[0]) != 0) {
		return -ENOBUFS;
	}
	t->segs[0].len = 0;
	t->busy = true;
	c->tx_open = true;
	gale_codec_writer_init(&tx->w, t->segs, 1, be->max_segs, gale__n_refill, tx);
	return 0;
}

static void
gale__n_tx_release(struct gale_conn_tx *tx, unsigned int from)
{
	struct gale__ntx *t = tx->priv;

	if (from == 0 && t->tail0)
		from = 1; /* the queue's tail stays the queue's */
	if (from < t->n)
		rte_pktmbuf_free_bulk(&t->mbufs[from], t->n - from);
	t->n = 0;
	t->tail0 = false;
	t->busy = false;
	tx->conn->tx_open = false;
}

static int
gale__n_tx_commit(struct gale_conn_tx *tx)
{
	struct gale__ntx *t = tx->priv;
	struct gale_conn *c = tx->conn;
	unsigned int n, i;
	size_t total = 0;

	n = gale_codec_writer_finish(&tx->w);
	if (n > t->n)
		n = t->n;
	for (i = 0; i < n; i++)
		total += t->segs[i].len;
	if (total == 0 || c->state != GALE__NS_OPEN) {
		gale__n_tx_release(tx, 0);
		return total == 0 ? 0 : -ENOTCONN;
	}
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = t->mbufs[i];

		if (i == 0 && t->tail0)
			m->data_len = (uint16_t)(m->data_len + t->segs[0].len);
		else
			m->data_len = (uint16_t)t->segs[i].len;
		m->pkt_len = m->data_len;
		m->next = i + 1 < n ? t->mbufs[i + 1] : NULL;
	}
	/* The unused mbufs go back; the written ones become the queue's (after its tail, or
	 * from its tail on when the writer began there). */
	{
		struct rte_mbuf *head = t->mbufs[0], *tail = t->mbufs[n - 1];
		bool tail0 = t->tail0;

		gale__n_tx_release(tx, n);
		gale__n_enqueue(c, tail0 ? NULL : head, tail, total);
	}
	return 0;
}

static void
gale__n_tx_abort(struct gale_conn_tx *tx)
{
	gale_codec_writer_finish(&tx->w);
	gale__n_tx_release(tx, 0);
}

static int
gale__n_send(struct gale_conn *c, const struct gale_codec_seg *segs, unsigned int n)
{
	struct gale_conn_backend *be = c->be;
	struct rte_mbuf *head = NULL, *tail = NULL;
	size_t total = 0;
	unsigned int i;

	if (c->state != GALE__NS_OPEN || c->tx_open)
		return -ENOTCONN;
	for (i = 0; i < n; i++)
		total += segs[i].len;
	if (total > gale__n_tx_space(c)) {
		GALE__NCNT(be, tx_full, 1);
		c->tx_blocked = true;
		return -EAGAIN;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *p = segs[i].base;
		size_t left = segs[i].len;

		while (left != 0) {
			uint16_t room = tail != NULL ? (uint16_t)(be->room - tail->data_len) : 0;
			uint16_t k;

			if (room == 0) {
				struct rte_mbuf *m = rte_pktmbuf_alloc(be->pool);

				if (m == NULL) {
					rte_pktmbuf_free(head);
					c->tx_blocked = true;
					return -ENOBUFS;
				}
				if (tail != NULL)
					tail->next = m;
				else
					head = m;
				tail = m;
				room = be->room;
			}
			k = left < room ? (uint16_t)left : room;
			memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t *, tail->data_len), p, k);
			tail->data_len = (uint16_t)(tail->data_len + k);
			tail->pkt_len = tail->data_len;
			p += k;
			left -= k;
		}
	}
	if (head != NULL)
		gale__n_enqueue(c, head, tail, total);
	return 0;
}

/* ---- closing ---- */

static int
gale__n_close(struct gale_conn *c)
{
	if (c->state == GALE__NS_DEAD || c->state == GALE__NS_CLOSING)
		return -ENOTCONN;
	if (c->state == GALE__NS_CONNECTING) {
		gale__n_detach(c, true);
		gale__n_kill(c, 0);
		return 0;
	}
	c->state = GALE__NS_CLOSING;
	gale__n_push(c);
	return 0;
}

static void
gale__n_abort(struct gale_conn *c)
{
	if (c->state == GALE__NS_DEAD)
		return;
	rte_pktmbuf_free(c->oq_head);
	c->oq_head = c->oq_tail = NULL;
	c->oq_len = 0;
	gale__n_detach(c, true);
	gale__n_kill(c, 0);
}

static const char *
gale__n_peer_str(const struct gale_conn *c, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u:%u", c->raddr >> 24, (c->raddr >> 16) & 255,
	         (c->raddr >> 8) & 255, c->raddr & 255, (unsigned int)c->rport);
	return buf;
}

static unsigned int
gale__n_count(const struct gale_conn_backend *be)
{
	return be->nconns;
}

static void
gale__n_stats_get(const struct gale_conn_backend *be, struct gale_conn_stats *st)
{
	gale__conn_stats_copy(&be->st, st);
}

/* ---- the poll ---- */

static unsigned int
gale__n_poll_wait(struct gale_conn_backend *be, int timeout_ms)
{
	struct gale_conn *list = be->ready;
	unsigned int work = 0;

	(void)timeout_ms; /* the worker loop drives the stack: nothing to wait on here */
	be->ready = NULL;
	be->in_poll = true;
	while (list != NULL) {
		struct gale_conn *c = list;
		uint8_t ev = c->ev;

		list = c->next_ready;
		c->on_ready = false;
		c->ev = 0;
		if (c->state == GALE__NS_DEAD)
			continue;
		work++;
		if ((ev & GALE__N_EV_CONNECTED) != 0) {
			GALE__NCNT(be, connected, 1);
			if (c->cbs != NULL && c->cbs->connected != NULL)
				c->cbs->connected(c, c->arg);
		}
		if ((ev & GALE__N_EV_READABLE) != 0 && c->state == GALE__NS_OPEN)
			gale__n_deliver_readable(c);
		if ((ev & GALE__N_EV_WRITABLE) != 0 && c->state == GALE__NS_OPEN && c->tx_blocked &&
		    c->oq_head == NULL) {
			c->tx_blocked = false;
			if (c->cbs != NULL && c->cbs->writable != NULL)
				c->cbs->writable(c, c->arg);
		}
	}
	be->in_poll = false;
	gale__n_flush(be);
	if (work != 0)
		GALE__NCNT(be, polls, 1);
	if (be->dead != NULL) {
		gale__n_reap(be);
		work++;
	}
	return work;
}

static const struct gale__conn_ops gale__native_ops = {
	.backend_free = gale__n_backend_free,
	.kind = gale__n_kind,
	.poll_wait = gale__n_poll_wait,
	.listen = gale__n_listen,
	.listen_port = gale__n_listen_port,
	.unlisten = gale__n_unlisten,
	.connect = gale__n_connect,
	.set_callbacks = gale__n_set_callbacks,
	.recv_peek = gale__n_recv_peek,
	.consume = gale__n_consume,
	.eof = gale__n_eof,
	.tx_begin = gale__n_tx_begin,
	.tx_commit = gale__n_tx_commit,
	.tx_abort = gale__n_tx_abort,
	.send = gale__n_send,
	.tx_space = gale__n_tx_space,
	.tx_pending = gale__n_tx_pending,
	.close = gale__n_close,
	.abort = gale__n_abort,
	.peer_str = gale__n_peer_str,
	.count = gale__n_count,
	.stats_get = gale__n_stats_get,
};
