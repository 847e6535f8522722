/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP output: decide what to send (FreeBSD's tcp_output as the model) and build segments.
 *
 * One pass sends as much as the send window (min of the peer's window and cwnd), Nagle (off by
 * default) and the tx queue allow, MSS-sized, with SYN, FIN and ACK where the state calls for them;
 * while out-of-order data is held, every segment carries SACK blocks and a full segment carries
 * that many payload bytes less, so no frame exceeds the MTU (a device refuses such a frame, and a
 * refused frame at the head of a transmit queue stops everything behind it);
 * in SACK recovery the holes of the scoreboard go first (RFC 6675 NextSeg, simplified: un-SACKed
 * bytes below the highest SACKed byte are presumed lost). A zero window with data waiting starts
 * the persist timer instead.
 *
 * Payload is copied from the send buffer into the segment's buffers: one copy per transmission,
 * which lets retransmissions come from the same place. The send API is zero-copy for the
 * application; the transmit path using indirect mbufs is future work (TSO with it). A segment
 * that does not fit one buffer (an MTU above the pool's data room, e.g. 9000-byte jumbo frames on
 * memif with 2 KiB buffers) is a chain: headers and the first payload bytes in the first buffer,
 * the rest in as many more as it takes, each filled to its room; its TCP checksum is computed
 * over the chain. With conf.tx_zerocopy the payload is not copied at all: the frame is its
 * headers followed by indirect mbufs attached to the send buffer's (opt-in, since anything that
 * writes into a sent frame would then write into the send buffer). Only a caller whose port takes
 * multi-segment frames (memif, tap: RTE_ETH_TX_OFFLOAD_MULTI_SEGS) sets an MTU above one buffer's
 * room; at 1500 bytes every frame stays single-segment as before.
 *
 * TSO (conf.tx_offloads & GALE_STACK_OFFLOAD_TSO): a segment of up to 64 KiB of whole MSS-sized
 * pieces goes to the device as one chain with RTE_MBUF_F_TX_TCP_SEG, tso_segsz = t_maxseg and
 * the pseudo-header checksum without the length, as DPDK asks; the device cuts it into frames and
 * finishes their checksums (net_tap does it in software with librte_gso: one system call per
 * frame still, but one pass through the stack, the tx burst and the impairment layer per 64 KiB).
 * Everything above works in bytes, so a retransmission may resend part of a segment sent as one
 * (a SACK hole, or from snd_una after a timeout with one MSS of window). Not with tx_zerocopy:
 * its pieces have the send buffer's lengths, odd ones too, which net_tap's checksum mishandles.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_var.h"

#define GALE__TCPOPT_EOL       0
#define GALE__TCPOPT_NOP       1
#define GALE__TCPOPT_MSS       2
#define GALE__TCPOPT_WSCALE    3
#define GALE__TCPOPT_SACK_PERM 4
#define GALE__TCPOPT_SACK      5
#define GALE__TCPOPT_TS        8

#define GALE__IP_TCP_HDRS (sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))
#define GALE__TSO_MAX_IP  65535u /**< the longest IPv4 datagram, so the longest TSO segment. */
#define GALE__HDRS                                                                                 \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr))

/** Options of an outgoing segment. */
struct gale__opts_out {
	uint16_t mss;  /**< 0 = none. */
	int8_t wscale; /**< -1 = none. */
	bool sack_perm;
	bool ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	const struct gale__seq_block *sack;
};

uint32_t
gale__tcp_ts_now(const struct gale_tcp_conn *tp)
{
	/* RFC 7323 5.4: a 1 ms clock; the per-connection offset hides the host clock (RFC
	 * 7323 7.1). */
	return (uint32_t)(gale__now_us(tp->stack) / 1000u) + tp->ts_offset;
}

static unsigned int
gale__opts_len(const struct gale__opts_out *o)
{
	unsigned int n = 0;

	if (o->mss)
		n += 4;
	if (o->wscale >= 0)
		n += 4;
	if (o->ts)
		n += 12;
	if (o->sack_perm)
		n += 4;
	if (o->nsack)
		n += 4 + 8u * o->nsack;
	return n;
}

