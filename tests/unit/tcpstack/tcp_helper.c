/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers for tcpstack: see tcp_helper.h.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "gale_test_eal.h"
#include "tcp_helper.h"

struct th_env th;
const struct rte_ether_addr th_peer_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };
const struct rte_ether_addr th_local_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x02 } };

static uint16_t
th_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		if (th.ncap == TH_MAXCAP)
			break;
		if (th.refuse_arp &&
		    rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *)->ether_type ==
		            rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			break;
		th.cap[th.ncap++] = pkts[i];
	}
	return i;
}

int
th_global_setup(void **state)
{
	(void)state;
	if (gale_test_eal_init("0", NULL) < 0)
		return -1;
	th.pool = rte_pktmbuf_pool_create("th_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                                  SOCKET_ID_ANY);
	return th.pool == NULL ? -1 : 0;
}

int
th_global_teardown(void **state)
{
	(void)state;
	rte_mempool_free(th.pool);
	return 0;
}

void
th_conf_default(struct gale_stack_conf *c)
{
	gale_stack_conf_init(c);
	c->ip = TH_LOCAL_IP;
	c->netmask = 0xffffff00u;
	rte_ether_addr_copy(&th_local_mac, &c->mac);
	c->pool = th.pool;
	c->tx_burst = th_tx;
	c->max_conns = 64;
	c->rcvbuf = 65536;
	c->sndbuf = 65536;
	c->isn_secret[0] = 1;
	c->isn_secret[1] = 2;
}

void
th_stack_start(void)
{
	th.now = 1000000;
	th.wheel = gale_timer_wheel_create(th.now);
	assert_non_null(th.wheel);
	th.conf.wheel = th.wheel;
	th.s = gale_stack_create(&th.conf);
	assert_non_null(th.s);
	assert_int_equal(gale_stack_arp_add(th.s, TH_PEER_IP, &th_peer_mac), 0);
}

void
th_stack_stop(void)
{
	th_drain();
	gale_stack_free(th.s);
	th.s = NULL;
	gale_timer_wheel_free(th.wheel);
	th.wheel = NULL;
	/* Nothing leaked: every buffer is back in the pool. */
	assert_int_equal(rte_mempool_in_use_count(th.pool), 0);
}

int
th_setup(void **state)
{
	(void)state;
	memset(&th.ev, 0, sizeof(th.ev));
	th.ncap = th.capr = 0;
	th.accepted = NULL;
	th.auto_consume = false;
	th.auto_echo = false;
	th.refuse_accept = false;
	th.refuse_arp = false;
	th_conf_default(&th.conf);
	th_stack_start();
	return 0;
}

int
th_teardown(void **state)
{
	(void)state;
	th_stack_stop();
	return 0;
}

void
th_seg_init(struct th_seg *sg, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
            uint8_t flags)
{
	memset(sg, 0, sizeof(*sg));
	sg->sport = sport;
	sg->dport = dport;
	sg->seq = seq;
	sg->ack = ack;
	sg->flags = flags;
	sg->win = 65535;
	sg->ws = -1;
}

uint8_t
th_pattern(uint32_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
}

struct rte_mbuf *
th_build(const struct th_seg *sg)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(th.pool);
	uint8_t opts[40], *p;
	unsigned int ol = 0, i;
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *tcp;
	uint32_t v;

	assert_non_null(m);
	if (sg->mss) {
		opts[ol++] = 2;
		opts[ol++] = 4;
		opts[ol++] = (uint8_t)(sg->mss >> 8);
		opts[ol++] = (uint8_t)sg->mss;
	}
	if (sg->ws >= 0) {
		opts[ol++] = 1;
		opts[ol++] = 3;
		opts[ol++] = 3;
		opts[ol++] = (uint8_t)sg->ws;
	}
	if (sg->sackperm) {
		opts[ol++] = 1;
		opts[ol++] = 1;
		opts[ol++] = 4;
		opts[ol++] = 2;
	}
	if (sg->ts) {
		opts[ol++] = 1;
		opts[ol++] = 1;
		opts[ol++] = 8;
		opts[ol++] = 10;
		v = rte_cpu_to_be_32(sg->tsval);
		memcpy(opts + ol, &v, 4);
		ol += 4;
		v = rte_cpu_to_be_32(sg->tsecr);
		memcpy(opts + ol, &v, 4);
		ol += 4;
	}
	if (sg->nsack) {
		opts[ol++] = 1;
		opts[ol++] = 1;
		opts[ol++] = 5;
		opts[ol++] = (uint8_t)(2 + 8 * sg->nsack);
		for (i = 0; i < sg->nsack; i++) {
			v = rte_cpu_to_be_32(sg->sack[i][0]);
			memcpy(opts + ol, &v, 4);
			ol += 4;
			v = rte_cpu_to_be_32(sg->sack[i][1]);
			memcpy(opts + ol, &v, 4);
			ol += 4;
		}
	}
	assert_true(ol <= 40 && ol % 4 == 0);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + 20 + ol + sg->len));
	assert_non_null(p);
	eh = (struct rte_ether_hdr *)p;
	rte_ether_addr_copy(&th_local_mac, &eh->dst_addr);
	rte_ether_addr_copy(&th_peer_mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 20 + ol + sg->len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(sg->src_ip ? sg->src_ip : TH_PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(TH_LOCAL_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp = (struct rte_tcp_hdr *)(ip + 1);
	tcp->src_port = rte_cpu_to_be_16(sg->sport);
	tcp->dst_port = rte_cpu_to_be_16(sg->dport);
	tcp->sent_seq = rte_cpu_to_be_32(sg->seq);
	tcp->recv_ack = rte_cpu_to_be_32(sg->ack);
	tcp->data_off = (uint8_t)(((20 + ol) / 4) << 4);
	tcp->tcp_flags = sg->flags;
	tcp->rx_win = rte_cpu_to_be_16(sg->win);
	tcp->cksum = 0;
	tcp->tcp_urp = 0;
	memcpy(tcp + 1, opts, ol);
	if (sg->len)
		memcpy((uint8_t *)(tcp + 1) + ol, sg->data, sg->len);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	if (sg->bad_cksum)
		tcp->cksum ^= 0x5555;
	return m;
}

void
th_input_mbuf(struct rte_mbuf *m)
{
	gale_stack_input(th.s, &m, 1);
}

void
th_input(const struct th_seg *sg)
{
	th_input_mbuf(th_build(sg));
}

static void
th_parse_tcp_opts(struct th_out *o, const uint8_t *p, unsigned int len)
{
	unsigned int i = 0, k;
	uint32_t v;

	while (i < len) {
		if (p[i] == 0)
			break;
		if (p[i] == 1) {
			i++;
			continue;
		}
		assert_true(i + 1 < len && p[i + 1] >= 2 && i + p[i + 1] <= len);
		switch (p[i]) {
		case 2:
			o->mss = (uint16_t)((p[i + 2] << 8) | p[i + 3]);
			break;
		case 3:
			o->ws = p[i + 2];
			break;
		case 4:
			o->sackperm = true;
			break;
		case 5:
			o->nsack = (p[i + 1] - 2u) / 8u;
			for (k = 0; k < o->nsack && k < 4; k++) {
				memcpy(&v, p + i + 2 + 8 * k, 4);
				o->sack[k][0] = rte_be_to_cpu_32(v);
				memcpy(&v, p + i + 6 + 8 * k, 4);
				o->sack[k][1] = rte_be_to_cpu_32(v);
			}
			break;
		case 8:
			o->ts = true;
			memcpy(&v, p + i + 2, 4);
			o->tsval = rte_be_to_cpu_32(v);
			memcpy(&v, p + i + 6, 4);
			o->tsecr = rte_be_to_cpu_32(v);
			break;
		default:
			break;
		}
		i += p[i + 1];
	}
}

/* One's-complement sum of pseudo header and segment: 0xffff when the checksum is right. */
static uint16_t
th_l4_sum(const struct rte_ipv4_hdr *ip, const void *l4, uint32_t len)
{
	uint32_t sum = (uint32_t)rte_raw_cksum(l4, len) + rte_ipv4_phdr_cksum(ip, 0);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The next frame the stack sent (after flushing it), or NULL when none is left (the capture resets). */
static struct rte_mbuf *
th__next_sent(void)
{
	if (th.s != NULL)
		gale_stack_flush(th.s);
	if (th.capr == th.ncap) {
		th.capr = th.ncap = 0;
		return NULL;
	}
	return th.cap[th.capr++];
}

bool
th_pop(struct th_out *o)
{
	struct rte_mbuf *m;
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *tcp;
	const struct rte_arp_hdr *ah;
	unsigned int thl;

	m = th__next_sent();
	if (m == NULL)
		return false;
	memset(o, 0, sizeof(*o));
	o->ws = -1;
	o->frame_len = rte_pktmbuf_pkt_len(m);
	assert_int_equal(m->nb_segs, 1);
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	rte_ether_addr_copy(&eh->dst_addr, &o->eth_dst);
	assert_true(rte_is_same_ether_addr(&eh->src_addr, &th_local_mac));
	if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		ah = (const struct rte_arp_hdr *)(eh + 1);
		o->arp = true;
		o->arp_op = rte_be_to_cpu_16(ah->arp_opcode);
		o->arp_tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
		o->arp_sip = rte_be_to_cpu_32(ah->arp_data.arp_sip);
		rte_pktmbuf_free(m);
		return true;
	}
	assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_IPV4);
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), m->pkt_len - 14);
	o->src = rte_be_to_cpu_32(ip->src_addr);
	o->dst = rte_be_to_cpu_32(ip->dst_addr);
	if (ip->next_proto_id == IPPROTO_ICMP) {
		const struct rte_icmp_hdr *ic = (const struct rte_icmp_hdr *)(ip + 1);

		o->icmp = true;
		o->icmp_type = ic->icmp_type;
		o->icmp_code = ic->icmp_code;
		assert_int_equal(rte_raw_cksum(ic, m->pkt_len - 34), 0xffff);
		o->len = m->pkt_len - 34 - 8;
		memcpy(o->data, ic + 1, o->len);
		rte_pktmbuf_free(m);
		return true;
	}
	assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
	tcp = (const struct rte_tcp_hdr *)(ip + 1);
	assert_int_equal(th_l4_sum(ip, tcp, rte_be_to_cpu_16(ip->total_length) - 20u), 0xffff);
	o->tcp = true;
	o->sport = rte_be_to_cpu_16(tcp->src_port);
	o->dport = rte_be_to_cpu_16(tcp->dst_port);
	o->seq = rte_be_to_cpu_32(tcp->sent_seq);
	o->ack = rte_be_to_cpu_32(tcp->recv_ack);
	o->flags = tcp->tcp_flags;
	o->win = rte_be_to_cpu_16(tcp->rx_win);
	thl = (tcp->data_off >> 4) * 4u;
	th_parse_tcp_opts(o, (const uint8_t *)(tcp + 1), thl - 20);
	o->len = rte_be_to_cpu_16(ip->total_length) - 20 - thl;
	assert_true(o->len <= sizeof(o->data));
	memcpy(o->data, (const uint8_t *)tcp + thl, o->len);
	rte_pktmbuf_free(m);
	return true;
}

