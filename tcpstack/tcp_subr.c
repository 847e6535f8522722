/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP support: the connection table, control-block life cycle, ISNs (RFC 6528), SYN cookies (RFC
 * 4987), mbuf chain helpers and the application API of gale/tcp.h.
 *
 * Life of a control block: taken from the free list by gale__tcp_newconn and put in the 4-tuple
 * table; it becomes CLOSED through gale__tcp_close, which frees its buffers and leaves the table at
 * once, and it goes back to the free list only when no code is inside it (busy == 0) and the
 * application has had its closed callback (or never had a handle: a half-open passive connection).
 * A connection in TIME_WAIT has given its closed callback already and lives on, detached, until
 * 2MSL.
 *
 * ISN = M + F(4-tuple, secret) with M a 4 µs clock and F SipHash (RFC 6528 3). A SYN cookie (RFC
 * 4987 3.6) is (5-bit 64 s time slot) << 27 | (3-bit MSS index) << 24 | 24 bits of SipHash(4-tuple,
 * peer ISN, slot); it is valid for the current and previous slot. A cookie connection has no window
 * scaling, SACK or timestamps: its SYN-ACK did not offer them, so the peer does not use them
 * either.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "tcp_var.h"

static const uint16_t gale__cookie_mss[8] = { 216, 536, 1024, 1200, 1360, 1440, 1460, 8960 };

/* ---- mbuf chains ---- */