static void
gale__opts_write(uint8_t *p, const struct gale__opts_out *o)
{
	unsigned int i;
	uint32_t v;

	if (o->mss) {
		*p++ = GALE__TCPOPT_MSS;
		*p++ = 4;
		*p++ = (uint8_t)(o->mss >> 8);
		*p++ = (uint8_t)o->mss;
	}
	if (o->wscale >= 0) {
		*p++ = GALE__TCPOPT_NOP;
		*p++ = GALE__TCPOPT_WSCALE;
		*p++ = 3;
		*p++ = (uint8_t)o->wscale;
	}
	if (o->sack_perm) {
		*p++ = GALE__TCPOPT_NOP;
		*p++ = GALE__TCPOPT_NOP;
		*p++ = GALE__TCPOPT_SACK_PERM;
		*p++ = 2;
	}
	if (o->ts) {
		*p++ = GALE__TCPOPT_NOP;
		*p++ = GALE__TCPOPT_NOP;
		*p++ = GALE__TCPOPT_TS;
		*p++ = 10;
		v = rte_cpu_to_be_32(o->tsval);
		memcpy(p, &v, 4);
		v = rte_cpu_to_be_32(o->tsecr);
		memcpy(p + 4, &v, 4);
		p += 8;
	}
	if (o->nsack) {
		*p++ = GALE__TCPOPT_NOP;
		*p++ = GALE__TCPOPT_NOP;
		*p++ = GALE__TCPOPT_SACK;
		*p++ = (uint8_t)(2 + 8 * o->nsack);
		for (i = 0; i < o->nsack; i++) {
			v = rte_cpu_to_be_32(o->sack[i].start);
			memcpy(p, &v, 4);
			v = rte_cpu_to_be_32(o->sack[i].end);
			memcpy(p + 4, &v, 4);
			p += 8;
		}
	}
}

/*
 * Allocate a segment with headers and options and room for len payload bytes at *payload. Returns
 * NULL (counted) without a buffer.
 */