void
th_pop_tcp(struct th_out *o)
{
	assert_true(th_pop(o));
	assert_true(o->tcp);
}

const struct rte_ipv4_hdr *
th_pop_chain(struct rte_mbuf **mp, uint8_t *buf, size_t cap)
{
	const struct rte_ipv4_hdr *ip;
	const char *reason = NULL;
	struct rte_mbuf *m;
	const uint8_t *p;

	m = th__next_sent();
	if (m == NULL)
		return NULL;
	assert_true(rte_pktmbuf_pkt_len(m) <= cap);
	assert_int_equal(rte_mbuf_check(m, 1, &reason), 0);
	p = rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m), buf);
	assert_non_null(p);
	ip = (const struct rte_ipv4_hdr *)(p + sizeof(struct rte_ether_hdr));
	assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length),
	                 rte_pktmbuf_pkt_len(m) - sizeof(struct rte_ether_hdr));
	*mp = m;
	return ip;
}

unsigned int
th_pending(void)
{
	if (th.s != NULL)
		gale_stack_flush(th.s);
	return th.ncap - th.capr;
}

void
th_drain(void)
{
	struct th_out o;

	while (th_pop(&o))
		;
}

void
th_advance(uint64_t us)
{
	th.now += us;
	gale_timer_wheel_advance(th.wheel, th.now);
}

