/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receive side buffering: the in-order receive chain the application borrows, and out-of-order
 * reassembly.
 *
 * Reassembly keeps the received mbufs themselves (no copy) in a sorted array of at most
 * reass_max_segs slots whose byte ranges never overlap: a new segment is trimmed against its
 * neighbours and swallows slots it covers, so duplicates cost nothing. Slots plus in-order bytes
 * are bounded by rcvbuf; a segment that does not fit is dropped and counted (the peer retransmits
 * it). A short in-order segment is copied into the tailroom of the receive chain's last buffer when
 * it fits, which bounds the buffers a peer sending tiny segments can pin to about rcvbuf / 512
 * instead of one per segment.
 */
#include <string.h>

#include "tcp_var.h"

#define GALE__COALESCE_MAX 512u

/* Consumes m, a payload chain of exactly len bytes (pkt_len == len). */
void
gale__tcp_rcv_append(struct gale_tcp_conn *tp, struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *tail = tp->rcv_tail;

	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (tail != NULL && len <= GALE__COALESCE_MAX && m->nb_segs == 1 && RTE_MBUF_DIRECT(tail) &&
	    rte_mbuf_refcnt_read(tail) == 1 && rte_pktmbuf_tailroom(tail) >= len) {
		memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t *, tail->data_len),
		       rte_pktmbuf_mtod(m, uint8_t *), len);
		tail->data_len = (uint16_t)(tail->data_len + len);
		tp->rcv_head->pkt_len += len;
		rte_pktmbuf_free(m);
	} else {
		if (tp->rcv_head == NULL) {
			tp->rcv_head = m;
		} else {
			tail->next = m;
			tp->rcv_head->pkt_len += len;
			tp->rcv_head->nb_segs = (uint16_t)(tp->rcv_head->nb_segs + m->nb_segs);
			m->pkt_len = m->data_len;
			m->nb_segs = 1;
		}
		tp->rcv_tail = rte_pktmbuf_lastseg(m);
	}
	tp->rcv_cc += len;
}

static void
gale__reass_remove(struct gale_tcp_conn *tp, uint32_t i, bool free_it)
{
	if (free_it)
		rte_pktmbuf_free(tp->reass[i].m);
	tp->reass_bytes -= tp->reass[i].len;
	memmove(&tp->reass[i], &tp->reass[i + 1], (tp->reass_n - i - 1) * sizeof(tp->reass[0]));
	tp->reass_n--;
}

/* Consumes m (payload only, len bytes, seq above rcv_nxt). 0 when held, negative when dropped. */
int
gale__tcp_reass(struct gale_tcp_conn *tp, uint32_t seq, struct rte_mbuf *m, uint32_t len, bool fin)
{
	struct gale_stack *s = tp->stack;
	uint32_t end = seq + len, i, cut, pend;

	/* First slot starting after seq. */
	for (i = 0; i < tp->reass_n && GALE_SEQ_LEQ(tp->reass[i].seq, seq); i++)
		;
	if (i > 0) {
		pend = tp->reass[i - 1].seq + tp->reass[i - 1].len;
		if (GALE_SEQ_GEQ(pend, end) && !(fin && !tp->reass[i - 1].fin && pend == end)) {
			GALE__STAT(s, tcp_dup_seg);
			rte_pktmbuf_free(m);
			gale__tcp_sack_update_send(tp, tp->reass[i - 1].seq, pend);
			return -EEXIST;
		}
		if (GALE_SEQ_GT(pend, seq)) {
			cut = pend - seq;
			m = gale__mbuf_adj(m, cut);
			seq += cut;
			len -= cut;
		}
	}
	while (i < tp->reass_n && GALE_SEQ_LEQ(tp->reass[i].seq + tp->reass[i].len, end)) {
		fin = fin || tp->reass[i].fin;
		gale__reass_remove(tp, i, true);
	}
	if (i < tp->reass_n && GALE_SEQ_LT(tp->reass[i].seq, end)) {
		len = tp->reass[i].seq - seq;
		fin = false;
		if (len == 0) {
			rte_pktmbuf_free(m);
			return -EEXIST;
		}
		gale__mbuf_trim(m, len);
		end = seq + len;
	}
	if (len == 0 && !fin) {
		rte_pktmbuf_free(m);
		return -EEXIST;
	}
	if (tp->reass_n >= s->conf.reass_max_segs ||
	    tp->rcv_cc + tp->reass_bytes + len > s->conf.rcvbuf) {
		GALE__STAT(s, tcp_drop_reass_full);
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	memmove(&tp->reass[i + 1], &tp->reass[i], (tp->reass_n - i) * sizeof(tp->reass[0]));
	tp->reass[i].seq = seq;
	tp->reass[i].len = len;
	tp->reass[i].fin = fin;
	tp->reass[i].m = m;
	tp->reass_n++;
	tp->reass_bytes += len;
	GALE__STAT(s, tcp_ooo_seg);
	gale__tcp_sack_update_send(tp, seq, end);
	return 0;
}

/* Move slots that rcv_nxt reached into the receive chain. Returns true when a FIN came with them.
 */
bool
gale__tcp_reass_pull(struct gale_tcp_conn *tp)
{
	struct gale__reass_seg *r;
	struct rte_mbuf *m;
	uint32_t cut, len;
	bool fin = false;

	while (tp->reass_n > 0 && GALE_SEQ_LEQ(tp->reass[0].seq, tp->rcv_nxt)) {
		r = &tp->reass[0];
		m = r->m;
		len = r->len;
		fin = r->fin;
		if (GALE_SEQ_LEQ(r->seq + r->len, tp->rcv_nxt) &&
		    !(fin && r->seq + r->len == tp->rcv_nxt)) {
			gale__reass_remove(tp, 0, true);
			fin = false;
			continue;
		}
		cut = tp->rcv_nxt - r->seq;
		gale__reass_remove(tp, 0, false);
		if (cut > 0)
			m = gale__mbuf_adj(m, cut);
		len -= cut;
		tp->rcv_nxt += len;
		GALE__STAT_ADD(tp->stack, tcp_bytes_rx, len);
		if (m != NULL)
			gale__tcp_rcv_append(tp, m, len);
		if (fin)
			break;
	}
	gale__tcp_sack_prune_send(tp);
	return fin;
}

void
gale__tcp_reass_flush(struct gale_tcp_conn *tp)
{
	uint32_t i;

	for (i = 0; i < tp->reass_n; i++)
		rte_pktmbuf_free(tp->reass[i].m);
	tp->reass_n = 0;
	tp->reass_bytes = 0;
	tp->nsack_send = 0;
}