static struct rte_mbuf *
gale__tcp_build(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                uint16_t fport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                const struct gale__opts_out *o, uint32_t len, uint8_t **payload)
{
	unsigned int olen = o != NULL ? gale__opts_len(o) : 0;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint8_t *p;

	uint32_t first, rest, n;
	struct rte_mbuf *seg;

	m = gale__pkt_alloc(s);
	if (m == NULL)
		return NULL;
	/* Payload beyond the first buffer's room goes to further buffers, chained. Every buffer
	 * but the last holds an even count: net_tap sums each buffer of a TSO frame as if it began
	 * at an even offset of the TCP data (DPDK 22.11's tap_tx_l4_add_rcksum). */
	first = rte_pktmbuf_tailroom(m) > GALE__HDRS + olen
	                ? GALE__MIN(len, (uint32_t)rte_pktmbuf_tailroom(m) - GALE__HDRS - olen)
	                : 0;
	if (first < len)
		first &= ~1u;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(GALE__HDRS + olen + first));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		GALE__STAT(s, tx_nombuf);
		return NULL;
	}
	for (rest = len - first; rest > 0; rest -= n) {
		seg = gale__pkt_alloc(s);
		if (seg == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		n = GALE__MIN(rest, (uint32_t)rte_pktmbuf_tailroom(seg));
		if (n < rest)
			n &= ~1u;
		if (n == 0 || rte_pktmbuf_append(seg, (uint16_t)n) == NULL ||
		    rte_pktmbuf_chain(m, seg) != 0) {
			rte_pktmbuf_free(seg);
			rte_pktmbuf_free(m);
			GALE__STAT(s, tx_nombuf);
			return NULL;
		}
	}
	th = (struct rte_tcp_hdr *)(p + sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr));
	th->src_port = rte_cpu_to_be_16(lport);
	th->dst_port = rte_cpu_to_be_16(fport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((sizeof(*th) + olen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (olen)
		gale__opts_write((uint8_t *)(th + 1), o);
	*payload = (uint8_t *)(th + 1) + olen;
	gale__ip_fill_hdr(s, m, laddr, faddr, IPPROTO_TCP);
	return m;
}

/* Consumes m: checksum (or its offload) and send. */
static int
gale__tcp_finish(struct gale_stack *s, struct rte_mbuf *m, uint32_t faddr)
{
	struct rte_ipv4_hdr *ip =
	        rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	m->l4_len = (uint16_t)((th->data_off >> 4) * 4);
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		/* TSO: the device fills every frame's IPv4 and TCP checksums; the TCP checksum
		 * field holds the pseudo-header sum without the length (rte_ipv4_phdr_cksum with
		 * TCP_SEG leaves it out). */
		m->ol_flags |=
		        RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		ip->hdr_checksum = 0;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		GALE__STAT(s, tcp_tso_tx);
	} else if (s->conf.tx_offloads & GALE_STACK_OFFLOAD_TCP_CKSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		uint16_t l4_off = (uint16_t)((uint8_t *)th - rte_pktmbuf_mtod(m, uint8_t *));
		uint16_t sum = 0;
		uint32_t raw;

		/* In software (gale_cksum_raw, not rte_ipv4_udptcp_cksum: see dpdk_port/offload.c);
		 * a chained segment (jumbo frame) sums every buffer. */
		(void)gale_cksum_chain(m, l4_off, rte_pktmbuf_pkt_len(m) - l4_off, &sum);
		raw = (uint32_t)sum + rte_ipv4_phdr_cksum(ip, 0);
		raw = (raw & 0xffff) + (raw >> 16);
		raw = (raw & 0xffff) + (raw >> 16);
		th->cksum = (uint16_t)~raw;
	}
	GALE__STAT(s, tcp_tx);
	return gale__ip_output(s, m, faddr, IPPROTO_TCP);
}

/* A segment without a control block: RST, keepalive probe, cookie SYN-ACK uses its own. */
int
gale__tcp_respond(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                  uint16_t fport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct rte_mbuf *m;
	uint8_t *payload;

	m = gale__tcp_build(s, laddr, lport, faddr, fport, seq, ack, flags, 0, NULL, 0, &payload);
	if (m == NULL)
		return -ENOBUFS;
	if (flags & RTE_TCP_RST_FLAG)
		GALE__STAT(s, tcp_rst_tx);
	return gale__tcp_finish(s, m, faddr);
}

/* The SYN-ACK of a SYN cookie: MSS only. */
int
gale__tcp_send_cookie_synack(struct gale_stack *s, uint32_t laddr, uint16_t lport, uint32_t faddr,
                             uint16_t fport, uint32_t iss, uint32_t ack, uint16_t mss)
{
	struct gale__opts_out o = { .mss = mss, .wscale = -1 };
	struct rte_mbuf *m;
	uint8_t *payload;
	uint32_t win = GALE__MIN(s->conf.rcvbuf, GALE__TCP_MAXWIN);

	m = gale__tcp_build(s, laddr, lport, faddr, fport, iss, ack,
	                    RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, (uint16_t)win, &o, 0, &payload);
	if (m == NULL)
		return -ENOBUFS;
	GALE__STAT(s, tcp_synack_tx);
	GALE__STAT(s, tcp_syncookie_tx);
	return gale__tcp_finish(s, m, faddr);
}

/*
 * The send buffer's mbuf holding byte seq (seq - snd_una < snd_cc) and the offset of that byte in
 * it. Sending walks the buffer from the place the last segment ended (tp->snd_cur) rather than
 * from its head: with a 4 MiB window of 10 KiB buffers the walk from the head cost ~400 mbuf
 * headers per segment and half of the sender's time (perf, bulk over memif), now a step or two.
 * The place is trusted only while its first byte is unacknowledged (snd_cur_seq >= snd_una):
 * acknowledgements free and trim buffers below snd_una only, so such a buffer is still in the
 * chain and unchanged; anything else (a retransmission below it, a buffer freed or reset)
 * starts from the head.
 */
static struct rte_mbuf *
gale__snd_seek(struct gale_tcp_conn *tp, uint32_t seq, uint32_t *off)
{
	struct rte_mbuf *m = tp->snd_head;
	uint32_t at = tp->snd_una;

	if (tp->snd_cur != NULL && GALE_SEQ_GEQ(tp->snd_cur_seq, tp->snd_una) &&
	    tp->snd_cur_seq - tp->snd_una < tp->snd_cc && GALE_SEQ_GEQ(seq, tp->snd_cur_seq)) {
		m = tp->snd_cur;
		at = tp->snd_cur_seq;
	}
	while (m != NULL && seq - at >= m->data_len) {
		at += m->data_len;
		m = m->next;
	}
	*off = seq - at;
	return m;
}

/*
 * Copy len bytes from seq of the send buffer into the segment seg built by gale__tcp_build: from
 * dst (the payload's start in the first buffer) to that buffer's end, then on through the
 * chain's further buffers. Borrows both; leaves tp->snd_cur where the copy ended.
 */
static void
gale__snd_copy(struct gale_tcp_conn *tp, uint32_t seq, uint32_t len, struct rte_mbuf *seg,
               uint8_t *dst)
{
	uint8_t *end = rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len);
	struct rte_mbuf *m;
	uint32_t n, off;

	m = gale__snd_seek(tp, seq, &off);
	while (m != NULL && len > 0) {
		if (dst == end) {
			seg = seg->next;
			if (seg == NULL)
				break;
			dst = rte_pktmbuf_mtod(seg, uint8_t *);
			end = dst + seg->data_len;
		}
		n = GALE__MIN(len, (uint32_t)m->data_len - off);
		n = GALE__MIN(n, (uint32_t)(end - dst));
		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		dst += n;
		len -= n;
		seq += n;
		off += n;
		if (off == m->data_len) {
			off = 0;
			m = m->next;
		}
	}
	if (m != NULL) {
		/* Where the next segment starts: the buffer holding seq, whose first byte is at
		 * seq - off. */
		tp->snd_cur = m;
		tp->snd_cur_seq = seq - off;
	}
}