static void
th_on_connected(struct gale_tcp_conn *c, void *arg)
{
	(void)arg;
	th.ev.conn = c;
	th.ev.connected++;
}

static void
th_on_readable(struct gale_tcp_conn *c, void *arg)
{
	uint32_t len;

	(void)arg;
	th.ev.readable++;
	if (th.auto_echo && gale_tcp_recv_peek(c, &len) != NULL) {
		assert_int_equal(gale_tcp_send(c, th_payload(len, 0)), 0);
		gale_tcp_consume(c, len);
	}
	if (th.auto_consume && gale_tcp_recv_peek(c, &len) != NULL)
		gale_tcp_consume(c, len);
}

static void
th_on_writable(struct gale_tcp_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	th.ev.writable++;
}

static void
th_on_error(struct gale_tcp_conn *c, void *arg, int err)
{
	(void)c;
	(void)arg;
	th.ev.error = err;
}

static void
th_on_closed(struct gale_tcp_conn *c, void *arg)
{
	(void)arg;
	th.ev.closed++;
	if (th.accepted == c)
		th.accepted = NULL;
	if (th.ev.conn == c)
		th.ev.conn = NULL;
}

const struct gale_tcp_callbacks th_cbs = {
	.connected = th_on_connected,
	.readable = th_on_readable,
	.writable = th_on_writable,
	.error = th_on_error,
	.closed = th_on_closed,
};