void
gale__mbuf_chain_free(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

/* Consumes m's first len bytes; returns the new head (pkt_len and nb_segs coherent), or NULL when
 * empty. */
struct rte_mbuf *
gale__mbuf_adj(struct rte_mbuf *m, uint32_t len)
{
	uint32_t pkt_len;
	uint16_t nb;
	struct rte_mbuf *next;

	if (m == NULL)
		return NULL;
	pkt_len = m->pkt_len - len;
	nb = m->nb_segs;
	while (m != NULL && len > 0 && len >= m->data_len) {
		next = m->next;
		len -= m->data_len;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		nb--;
		m = next;
	}
	if (m == NULL)
		return NULL;
	m->data_off = (uint16_t)(m->data_off + len);
	m->data_len = (uint16_t)(m->data_len - len);
	m->pkt_len = pkt_len;
	m->nb_segs = nb;
	return m;
}

/* Borrows m: keep its first len bytes (len <= pkt_len), freeing the segments after them. */
void
gale__mbuf_trim(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m, *rest;
	uint32_t left = len;
	uint16_t nb = 1;

	while (seg->next != NULL && left > seg->data_len) {
		left -= seg->data_len;
		seg = seg->next;
		nb++;
	}
	seg->data_len = (uint16_t)GALE__MIN(left, (uint32_t)seg->data_len);
	rest = seg->next;
	seg->next = NULL;
	if (rest != NULL) {
		rest->nb_segs = (uint16_t)(m->nb_segs - nb);
		rte_pktmbuf_free(rest);
	}
	m->pkt_len = len;
	m->nb_segs = nb;
}

/* ---- the 4-tuple table ---- */

static uint32_t
gale__tuple_hash(const struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                 uint16_t fport)
{
	uint32_t key[3] = { laddr, faddr, ((uint32_t)lport << 16) | fport };
	uint64_t k[2] = { s->conf.isn_secret[0] ^ 0x9e3779b97f4a7c15ull, s->conf.isn_secret[1] };

	return gale__siphash(k, key, sizeof(key));
}

struct gale_tcp_conn *
gale__tcp_lookup(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                 uint16_t fport)
{
	struct gale_tcp_conn *tp = s->last_hit;
	uint32_t i;

	if (tp != NULL && tp->faddr == faddr && tp->fport == fport && tp->lport == lport &&
	    tp->laddr == laddr)
		return tp;
	i = gale__tuple_hash(s, laddr, lport, faddr, fport) & s->table_mask;
	while ((tp = s->table[i]) != NULL) {
		if (tp->faddr == faddr && tp->fport == fport && tp->lport == lport &&
		    tp->laddr == laddr) {
			s->last_hit = tp;
			return tp;
		}
		i = (i + 1) & s->table_mask;
	}
	return NULL;
}

static void
gale__table_remove(struct gale_stack *s, struct gale_tcp_conn *tp)
{
	uint32_t i = tp->hash & s->table_mask, j, k;

	if (s->last_hit == tp)
		s->last_hit = NULL;
	while (s->table[i] != tp)
		i = (i + 1) & s->table_mask;
	s->table[i] = NULL;
	/* Backward-shift deletion: move back every entry whose probe sequence crossed the hole. */
	j = i;
	for (;;) {
		j = (j + 1) & s->table_mask;
		if (s->table[j] == NULL)
			break;
		k = s->table[j]->hash & s->table_mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		s->table[i] = s->table[j];
		s->table[j] = NULL;
		i = j;
	}
	tp->t_flags &= ~GALE_TF_IN_TABLE;
}

int
gale__tcp_init(struct gale_stack *s)
{
	uint32_t i, n = s->conf.max_conns, tsize = 2;
	int socket = s->conf.pool->socket_id;
	struct gale__reass_seg *slots;

	while (tsize < 2 * n)
		tsize <<= 1;
	s->conns =
	        rte_zmalloc_socket("gale_tcp", sizeof(*s->conns) * n, RTE_CACHE_LINE_SIZE, socket);
	s->table = rte_zmalloc_socket("gale_tcp_table", sizeof(*s->table) * tsize,
	                              RTE_CACHE_LINE_SIZE, socket);
	s->reass_mem = rte_zmalloc_socket(
	        "gale_reass", sizeof(struct gale__reass_seg) * n * s->conf.reass_max_segs,
	        RTE_CACHE_LINE_SIZE, socket);
	if (s->conns == NULL || s->table == NULL || s->reass_mem == NULL)
		return -ENOMEM;
	s->table_mask = tsize - 1;
	slots = s->reass_mem;
	for (i = 0; i < n; i++) {
		s->conns[i].stack = s;
		s->conns[i].reass = slots + (size_t)i * s->conf.reass_max_segs;
		s->conns[i].next_free = i + 1 < n ? &s->conns[i + 1] : NULL;
	}
	s->free_conns = &s->conns[0];
	return 0;
}

struct gale_tcp_conn *
gale__tcp_newconn(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                  uint16_t fport)
{
	struct gale_tcp_conn *tp = s->free_conns;
	struct gale__reass_seg *reass;
	uint32_t i;

	if (tp == NULL) {
		GALE__STAT(s, tcp_drop_conn_limit);
		return NULL;
	}
	s->free_conns = tp->next_free;
	reass = tp->reass;
	memset(tp, 0, sizeof(*tp));
	tp->stack = s;
	tp->reass = reass;
	tp->laddr = laddr;
	tp->lport = lport;
	tp->faddr = faddr;
	tp->fport = fport;
	tp->state = GALE_TCPS_CLOSED;
	tp->hash = gale__tuple_hash(s, laddr, lport, faddr, fport);
	tp->rto_us = s->conf.rto_init_us;
	tp->peer_mss = 536;
	tp->t_maxseg = 536;
	tp->ts_offset = (uint32_t)rte_rand();
	tp->last_rx_us = gale__now_us(s);
	if (!s->conf.nagle)
		tp->t_flags |= GALE_TF_NODELAY;
	gale__tcp_timer_init(tp);
	i = tp->hash & s->table_mask;
	while (s->table[i] != NULL)
		i = (i + 1) & s->table_mask;
	s->table[i] = tp;
	tp->t_flags |= GALE_TF_IN_TABLE;
	s->nconns++;
	return tp;
}

static void
gale__tcp_free_buffers(struct gale_tcp_conn *tp)
{
	rte_pktmbuf_free(tp->snd_head);
	tp->snd_head = tp->snd_tail = NULL;
	tp->snd_cc = 0;
	rte_pktmbuf_free(tp->rcv_head);
	tp->rcv_head = tp->rcv_tail = NULL;
	tp->rcv_cc = 0;
	gale__tcp_reass_flush(tp);
}

static void
gale__tcp_release(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;

	if (tp->t_flags & GALE_TF_IN_TABLE)
		gale__table_remove(s, tp);
	gale__tcp_timers_cancel(tp);
	gale__tcp_free_buffers(tp);
	tp->state = 0;
	tp->next_free = s->free_conns;
	s->free_conns = tp;
	s->nconns--;
	GALE__STAT(s, tcp_conn_closed);
}

static void
gale__tcp_leave_halfopen(struct gale_tcp_conn *tp)
{
	struct gale__listener *l;

	if (!tp->halfopen)
		return;
	tp->halfopen = false;
	l = gale__tcp_listener(tp->stack, tp->listen_port);
	if (l != NULL && l->nhalfopen > 0)
		l->nhalfopen--;
}

void
gale__tcp_event(struct gale_tcp_conn *tp, uint8_t ev)
{
	tp->events |= ev;
}

/* The connection is over: to CLOSED, buffers and timers gone; freed when nobody is inside it. */
void
gale__tcp_close(struct gale_tcp_conn *tp)
{
	gale__tcp_leave_halfopen(tp);
	tp->state = GALE_TCPS_CLOSED;
	gale__tcp_timers_cancel(tp);
	gale__tcp_free_buffers(tp);
	if (tp->t_flags & GALE_TF_IN_TABLE)
		gale__table_remove(tp->stack, tp);
	gale__tcp_event(tp, GALE__EV_CLOSED);
	if (tp->busy == 0) {
		tp->busy = 1;
		gale__tcp_unbusy(tp);
	}
}

/* Drop the connection: RST if the peer knows it, then error (if err) and close. */
void
gale__tcp_drop(struct gale_tcp_conn *tp, int err)
{
	if (tp->state & GALE_TCPS_HAVE_RCVD_SYN) {
		gale__tcp_respond(tp->stack, tp->laddr, tp->lport, tp->faddr, tp->fport,
		                  tp->snd_nxt, tp->rcv_nxt, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	}
	if (err != 0) {
		tp->error = err;
		gale__tcp_event(tp, GALE__EV_ERROR);
	}
	gale__tcp_close(tp);
}

void
gale__tcp_busy(struct gale_tcp_conn *tp)
{
	tp->busy++;
}

static int
gale__tcp_do_accept(struct gale_tcp_conn *tp)
{
	struct gale__listener *l = gale__tcp_listener(tp->stack, tp->listen_port);

	if (l == NULL || l->cb(l->arg, tp) != 0)
		return -ECONNREFUSED;
	tp->t_flags |= GALE_TF_ACCEPTED;
	return 0;
}

/* Leave the connection; the outermost leave delivers the latched events and frees a finished block.
 */
void
gale__tcp_unbusy(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;
	uint8_t ev;

	if (tp->busy > 1) {
		tp->busy--;
		return;
	}
	/* A passive connection that reached ESTABLISHED is offered to its listener first. */
	if (!(tp->t_flags & GALE_TF_ACCEPTED) && tp->listen_port != 0 && !s->freeing &&
	    (tp->state & GALE_TCPS_SYNCHRONIZED) && !(tp->t_flags & GALE_TF_CLOSED_CB)) {
		if (gale__tcp_do_accept(tp) != 0) {
			tp->t_flags |= GALE_TF_CLOSED_CB;
			gale__tcp_drop(tp, 0);
		}
	}
	while (tp->events != 0) {
		if (s->freeing || !(tp->t_flags & GALE_TF_ACCEPTED) ||
		    (tp->t_flags & GALE_TF_CLOSED_CB)) {
			tp->events = 0;
			break;
		}
		if (tp->events & GALE__EV_CONNECTED) {
			ev = GALE__EV_CONNECTED;
		} else if (tp->events & GALE__EV_READABLE) {
			ev = GALE__EV_READABLE;
		} else if (tp->events & GALE__EV_WRITABLE) {
			ev = GALE__EV_WRITABLE;
		} else if (tp->events & GALE__EV_ERROR) {
			ev = GALE__EV_ERROR;
		} else {
			ev = GALE__EV_CLOSED;
			if (!(tp->state & (GALE_TCPS_CLOSED | GALE_TCPS_TIME_WAIT))) {
				tp->events &= (uint8_t)~ev;
				continue;
			}
		}
		tp->events &= (uint8_t)~ev;
		switch (ev) {
		case GALE__EV_CONNECTED:
			if (tp->cbs.connected != NULL)
				tp->cbs.connected(tp, tp->cb_arg);
			break;
		case GALE__EV_READABLE:
			if (tp->cbs.readable != NULL)
				tp->cbs.readable(tp, tp->cb_arg);
			break;
		case GALE__EV_WRITABLE:
			if (tp->cbs.writable != NULL)
				tp->cbs.writable(tp, tp->cb_arg);
			break;
		case GALE__EV_ERROR:
			if (tp->cbs.error != NULL)
				tp->cbs.error(tp, tp->cb_arg, tp->error);
			break;
		default:
			tp->t_flags |= GALE_TF_CLOSED_CB;
			if (tp->cbs.closed != NULL)
				tp->cbs.closed(tp, tp->cb_arg);
			memset(&tp->cbs, 0, sizeof(tp->cbs));
			/* Unread bytes are the application's no more. */
			rte_pktmbuf_free(tp->rcv_head);
			tp->rcv_head = tp->rcv_tail = NULL;
			tp->rcv_cc = 0;
			break;
		}
	}
	tp->busy = 0;
	if (tp->state == GALE_TCPS_CLOSED &&
	    ((tp->t_flags & GALE_TF_CLOSED_CB) || !(tp->t_flags & GALE_TF_ACCEPTED) || s->freeing))
		gale__tcp_release(tp);
}

void
gale__tcp_free_all(struct gale_stack *s)
{
	uint32_t i;

	for (i = 0; i < s->conf.max_conns; i++) {
		if (s->conns[i].state != 0) {
			s->conns[i].busy = 0;
			gale__tcp_release(&s->conns[i]);
		}
	}
}

/* ---- listeners ---- */

struct gale__listener *
gale__tcp_listener(struct gale_stack *s, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < s->conf.max_listeners; i++)
		if (s->listeners[i].port == port && port != 0)
			return &s->listeners[i];
	return NULL;
}

int
gale_tcp_listen(struct gale_stack *s, uint16_t port, uint32_t backlog, gale_tcp_accept_cb_t cb,
                void *arg)
{
	uint32_t i;

	if (port == 0 || cb == NULL)
		return -EINVAL;
	if (gale__tcp_listener(s, port) != NULL)
		return -EADDRINUSE;
	for (i = 0; i < s->conf.max_listeners; i++) {
		if (s->listeners[i].port == 0) {
			s->listeners[i].port = port;
			s->listeners[i].backlog = backlog != 0 ? backlog : s->conf.syn_backlog;
			s->listeners[i].nhalfopen = 0;
			s->listeners[i].cb = cb;
			s->listeners[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

int
gale_tcp_unlisten(struct gale_stack *s, uint16_t port)
{
	struct gale__listener *l = gale__tcp_listener(s, port);
	struct gale_tcp_conn *tp;
	uint32_t i;

	if (l == NULL)
		return -ENOENT;
	for (i = 0; i < s->conf.max_conns; i++) {
		tp = &s->conns[i];
		if (tp->state != 0 && tp->listen_port == port &&
		    !(tp->t_flags & GALE_TF_ACCEPTED) && tp->state != GALE_TCPS_CLOSED &&
		    tp->state != GALE_TCPS_TIME_WAIT) {
			gale__tcp_busy(tp);
			gale__tcp_drop(tp, 0);
			gale__tcp_unbusy(tp);
		}
	}
	memset(l, 0, sizeof(*l));
	return 0;
}

/* ---- ISN and cookies ---- */

uint32_t
gale__tcp_isn(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr, uint16_t fport)
{
	uint32_t key[3] = { laddr, faddr, ((uint32_t)lport << 16) | fport };

	return (uint32_t)(gale__now_us(s) / 4) +
	       gale__siphash(s->conf.isn_secret, key, sizeof(key));
}

static uint32_t
gale__cookie_hash(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                  uint16_t fport, uint32_t irs, uint32_t slot)
{
	uint32_t key[5] = { laddr, faddr, ((uint32_t)lport << 16) | fport, irs, slot };
	uint64_t k[2] = { s->conf.isn_secret[1], s->conf.isn_secret[0] ^ 0xc2b2ae3d27d4eb4full };

	return gale__siphash(k, key, sizeof(key)) & 0xffffffu;
}

static uint32_t
gale__cookie_slot(struct gale_stack *s)
{
	return (uint32_t)(gale__now_us(s) / 64000000u) & 0x1f;
}

uint32_t
gale__syncookie_make(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                     uint16_t fport, uint32_t irs, uint16_t mss, uint16_t *mss_out)
{
	uint32_t idx = 0, i, slot = gale__cookie_slot(s);

	for (i = 0; i < 8; i++)
		if (gale__cookie_mss[i] <= mss)
			idx = i;
	*mss_out = gale__cookie_mss[idx];
	return (slot << 27) | (idx << 24) |
	       gale__cookie_hash(s, laddr, lport, faddr, fport, irs, slot);
}

int
gale__syncookie_check(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                      uint16_t fport, uint32_t irs, uint32_t cookie, uint16_t *mss)
{
	uint32_t slot = cookie >> 27, now = gale__cookie_slot(s);

	if (((now - slot) & 0x1f) > 1)
		return -ETIMEDOUT;
	if ((cookie & 0xffffffu) != gale__cookie_hash(s, laddr, lport, faddr, fport, irs, slot))
		return -EINVAL;
	*mss = gale__cookie_mss[(cookie >> 24) & 7];
	return 0;
}

/* ---- helpers shared by input and output ---- */

uint32_t
gale__tcp_rcv_space(const struct gale_tcp_conn *tp)
{
	uint32_t buf = tp->stack->conf.rcvbuf;

	return tp->rcv_cc >= buf ? 0 : buf - tp->rcv_cc;
}

void
gale__tcp_set_mss(struct gale_tcp_conn *tp)
{
	const struct gale_stack *s = tp->stack;
	/* Not clamped to one buffer: a segment larger than a buffer's room goes out chained
	 * (tcp_output.c), so an MTU above it (jumbo frames on memif) gives full-sized segments. */
	uint32_t mss = GALE__MIN((uint32_t)tp->peer_mss, (uint32_t)s->conf.mtu - 40u), lim;

	if (tp->t_flags & GALE_TF_RCVD_TSTMP)
		mss -= 12;
	/* TSO on a device that cuts frames no longer than tso_frame_max, Ethernet header included
	 * (net_tap): every frame it cuts carries t_maxseg bytes, so t_maxseg fits that limit. And
	 * an even count: net_tap sums each buffer of a cut frame as if it began at an even offset,
	 * so every piece but a frame's last must be of even length (tcp_output.c). */
	if ((s->conf.tx_offloads & GALE_STACK_OFFLOAD_TSO) && s->conf.tso_frame_max != 0) {
		lim = s->conf.tso_frame_max > 54u + 12u ? s->conf.tso_frame_max - 54u : 64u;
		if (tp->t_flags & GALE_TF_RCVD_TSTMP)
			lim -= 12;
		mss = GALE__MIN(mss, lim) & ~1u;
	}
	if (mss < 64)
		mss = 64;
	tp->t_maxseg = (uint16_t)mss;
}

uint8_t
gale__tcp_wscale_for(uint32_t buf)
{
	uint8_t sc = 0;

	while (sc < GALE__TCP_MAX_WINSHIFT && (buf >> sc) > GALE__TCP_MAXWIN)
		sc++;
	return sc;
}

void
gale__tcp_init_cwnd(struct gale_tcp_conn *tp)
{
	/* RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)). */
	tp->snd_cwnd =
	        GALE__MIN(GALE__TCP_IW_SEGS * tp->t_maxseg, GALE__MAX(2u * tp->t_maxseg, 14600u));
	if (tp->snd_ssthresh == 0)
		tp->snd_ssthresh = 0x7fffffff;
}

void
gale__tcp_established(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;

	gale__tcp_leave_halfopen(tp);
	tp->state = GALE_TCPS_ESTABLISHED;
	GALE__STAT(s, tcp_conn_established);
	gale__tcp_keep_arm(tp);
}

/* Free n acknowledged bytes from the front of the send buffer. */
void
gale__tcp_snd_drop(struct gale_tcp_conn *tp, uint32_t n)
{
	if (n == 0)
		return;
	if (n >= tp->snd_cc) {
		rte_pktmbuf_free(tp->snd_head);
		tp->snd_head = tp->snd_tail = NULL;
		tp->snd_cc = 0;
		return;
	}
	tp->snd_head = gale__mbuf_adj(tp->snd_head, n);
	tp->snd_cc -= n;
}

bool
gale__tcp_challenge_allowed(struct gale_stack *s)
{
	uint64_t sec = gale__now_us(s) / 1000000u;

	if (sec != s->chack_second) {
		s->chack_second = sec;
		s->chack_count = 0;
	}
	if (s->chack_count >= s->conf.challenge_ack_limit) {
		GALE__STAT(s, tcp_challenge_ack_limited);
		return false;
	}
	s->chack_count++;
	return true;
}

/* ---- the application API ---- */

int
gale_tcp_connect(struct gale_stack *s, uint32_t raddr, uint16_t rport,
                 const struct gale_tcp_callbacks *cbs, void *arg, struct gale_tcp_conn **connp)
{
	struct gale_tcp_conn *tp = NULL, *old;
	uint16_t lport = 0;
	uint32_t tries, span = (uint32_t)s->conf.ephemeral_hi - s->conf.ephemeral_lo + 1;
	int ret;

	if (raddr == 0 || rport == 0 || connp == NULL)
		return -EINVAL;
	if (s->free_conns == NULL) {
		GALE__STAT(s, tcp_drop_conn_limit);
		return -ENOSPC;
	}
	for (tries = 0; tries < 16 || (s->conf.port_pick == NULL && tries < span); tries++) {
		if (s->conf.port_pick != NULL) {
			if (tries >= 16)
				break;
			ret = s->conf.port_pick(s->conf.port_pick_ctx, s->conf.ip, raddr, rport,
			                        &lport);
			if (ret < 0)
				return ret;
		} else {
			lport = s->next_ephemeral;
			s->next_ephemeral = lport >= s->conf.ephemeral_hi ? s->conf.ephemeral_lo
			                                                  : (uint16_t)(lport + 1);
		}
		old = gale__tcp_lookup(s, s->conf.ip, lport, raddr, rport);
		if (old == NULL && gale__tcp_listener(s, lport) == NULL)
			break;
		/* TIME_WAIT reuse for an outgoing connection (as Linux's tcp_tw_reuse): only with
		 * timestamps, whose PAWS protects the new connection from the old one's segments,
		 * and after 1 s. */
		if (old != NULL && old->state == GALE_TCPS_TIME_WAIT &&
		    (old->t_flags & GALE_TF_RCVD_TSTMP) &&
		    gale__now_us(s) - old->ts_recent_age_us >= 1000000u) {
			GALE__STAT(s, tcp_timewait_reuse);
			gale__tcp_busy(old);
			gale__tcp_close(old);
			gale__tcp_unbusy(old);
			break;
		}
		lport = 0;
	}
	if (lport == 0)
		return -EADDRNOTAVAIL;
	tp = gale__tcp_newconn(s, s->conf.ip, lport, raddr, rport);
	if (tp == NULL)
		return -ENOSPC;
	if (cbs != NULL)
		tp->cbs = *cbs;
	tp->cb_arg = arg;
	tp->t_flags |= GALE_TF_ACCEPTED;
	tp->iss = gale__tcp_isn(s, tp->laddr, lport, raddr, rport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->state = GALE_TCPS_SYN_SENT;
	tp->request_r_scale = gale__tcp_wscale_for(s->conf.rcvbuf);
	if (s->conf.window_scaling)
		tp->t_flags |= GALE_TF_REQ_SCALE;
	if (s->conf.timestamps)
		tp->t_flags |= GALE_TF_REQ_TSTMP;
	GALE__STAT(s, tcp_conn_active);
	*connp = tp;
	gale__tcp_busy(tp);
	gale__tcp_output(tp);
	gale__tcp_unbusy(tp);
	return 0;
}

void
gale_tcp_set_callbacks(struct gale_tcp_conn *tp, const struct gale_tcp_callbacks *cbs, void *arg)
{
	if (cbs != NULL)
		tp->cbs = *cbs;
	else
		memset(&tp->cbs, 0, sizeof(tp->cbs));
	tp->cb_arg = arg;
}

static uint32_t
gale__tcp_send_space(const struct gale_tcp_conn *tp)
{
	uint32_t buf = tp->stack->conf.sndbuf;

	if (tp->t_flags & (GALE_TF_SHUT_WR | GALE_TF_APP_CLOSED) ||
	    !(tp->state & (GALE_TCPS_SYN_SENT | GALE_TCPS_SYN_RECEIVED | GALE_TCPS_ESTABLISHED |
	                   GALE_TCPS_CLOSE_WAIT)))
		return 0;
	return tp->snd_cc >= buf ? 0 : buf - tp->snd_cc;
}

uint32_t
gale_tcp_send_space(struct gale_tcp_conn *tp)
{
	uint32_t n = gale__tcp_send_space(tp);

	if (n == 0)
		tp->t_flags |= GALE_TF_WANT_WRITE;
	return n;
}

int
gale_tcp_send(struct gale_tcp_conn *tp, struct rte_mbuf *chain)
{
	uint32_t len;

	if (chain == NULL)
		return -EINVAL;
	if (tp->state == GALE_TCPS_CLOSED)
		return -ENOTCONN;
	if ((tp->t_flags & (GALE_TF_SHUT_WR | GALE_TF_APP_CLOSED)) ||
	    !(tp->state & (GALE_TCPS_SYN_SENT | GALE_TCPS_SYN_RECEIVED | GALE_TCPS_ESTABLISHED |
	                   GALE_TCPS_CLOSE_WAIT)))
		return -EPIPE;
	len = rte_pktmbuf_pkt_len(chain);
	if (len == 0) {
		rte_pktmbuf_free(chain);
		return 0;
	}
	if (len > gale__tcp_send_space(tp) ||
	    (tp->snd_head != NULL && (uint32_t)tp->snd_head->nb_segs + chain->nb_segs > 60000u)) {
		tp->t_flags |= GALE_TF_WANT_WRITE;
		return -EAGAIN;
	}
	if (tp->snd_head == NULL) {
		tp->snd_head = chain;
	} else {
		tp->snd_tail->next = chain;
		tp->snd_head->pkt_len += len;
		tp->snd_head->nb_segs = (uint16_t)(tp->snd_head->nb_segs + chain->nb_segs);
	}
	tp->snd_tail = rte_pktmbuf_lastseg(chain);
	tp->snd_cc += len;
	if (tp->snd_head != chain) {
		chain->pkt_len = rte_pktmbuf_data_len(chain);
		chain->nb_segs = 1;
	}
	gale__tcp_busy(tp);
	if (tp->state & GALE_TCPS_SYNCHRONIZED)
		gale__tcp_output(tp);
	gale__tcp_unbusy(tp);
	return 0;
}

const struct rte_mbuf *
gale_tcp_recv_peek(const struct gale_tcp_conn *tp, uint32_t *len)
{
	if (len != NULL)
		*len = tp->rcv_cc;
	return tp->rcv_head;
}

int
gale_tcp_consume(struct gale_tcp_conn *tp, uint32_t len)
{
	uint32_t before, after;

	if (len > tp->rcv_cc)
		return -EINVAL;
	if (len == 0)
		return 0;
	before = gale__tcp_rcv_space(tp);
	tp->rcv_head = gale__mbuf_adj(tp->rcv_head, len);
	tp->rcv_cc -= len;
	if (tp->rcv_head == NULL)
		tp->rcv_tail = NULL;
	after = gale__tcp_rcv_space(tp);
	/* Window update (RFC 9293 3.8.6.2.2, receiver SWS avoidance): only when it opens by a real
	 * amount. */
	if ((tp->state & GALE_TCPS_CAN_RCV_DATA) &&
	    (after - before >= 2u * tp->t_maxseg || before < tp->t_maxseg ||
	     after >= tp->stack->conf.rcvbuf / 2)) {
		gale__tcp_busy(tp);
		gale__tcp_output(tp);
		gale__tcp_unbusy(tp);
	}
	return 0;
}

bool
gale_tcp_eof(const struct gale_tcp_conn *tp)
{
	return (tp->t_flags & GALE_TF_RCVD_FIN) != 0;
}

/* RFC 9293 3.10.4 CLOSE / shutdown of the sending side. */
static void
gale__tcp_usrclosed(struct gale_tcp_conn *tp)
{
	switch (tp->state) {
	case GALE_TCPS_SYN_SENT:
	case GALE_TCPS_LISTEN:
		gale__tcp_close(tp);
		return;
	case GALE_TCPS_SYN_RECEIVED:
	case GALE_TCPS_ESTABLISHED:
		tp->t_flags |= GALE_TF_SHUT_WR;
		tp->state = GALE_TCPS_FIN_WAIT_1;
		break;
	case GALE_TCPS_CLOSE_WAIT:
		tp->t_flags |= GALE_TF_SHUT_WR;
		tp->state = GALE_TCPS_LAST_ACK;
		break;
	default:
		return;
	}
	if (tp->state & GALE_TCPS_SYNCHRONIZED)
		gale__tcp_output(tp);
}

int
gale_tcp_shutdown(struct gale_tcp_conn *tp)
{
	if (!(tp->state & (GALE_TCPS_SYN_SENT | GALE_TCPS_SYN_RECEIVED | GALE_TCPS_ESTABLISHED |
	                   GALE_TCPS_CLOSE_WAIT)))
		return (tp->t_flags & GALE_TF_SHUT_WR) ? 0 : -ENOTCONN;
	gale__tcp_busy(tp);
	gale__tcp_usrclosed(tp);
	gale__tcp_unbusy(tp);
	return 0;
}

int
gale_tcp_close(struct gale_tcp_conn *tp)
{
	gale__tcp_busy(tp);
	tp->t_flags |= GALE_TF_APP_CLOSED;
	if (tp->state == GALE_TCPS_CLOSED || tp->state == GALE_TCPS_TIME_WAIT) {
		gale__tcp_event(tp, GALE__EV_CLOSED);
	} else if (tp->rcv_cc > 0) {
		/* RFC 1122 4.2.2.13: closing with unread data resets the connection. */
		GALE__STAT(tp->stack, tcp_conn_aborted);
		gale__tcp_drop(tp, 0);
	} else {
		gale__tcp_usrclosed(tp);
	}
	gale__tcp_unbusy(tp);
	return 0;
}

void
gale_tcp_abort(struct gale_tcp_conn *tp)
{
	gale__tcp_busy(tp);
	tp->t_flags |= GALE_TF_APP_CLOSED;
	if (tp->state != GALE_TCPS_CLOSED) {
		GALE__STAT(tp->stack, tcp_conn_aborted);
		if (tp->state == GALE_TCPS_TIME_WAIT)
			gale__tcp_close(tp);
		else
			gale__tcp_drop(tp, 0);
	} else {
		gale__tcp_event(tp, GALE__EV_CLOSED);
	}
	gale__tcp_unbusy(tp);
}

void
gale_tcp_set_nodelay(struct gale_tcp_conn *tp, bool nodelay)
{
	if (nodelay)
		tp->t_flags |= GALE_TF_NODELAY;
	else
		tp->t_flags &= ~GALE_TF_NODELAY;
}

void
gale_tcp_get_info(const struct gale_tcp_conn *tp, struct gale_tcp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->state = tp->state;
	info->laddr = tp->laddr;
	info->raddr = tp->faddr;
	info->lport = tp->lport;
	info->rport = tp->fport;
	info->mss = tp->t_maxseg;
	info->snd_wscale = tp->snd_scale;
	info->rcv_wscale = tp->rcv_scale;
	info->ts = (tp->t_flags & GALE_TF_RCVD_TSTMP) != 0;
	info->sack = (tp->t_flags & GALE_TF_SACK_PERMIT) != 0;
	info->snd_una = tp->snd_una;
	info->snd_nxt = tp->snd_nxt;
	info->snd_wnd = tp->snd_wnd;
	info->cwnd = tp->snd_cwnd;
	info->ssthresh = tp->snd_ssthresh;
	info->rcv_nxt = tp->rcv_nxt;
	info->rcv_wnd = tp->rcv_wnd_cur;
	info->srtt_us = tp->srtt_us;
	info->rttvar_us = tp->rttvar_us;
	info->rto_us = tp->rto_us;
	info->snd_buffered = tp->snd_cc;
	info->rcv_buffered = tp->rcv_cc;
	info->ooo_segs = tp->reass_n;
	info->rexmits = tp->t_rexmits;
}

struct gale_stack *
gale_tcp_stack(const struct gale_tcp_conn *tp)
{
	return tp->stack;
}

const char *
gale_tcp_state_name(uint32_t state)
{
	switch (state) {
	case GALE_TCPS_CLOSED:
		return "CLOSED";
	case GALE_TCPS_LISTEN:
		return "LISTEN";
	case GALE_TCPS_SYN_SENT:
		return "SYN_SENT";
	case GALE_TCPS_SYN_RECEIVED:
		return "SYN_RECEIVED";
	case GALE_TCPS_ESTABLISHED:
		return "ESTABLISHED";
	case GALE_TCPS_CLOSE_WAIT:
		return "CLOSE_WAIT";
	case GALE_TCPS_FIN_WAIT_1:
		return "FIN_WAIT_1";
	case GALE_TCPS_CLOSING:
		return "CLOSING";
	case GALE_TCPS_LAST_ACK:
		return "LAST_ACK";
	case GALE_TCPS_FIN_WAIT_2:
		return "FIN_WAIT_2";
	case GALE_TCPS_TIME_WAIT:
		return "TIME_WAIT";
	default:
		return "?";
	}
}