/*
 * Zero-copy transmit (conf.tx_zerocopy): append to the segment m, built with headers only, len
 * bytes from seq of the send buffer as indirect mbufs attached to the send buffer's own (each
 * holds a reference: the bytes stay put until the device is done with them, even once acked).
 * Borrows the send buffer; on failure m is left to the caller to free. Leaves tp->snd_cur where
 * it ended, as gale__snd_copy does.
 */
static int
gale__snd_attach(struct gale_tcp_conn *tp, uint32_t seq, uint32_t len, struct rte_mbuf *m)
{
	struct rte_mbuf *src, *mi;
	uint32_t off, n;

	src = gale__snd_seek(tp, seq, &off);
	while (src != NULL && len > 0) {
		n = GALE__MIN(len, (uint32_t)src->data_len - off);
		mi = gale__pkt_alloc(tp->stack);
		if (mi == NULL)
			return -ENOBUFS;
		rte_pktmbuf_attach(mi, src);
		mi->data_off = (uint16_t)(mi->data_off + off);
		mi->data_len = (uint16_t)n;
		mi->pkt_len = n;
		if (rte_pktmbuf_chain(m, mi) != 0) {
			rte_pktmbuf_free(mi);
			return -EOVERFLOW;
		}
		len -= n;
		seq += n;
		off += n;
		if (off == src->data_len) {
			off = 0;
			src = src->next;
		}
	}
	if (src != NULL) {
		tp->snd_cur = src;
		tp->snd_cur_seq = seq - off;
	}
	return len == 0 ? 0 : -EINVAL;
}

/* The window to advertise (unscaled bytes), never shrinking what we already offered (RFC
 * 9293 3.8.6.2.1). */
static uint32_t
gale__tcp_rcv_window(struct gale_tcp_conn *tp)
{
	uint32_t win = gale__tcp_rcv_space(tp), adv = tp->rcv_adv - tp->rcv_nxt;
	uint32_t maxwin = GALE__TCP_MAXWIN << tp->rcv_scale;

	if (GALE_SEQ_GT(tp->rcv_adv, tp->rcv_nxt) && win < adv)
		win = adv;
	/* Receiver SWS avoidance: do not offer less than a segment unless it is all we have. */
	if (win < tp->t_maxseg && win < tp->stack->conf.rcvbuf / 4)
		win = GALE_SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? adv : 0;
	return GALE__MIN(win, maxwin);
}

/*
 * Bytes the SACK option takes on the connection's next segment (0 when it carries none), chosen
 * as gale__tcp_xmit chooses it. t_maxseg already leaves room for the timestamp option only, so a
 * data segment that carries SACK blocks must carry that many bytes less payload (as FreeBSD's
 * tcp_output trims len by optlen): a full segment with two blocks would otherwise be a 1520-byte
 * IP datagram on a 1500-byte MTU, which the device refuses, and a frame the device refuses stays at
 * the head of the transmit queue.
 */
