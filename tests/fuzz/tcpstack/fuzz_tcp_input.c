/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: arbitrary frames into a stack with live connections.
 *
 * Each input builds a fresh stack (fixed secret, fixed clock) with a listener on port 80, one
 * connection accepted from the peer and one opened towards it, both ESTABLISHED, then runs the
 * input as a program of records [op, len_lo, len_hi, bytes...]: op % 5 == 0  the bytes are a raw
 * Ethernet frame (anything at all); op % 5 == 1  a TCP segment to one of the connections: header
 * fields come from the bytes, sequence and acknowledgement numbers are relative to the connection's
 * rcv_nxt / snd_una, TCP options and payload are raw bytes, and both checksums are made right so
 * the state machine is reached; op % 5 == 2  advance the clock (timers: retransmission, persist,
 * delayed ACK, keepalive, TIME_WAIT); op % 5 == 3  an application call (send, consume, shutdown,
 * close, abort, connect); op % 5 == 4  the same as 1 but to the listener (SYNs, cookie ACKs). At
 * the end the stack is freed and every packet buffer must be back in the pool: a leak aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include <gale/tcp.h>
#include <gale/tcpstack.h>
#include <gale/timer.h>

#include "gale_test_eal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PEER_IP  0xc6120001u
#define LOCAL_IP 0xc6120002u

static const struct rte_ether_addr peer_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr local_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x02 } };

static struct rte_mempool *pool;
static struct gale_tcp_conn *conns[2];
static uint32_t last_seq, last_ack;
static uint16_t last_sport;

static uint16_t
fz_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint16_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		if (rte_pktmbuf_data_len(pkts[i]) >= 54) {
			ip = rte_pktmbuf_mtod_offset(pkts[i], const struct rte_ipv4_hdr *, 14);
			if (ip->next_proto_id == IPPROTO_TCP) {
				th = (const struct rte_tcp_hdr *)(ip + 1);
				last_seq = rte_be_to_cpu_32(th->sent_seq);
				last_ack = rte_be_to_cpu_32(th->recv_ack);
				last_sport = rte_be_to_cpu_16(th->src_port);
			}
		}
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

static void
fz_closed(struct gale_tcp_conn *c, void *arg)
{
	(void)arg;
	for (int i = 0; i < 2; i++)
		if (conns[i] == c)
			conns[i] = NULL;
}

static void
fz_readable(struct gale_tcp_conn *c, void *arg)
{
	uint32_t len;

	(void)arg;
	/* Consume half of what is there, leaving the rest for the window logic. */
	if (gale_tcp_recv_peek(c, &len) != NULL && len > 1)
		gale_tcp_consume(c, len / 2);
}

static const struct gale_tcp_callbacks fz_cbs = {
	.readable = fz_readable,
	.closed = fz_closed,
};

static int
fz_accept(void *arg, struct gale_tcp_conn *c)
{
	(void)arg;
	gale_tcp_set_callbacks(c, &fz_cbs, NULL);
	if (conns[0] == NULL)
		conns[0] = c;
	return 0;
}