static int
th_accept(void *arg, struct gale_tcp_conn *c)
{
	(void)arg;
	if (th.refuse_accept)
		return -ECONNREFUSED;
	th.accepted = c;
	gale_tcp_set_callbacks(c, &th_cbs, NULL);
	return 0;
}

void
th_listen(uint16_t port)
{
	assert_int_equal(gale_tcp_listen(th.s, port, 0, th_accept, NULL), 0);
}

struct gale_tcp_conn *
th_passive_open(uint16_t lport, uint16_t pport, uint32_t peer_isn, bool opts, struct th_out *synack)
{
	struct th_seg sg;
	struct th_out o;

	if (gale_tcp_unlisten(th.s, lport) == 0) {
		/* re-listen below */
	}
	th_listen(lport);
	th_seg_init(&sg, pport, lport, peer_isn, 0, TH_F_SYN);
	if (opts) {
		sg.mss = 1460;
		sg.ws = 7;
		sg.sackperm = true;
		sg.ts = true;
		sg.tsval = 1000;
	}
	th_input(&sg);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_SYN | TH_F_ACK);
	assert_int_equal(o.ack, peer_isn + 1);
	if (synack != NULL)
		*synack = o;
	th_seg_init(&sg, pport, lport, peer_isn + 1, o.seq + 1, TH_F_ACK);
	if (opts) {
		sg.ts = true;
		sg.tsval = 1001;
		sg.tsecr = o.tsval;
	}
	th_input(&sg);
	assert_non_null(th.accepted);
	assert_int_equal(th_state(th.accepted), GALE_TCPS_ESTABLISHED);
	return th.accepted;
}

struct gale_tcp_conn *
th_active_open(uint16_t pport, uint32_t peer_isn, bool opts, struct th_out *syn)
{
	struct gale_tcp_conn *c = NULL;
	struct th_seg sg;
	struct th_out o;

	assert_int_equal(gale_tcp_connect(th.s, TH_PEER_IP, pport, &th_cbs, NULL, &c), 0);
	assert_non_null(c);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_SYN);
	if (syn != NULL)
		*syn = o;
	th_seg_init(&sg, pport, o.sport, peer_isn, o.seq + 1, TH_F_SYN | TH_F_ACK);
	if (opts) {
		sg.mss = 1460;
		sg.ws = 7;
		sg.sackperm = true;
		sg.ts = true;
		sg.tsval = 5000;
		sg.tsecr = o.tsval;
	}
	th_input(&sg);
	assert_int_equal(th.ev.connected, 1);
	th_pop_tcp(&o);
	assert_int_equal(o.flags, TH_F_ACK);
	assert_int_equal(o.ack, peer_isn + 1);
	assert_int_equal(th_state(c), GALE_TCPS_ESTABLISHED);
	return c;
}

struct rte_mbuf *
th_payload(uint32_t len, uint32_t off)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t n, i;
	uint8_t *p;

	while (len > 0) {
		m = rte_pktmbuf_alloc(th.pool);
		assert_non_null(m);
		n = len < 1000 ? len : 1000;
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (i = 0; i < n; i++)
			p[i] = th_pattern(off + i);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
		off += n;
		len -= n;
	}
	return head;
}

uint32_t
th_state(const struct gale_tcp_conn *c)
{
	struct gale_tcp_info info;

	gale_tcp_get_info(c, &info);
	return info.state;
}