static uint32_t
gale__tcp_sack_optlen(struct gale_tcp_conn *tp)
{
	uint32_t n;

	if (!(tp->t_flags & GALE_TF_SACK_PERMIT) || tp->reass_n == 0)
		return 0;
	gale__tcp_sack_prune_send(tp);
	n = GALE__MIN((uint32_t)tp->nsack_send, (tp->t_flags & GALE_TF_RCVD_TSTMP) ? 3u : 4u);
	return n != 0 ? 4u + 8u * n : 0;
}

/* The payload of a full segment now: t_maxseg less what SACK blocks take. */
static uint32_t
gale__tcp_seg_max(struct gale_tcp_conn *tp)
{
	uint32_t opt = gale__tcp_sack_optlen(tp);

	return opt < tp->t_maxseg ? tp->t_maxseg - opt : 1u;
}

/*
 * The payload of the largest segment to send now: a full segment, or with TSO as many full
 * segments as a 64 KiB IPv4 datagram holds (its headers and the longest options included).
 */
static uint32_t
gale__tcp_tso_max(struct gale_tcp_conn *tp)
{
	const struct gale_stack_conf *c = &tp->stack->conf;
	uint32_t seg = gale__tcp_seg_max(tp);

	if (!(c->tx_offloads & GALE_STACK_OFFLOAD_TSO) || c->tx_zerocopy)
		return seg;
	return GALE__MAX((GALE__TSO_MAX_IP - GALE__IP_TCP_HDRS - 40u) / seg, 1u) * seg;
}