/* A TCP segment from the peer (checksums right). */
static void
fz_segment(struct gale_stack *s, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
           uint8_t flags, uint16_t win, const uint8_t *opts, unsigned int olen,
           const uint8_t *payload, unsigned int plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;

	if (m == NULL)
		return;
	olen &= ~3u;
	if (olen > 40)
		olen = 40;
	if (plen > 1400)
		plen = 1400;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(54 + olen + plen));
	rte_ether_addr_copy(&local_mac, &eh->dst_addr);
	rte_ether_addr_copy(&peer_mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(40 + olen + plen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(LOCAL_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((20 + olen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (olen)
		memcpy(th + 1, opts, olen);
	if (plen)
		memcpy((uint8_t *)(th + 1) + olen, payload, plen);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	gale_stack_input(s, &m, 1);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gale_stack_conf conf;
	struct gale_timer_wheel *wheel;
	struct gale_tcp_info info;
	struct gale_stack *s;
	uint64_t now = 1000000;
	size_t pos = 0;
	unsigned int len;
	uint8_t op;
	struct gale_tcp_conn *c;

	if (pool == NULL) {
		if (gale_test_eal_init("0", NULL) < 0)
			abort();
		pool = rte_pktmbuf_pool_create("fz_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		                               SOCKET_ID_ANY);
		if (pool == NULL)
			abort();
	}
	wheel = gale_timer_wheel_create(now);
	gale_stack_conf_init(&conf);
	conf.ip = LOCAL_IP;
	conf.mac = local_mac;
	conf.pool = pool;
	conf.wheel = wheel;
	conf.tx_burst = fz_tx;
	conf.max_conns = 16;
	conf.syn_backlog = 2;
	conf.rcvbuf = 8192;
	conf.sndbuf = 8192;
	conf.reass_max_segs = 8;
	conf.delack_us = 100;
	conf.keepalive_idle_us = 50000;
	conf.keepalive_intvl_us = 10000;
	conf.isn_secret[0] = 7;
	conf.isn_secret[1] = 9;
	s = gale_stack_create(&conf);
	if (s == NULL)
		abort();
	gale_stack_arp_add(s, PEER_IP, &peer_mac);
	gale_tcp_listen(s, 80, 0, fz_accept, NULL);
	conns[0] = conns[1] = NULL;
	/* Connection 0: accepted from peer port 1000 (window scaling, SACK, timestamps offered). */
	{
		static const uint8_t synopts[] = { 2, 4,  5, 0xb4, 1, 3, 3, 7, 4, 2,
			                           8, 10, 0, 0,    0, 1, 0, 0, 0, 0 };

		fz_segment(s, 1000, 80, 5000, 0, RTE_TCP_SYN_FLAG, 65535, synopts, 20, NULL, 0);
		gale_stack_flush(s);
		fz_segment(s, 1000, 80, 5001, last_seq + 1, RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL,
		           0);
	}
	/* Connection 1: opened by us to peer port 2000. */
	if (gale_tcp_connect(s, PEER_IP, 2000, &fz_cbs, NULL, &conns[1]) == 0) {
		gale_stack_flush(s);
		fz_segment(s, 2000, last_sport, 9000, last_seq + 1,
		           RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, NULL, 0, NULL, 0);
	}
	gale_stack_flush(s);

	while (pos + 3 <= size) {
		op = data[pos];
		len = data[pos + 1] | (unsigned int)data[pos + 2] << 8;
		pos += 3;
		if (len > size - pos)
			len = (unsigned int)(size - pos);
		const uint8_t *p = data + pos;
		pos += len;
		switch (op % 5) {
		case 0: {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

			if (m == NULL)
				break;
			if (len > 1514)
				len = 1514;
			if (len > 0)
				memcpy(rte_pktmbuf_append(m, (uint16_t)len), p, len);
			gale_stack_input(s, &m, 1);
			break;
		}
		case 1:
		case 4: {
			/* bytes: [which/flags][dseq x4][dack x4][win x2][olen][opts...][payload...]
			 */
			uint32_t seq, ack;
			uint16_t sport, dport;
			unsigned int olen;

			if (len < 12)
				break;
			c = conns[p[0] & 1];
			if (op % 5 == 1 && c != NULL) {
				gale_tcp_get_info(c, &info);
				seq = info.rcv_nxt + (uint32_t)(int32_t)(int16_t)rd32(p + 1);
				ack = info.snd_una + (uint32_t)(int32_t)(int16_t)rd32(p + 5);
				sport = info.rport;
				dport = info.lport;
			} else {
				seq = rd32(p + 1);
				ack = (p[0] & 0x80) ? last_seq + 1 : rd32(p + 5);
				sport = (uint16_t)(1000 + (p[1] & 7));
				dport = 80;
			}
			olen = p[11] % 44;
			if (olen > len - 12)
				olen = len - 12;
			fz_segment(s, sport, dport, seq, ack, (uint8_t)(p[9] & 0x3f),
			           (uint16_t)(p[10] << 8 | p[9]), p + 12, olen, p + 12 + olen,
			           len - 12 - olen);
			break;
		}
		case 2:
			now += (uint64_t)len * 997 + (len > 0 ? p[0] * 100000ull : 0);
			gale_timer_wheel_advance(wheel, now);
			break;
		default:
			if (len < 2)
				break;
			c = conns[p[0] & 1];
			switch (p[1] % 7) {
			case 0:
				if (c != NULL) {
					struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

					if (m != NULL) {
						rte_pktmbuf_append(m,
						                   (uint16_t)(len * 11 % 1800 + 1));
						if (gale_tcp_send(c, m) != 0)
							rte_pktmbuf_free(m);
					}
				}
				break;
			case 1:
				if (c != NULL) {
					uint32_t n;

					if (gale_tcp_recv_peek(c, &n) != NULL)
						gale_tcp_consume(c, n);
				}
				break;
			case 2:
				if (c != NULL)
					gale_tcp_shutdown(c);
				break;
			case 3:
				if (c != NULL)
					gale_tcp_close(c);
				conns[p[0] & 1] = NULL;
				break;
			case 4:
				if (c != NULL)
					gale_tcp_abort(c);
				conns[p[0] & 1] = NULL;
				break;
			case 5:
				if (conns[1] == NULL)
					gale_tcp_connect(s, PEER_IP, (uint16_t)(2000 + p[0]),
					                 &fz_cbs, NULL, &conns[1]);
				break;
			default:
				if (c != NULL)
					gale_tcp_set_nodelay(c, p[0] & 2);
				break;
			}
			break;
		}
		gale_stack_flush(s);
	}
	gale_stack_free(s);
	gale_timer_wheel_free(wheel);
	conns[0] = conns[1] = NULL;
	if (rte_mempool_in_use_count(pool) != 0) {
		fprintf(stderr, "fuzz_tcp_input: %u packet buffers leaked\n",
		        rte_mempool_in_use_count(pool));
		abort();
	}
	return 0;
}