/* Send one segment of the connection: seq, len payload bytes from the send buffer, flags. */
static int
gale__tcp_xmit(struct gale_tcp_conn *tp, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct gale_stack *s = tp->stack;
	struct gale__opts_out o = { .wscale = -1 };
	uint32_t win, segsz;
	uint16_t wfield;
	struct rte_mbuf *m;
	uint8_t *payload;
	bool zc;

	if (flags & RTE_TCP_SYN_FLAG) {
		o.mss = (uint16_t)(s->conf.mtu - 40);
		if (tp->t_flags & GALE_TF_REQ_SCALE)
			o.wscale = (int8_t)tp->request_r_scale;
		if (s->conf.sack &&
		    (tp->state == GALE_TCPS_SYN_SENT || (tp->t_flags & GALE_TF_SACK_PERMIT)))
			o.sack_perm = true;
		if (tp->t_flags & GALE_TF_REQ_TSTMP)
			o.ts = true;
	} else if (tp->t_flags & GALE_TF_RCVD_TSTMP) {
		o.ts = true;
	}
	if (o.ts) {
		o.tsval = gale__tcp_ts_now(tp);
		o.tsecr = tp->ts_recent;
	}
	zc = s->conf.tx_zerocopy && len > 0;
	/* The payload of each frame on the wire: len, or a segment's with TSO (a TSO caller sizes
	 * len with gale__tcp_tso_max, a multiple of it). */
	segsz = len;
	if (len > 0 && !zc && (s->conf.tx_offloads & GALE_STACK_OFFLOAD_TSO))
		segsz = GALE__MIN(len, gale__tcp_seg_max(tp));
	if (!(flags & RTE_TCP_SYN_FLAG) && (tp->t_flags & GALE_TF_SACK_PERMIT) && tp->reass_n > 0) {
		gale__tcp_sack_prune_send(tp);
		o.nsack = (uint8_t)GALE__MIN((unsigned int)tp->nsack_send, o.ts ? 3u : 4u);
		o.sack = tp->sack_send;
		/* Never beyond the MTU: blocks that do not fit beside the payload stay off (the
		 * callers size payloads with gale__tcp_seg_max, so this only guards). */
		while (o.nsack > 0 && GALE__IP_TCP_HDRS + gale__opts_len(&o) + segsz > s->conf.mtu)
			o.nsack--;
		s->stats.tcp_sack_blocks_tx += o.nsack;
	}
	win = gale__tcp_rcv_window(tp);
	if (flags & RTE_TCP_SYN_FLAG)
		wfield = (uint16_t)GALE__MIN(
		        win, GALE__TCP_MAXWIN); /* RFC 7323 2.2: a SYN's window is unscaled */
	else
		wfield = (uint16_t)GALE__MIN(win >> tp->rcv_scale, GALE__TCP_MAXWIN);
	m = gale__tcp_build(s, tp->laddr, tp->lport, tp->faddr, tp->fport, seq, tp->rcv_nxt, flags,
	                    wfield, &o, zc ? 0 : len, &payload);
	if (m == NULL) {
		GALE__STAT(s, tcp_nombuf);
		return -ENOBUFS;
	}
	if (zc) {
		if (gale__snd_attach(tp, seq, len, m) != 0) {
			rte_pktmbuf_free(m);
			GALE__STAT(s, tcp_nombuf);
			return -ENOBUFS;
		}
		/* The IPv4 header again, now that the frame has its length. */
		gale__ip_fill_hdr(s, m, tp->laddr, tp->faddr, IPPROTO_TCP);
	}
	if (segsz < len) {
		/* Longer than a segment: the device cuts it (gale__tcp_finish sets the rest). */
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = (uint16_t)segsz;
	}
	if (len > 0) {
		if (!zc)
			gale__snd_copy(tp, seq, len, m, payload);
		if (GALE_SEQ_LT(seq, tp->snd_max)) {
			GALE__STAT(s, tcp_rexmt_seg);
			tp->t_rexmits++;
		} else {
			GALE__STAT_ADD(s, tcp_bytes_tx, len);
		}
	} else if ((flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG)) == 0) {
		GALE__STAT(s, tcp_ack_tx);
	}
	if ((flags & RTE_TCP_SYN_FLAG) && (flags & RTE_TCP_ACK_FLAG))
		GALE__STAT(s, tcp_synack_tx);
	if (flags & RTE_TCP_ACK_FLAG) {
		tp->last_ack_sent = tp->rcv_nxt;
		tp->t_flags &= ~(GALE_TF_ACKNOW | GALE_TF_DELACK | GALE_TF_ACKPEND);
		gale_timer_cancel(s->conf.wheel, &tp->t_delack);
	}
	win = (flags & RTE_TCP_SYN_FLAG) ? wfield : (uint32_t)wfield << tp->rcv_scale;
	if (GALE_SEQ_GT(tp->rcv_nxt + win, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + win;
	tp->rcv_wnd_cur = win;
	return gale__tcp_finish(s, m, tp->faddr);
}

void
gale__tcp_ack_now(struct gale_tcp_conn *tp)
{
	tp->t_flags |= GALE_TF_ACKNOW;
	gale__tcp_output(tp);
}

/* After sending seq..seq+len (+ SYN/FIN): advance snd_nxt/snd_max, time it, arm the retransmission
 * timer. */
static void
gale__tcp_sent(struct gale_tcp_conn *tp, uint32_t seq, uint32_t len, bool syn, bool fin)
{
	uint32_t end = seq + len + (syn ? 1 : 0) + (fin ? 1 : 0);

	if (fin)
		tp->t_flags |= GALE_TF_SENTFIN;
	if (GALE_SEQ_GT(end, tp->snd_nxt))
		tp->snd_nxt = end;
	if (GALE_SEQ_GT(end, tp->snd_max)) {
		/* RFC 6298 / Karn: time a segment of new data only. */
		if (!tp->rtt_active && !(syn && (tp->t_flags & GALE_TF_SYN_REXMT))) {
			tp->rtt_active = true;
			tp->rtseq = seq;
			tp->rtt_start_us = gale__now_us(tp->stack);
		}
		tp->snd_max = end;
	}
	if (end != seq && (!gale_timer_pending(&tp->t_rexmt) || (tp->t_flags & GALE_TF_PERSIST)))
		gale__tcp_rexmt_arm(tp);
}

/*
 * The tail loss probe (RFC 8985 7.3; armed by gale__tcp_rexmt_arm): one segment of new data when
 * the peer's window takes it (a probe may pass cwnd by that one segment), else the last segment
 * sent, again. Its ACK SACKs it, and bytes below it still not SACKed were sent a probe timeout
 * (two round trips) earlier, so lost: tcp_input.c enters recovery then. The retransmission timer
 * follows the probe.
 */
void
gale__tcp_tlp_send(struct gale_tcp_conn *tp)
{
	uint32_t seg = gale__tcp_seg_max(tp), off = tp->snd_max - tp->snd_una, len;

	GALE__STAT(tp->stack, tcp_tlp_probe);
	len = tp->snd_cc > off ? GALE__MIN(tp->snd_cc - off, seg) : 0;
	if (len > 0 && tp->snd_nxt == tp->snd_max && off + len <= tp->snd_wnd &&
	    gale__txq_room(tp->stack) > GALE__TXQ_TCP_RESERVE) {
		if (gale__tcp_xmit(tp, tp->snd_max, len,
		                   RTE_TCP_ACK_FLAG |
		                           (off + len == tp->snd_cc ? RTE_TCP_PSH_FLAG : 0)) == 0)
			gale__tcp_sent(tp, tp->snd_max, len, false, false);
	} else if (off > 0) {
		len = GALE__MIN(GALE__MIN(off, seg), tp->snd_cc);
		tp->rtt_active = false; /* Karn */
		(void)gale__tcp_xmit(tp, tp->snd_max - len, len, RTE_TCP_ACK_FLAG);
	}
	tp->t_flags |= GALE_TF_TLP;
	tp->tlp_high = tp->snd_max;
	gale__tcp_rexmt_arm(tp);
}

/* SACK recovery (RFC 6675 5 (C)): retransmit holes while cwnd - pipe holds a segment. Returns
 * segments sent. */
static unsigned int
gale__tcp_sack_output(struct gale_tcp_conn *tp)
{
	uint32_t seq, len, seg, room;
	unsigned int sent = 0;

	while (gale__txq_room(tp->stack) > GALE__TXQ_TCP_RESERVE) {
		if (gale__tcp_sack_pipe(tp) + tp->t_maxseg > tp->snd_cwnd)
			break;
		if (!gale__tcp_sack_next_hole(tp, &seq, &len))
			break;
		/* With TSO a hole goes as one segment, up to what cwnd leaves (whole segments). */
		seg = gale__tcp_seg_max(tp);
		room = tp->snd_cwnd - gale__tcp_sack_pipe(tp);
		len = GALE__MIN(len,
		                GALE__MIN(gale__tcp_tso_max(tp), GALE__MAX(room / seg, 1u) * seg));
		if (seq - tp->snd_una + len > tp->snd_cc)
			len = tp->snd_cc - (seq - tp->snd_una);
		if (len == 0)
			break;
		if (gale__tcp_xmit(tp, seq, len, RTE_TCP_ACK_FLAG) != 0)
			break;
		GALE__STAT(tp->stack, tcp_sack_rexmt);
		tp->rtt_active = false; /* Karn */
		tp->sack_rexmit_nxt = seq + len;
		if (!gale_timer_pending(&tp->t_rexmt))
			gale__tcp_rexmt_arm(tp);
		sent++;
	}
	return sent;
}

int
gale__tcp_output(struct gale_tcp_conn *tp)
{
	struct gale_stack *s = tp->stack;
	uint32_t off, avail, win, len, adv, mss;
	uint8_t flags;
	bool fin, idle, sendit;
	unsigned int n = 0;

	if (tp->state & (GALE_TCPS_CLOSED | GALE_TCPS_LISTEN))
		return 0;
	if (tp->state & (GALE_TCPS_SYN_SENT | GALE_TCPS_SYN_RECEIVED)) {
		if (tp->snd_nxt == tp->iss) {
			flags = RTE_TCP_SYN_FLAG;
			if (tp->state == GALE_TCPS_SYN_RECEIVED)
				flags |= RTE_TCP_ACK_FLAG;
			if (gale__tcp_xmit(tp, tp->iss, 0, flags) == 0)
				gale__tcp_sent(tp, tp->iss, 0, true, false);
		} else if (tp->t_flags & GALE_TF_ACKNOW) {
			gale__tcp_xmit(tp, tp->snd_nxt, 0, RTE_TCP_ACK_FLAG);
		}
		return 0;
	}
	if (tp->state == GALE_TCPS_TIME_WAIT) {
		if (tp->t_flags & GALE_TF_ACKNOW)
			gale__tcp_xmit(tp, tp->snd_max, 0, RTE_TCP_ACK_FLAG);
		return 0;
	}
	if ((tp->t_flags & GALE_TF_SACK_REXMT) && tp->snd_nxt == tp->snd_max)
		n += gale__tcp_sack_output(tp);
	for (;;) {
		if (gale__txq_room(s) <= GALE__TXQ_TCP_RESERVE)
			break;
		idle = tp->snd_max == tp->snd_una;
		off = tp->snd_nxt - tp->snd_una;
		win = GALE__MIN(tp->snd_wnd, tp->snd_cwnd);
		if (tp->t_flags & GALE_TF_SACK_REXMT) {
			/* New data in recovery only while the pipe estimate is under cwnd. */
			uint32_t pipe = gale__tcp_sack_pipe(tp);

			win = pipe >= tp->snd_cwnd
			              ? off
			              : GALE__MIN(tp->snd_wnd, off + (tp->snd_cwnd - pipe));
		}
		avail = tp->snd_cc > off ? tp->snd_cc - off : 0;
		len = win > off ? GALE__MIN(avail, win - off) : 0;
		if ((tp->t_flags & GALE_TF_FORCE) && tp->snd_wnd == 0 && avail > 0 && len == 0)
			len = 1;
		mss = gale__tcp_seg_max(tp);
		len = GALE__MIN(len, gale__tcp_tso_max(tp));
		/* TSO: whole segments, but for the last bytes there are (no runt at a window's
		 * edge). */
		if (len > mss && len < avail)
			len -= len % mss;
		fin = (tp->t_flags & GALE_TF_SHUT_WR) && (tp->state & GALE_TCPS_SENT_FIN) &&
		      off + len == tp->snd_cc && off <= tp->snd_cc && (len > 0 || avail == 0);
		sendit = false;
		if (len > 0) {
			if (len >= mss || (tp->t_flags & GALE_TF_FORCE) ||
			    GALE_SEQ_LT(tp->snd_nxt, tp->snd_max) ||
			    (((tp->t_flags & GALE_TF_NODELAY) || idle) &&
			     off + len == tp->snd_cc) ||
			    (tp->max_sndwnd > 0 && len >= tp->max_sndwnd / 2))
				sendit = true;
		}
		if (fin &&
		    (!(tp->t_flags & GALE_TF_SENTFIN) || GALE_SEQ_LT(tp->snd_nxt, tp->snd_max)))
			sendit = true;
		else
			fin = false;
		if (!sendit && (tp->t_flags & GALE_TF_ACKNOW))
			sendit = true;
		if (!sendit && (tp->state & GALE_TCPS_CAN_RCV_DATA)) {
			/* Window update when it opened by two segments or half the buffer. */
			adv = gale__tcp_rcv_space(tp);
			if (GALE_SEQ_GT(tp->rcv_nxt + adv, tp->rcv_adv) &&
			    (adv - (tp->rcv_adv - tp->rcv_nxt) >= 2u * tp->t_maxseg ||
			     adv - (tp->rcv_adv - tp->rcv_nxt) >= s->conf.rcvbuf / 2))
				sendit = true;
		}
		if (!sendit) {
			if (avail > 0 && tp->snd_wnd == 0 && !gale_timer_pending(&tp->t_rexmt)) {
				tp->rxtshift = 0;
				gale__tcp_setpersist(tp);
			}
			break;
		}
		flags = RTE_TCP_ACK_FLAG;
		if (fin)
			flags |= RTE_TCP_FIN_FLAG;
		if (len > 0 && off + len == tp->snd_cc)
			flags |= RTE_TCP_PSH_FLAG;
		/*
		 * A pure ACK carries snd_max, not snd_nxt (FreeBSD tcp_output does the same): after a
		 * timeout pulled snd_nxt back, an ACK stamped snd_nxt lies below the peer's rcv_nxt, the
		 * peer answers it as an unacceptable segment with an ACK of its own, and two stacks
		 * both in recovery ping-pong ACKs without end.
		 */
		if (gale__tcp_xmit(tp,
		                   len == 0 && !fin && !(tp->t_flags & GALE_TF_FORCE) ? tp->snd_max
		                                                                       : tp->snd_nxt,
		                   len, flags) != 0)
			break;
		n++;
		if (len > 0 || fin) {
			gale__tcp_sent(tp, tp->snd_nxt, len, false, fin);
			/* A zero-window probe must not look like lost data: keep the persist timer.
			 */
			if ((tp->t_flags & GALE_TF_FORCE) && tp->snd_wnd == 0)
				tp->t_flags |= GALE_TF_PERSIST;
		}
		if (tp->t_flags & GALE_TF_FORCE)
			break;
		if (len == 0 && !fin)
			break;
		if (fin)
			break;
	}
	return (int)n;
}
