/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow steering (see gale/steer.h): the software Toeplitz hash, the RETA model, the source-port
 * picker and the per-(from, to) forwarding rings.
 *
 * The hash. Toeplitz is linear over GF(2): the hash of an input is the XOR, over its set bits, of
 * the 32-bit window of the key starting at that bit. Grouping bits by input byte gives a table
 * T[byte position][byte value] (12 x 256 words for an IPv4 4-tuple, 12 KiB, built once from the
 * key), so hashing a packet is 12 loads and XORs instead of rte_softrss's loop over every set bit.
 * The unit test checks the table against rte_softrss for random tuples and for every picked source
 * port.
 *
 * The rings. ring[from * W + to] is single-producer (worker `from`) single-consumer (worker `to`):
 * the producer's release store of the tail publishes the mbuf pointers that the consumer's acquire
 * load reads (rte_ring's own pairing, lib/ring/rte_ring_c11_pvt.h). A full ring is a counted drop;
 * the forwarding worker never waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "gale/steer.h"

#define GALE_STEER_TUPLE_BYTES 12 /* IPv4 src, dst, sport, dport */
#define GALE_STEER_BURST       32

const uint8_t gale_steer_rss_key[GALE_STEER_KEY_LEN] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/* Per-worker state, written only by its worker. */
struct gale__steer_worker {
	struct gale_steer_stats stats;
	uint16_t rr; /**< next inbound ring to drain first. */
} __rte_cache_aligned;

struct gale_steer {
	uint32_t table[GALE_STEER_TUPLE_BYTES]
	              [256];                /**< Toeplitz contribution of each byte value. */
	uint16_t reta[GALE_STEER_RETA_MAX]; /**< worker of each RETA entry. */
	uint16_t reta_mask;                 /**< reta_size - 1. */
	uint16_t nb_workers;
	bool rss;
	uint8_t key[GALE_STEER_KEY_LEN];
	struct gale__steer_worker workers[GALE_STEER_MAX_WORKERS];
	struct rte_ring
	        *ring[]; /**< nb_workers * nb_workers; [from * W + to], NULL on the diagonal. */
};

static unsigned int gale__steer_seq;

const char *
gale_steer_mode_name(enum gale_steer_mode mode)
{
	switch (mode) {
	case GALE_STEER_AUTO:
		return "auto";
	case GALE_STEER_RSS:
		return "rss";
	case GALE_STEER_SW:
		return "sw";
	}
	return "?";
}

int
gale_steer_mode_parse(const char *s, enum gale_steer_mode *mode)
{
	if (s == NULL || mode == NULL)
		return -EINVAL;
	if (strcmp(s, "auto") == 0)
		*mode = GALE_STEER_AUTO;
	else if (strcmp(s, "rss") == 0)
		*mode = GALE_STEER_RSS;
	else if (strcmp(s, "sw") == 0)
		*mode = GALE_STEER_SW;
	else
		return -EINVAL;
	return 0;
}

/* The 32 key bits starting at bit `bit` (bit 0 = most significant bit of key[0]). */
static uint32_t
gale__key_window(const uint8_t *key, unsigned int bit)
{
	uint64_t w = 0;
	unsigned int i, byte = bit / 8;

	for (i = 0; i < 8; i++)
		w = (w << 8) | (byte + i < GALE_STEER_KEY_LEN ? key[byte + i] : 0);
	return (uint32_t)((w << (bit % 8)) >> 32);
}

static void
gale__build_table(struct gale_steer *s)
{
	unsigned int pos, v, b;

	for (pos = 0; pos < GALE_STEER_TUPLE_BYTES; pos++) {
		uint32_t bitw[8];

		for (b = 0; b < 8; b++)
			bitw[b] = gale__key_window(s->key,
			                           pos * 8 + b); /* b = 0: the byte's top bit */
		for (v = 0; v < 256; v++) {
			uint32_t h = 0;

			for (b = 0; b < 8; b++)
				if (v & (0x80u >> b))
					h ^= bitw[b];
			s->table[pos][v] = h;
		}
	}
}

struct gale_steer *
gale_steer_create(const struct gale_steer_conf *conf)
{
	struct gale_steer *s;
	unsigned int reta_size, ring_size, w, from, to, seq;
	char name[RTE_RING_NAMESIZE];
	size_t size;

	if (conf == NULL || conf->nb_workers == 0 || conf->nb_workers > GALE_STEER_MAX_WORKERS) {
		rte_errno = EINVAL;
		return NULL;
	}
	w = conf->nb_workers;
	reta_size = conf->reta_size != 0 ? conf->reta_size : 128;
	ring_size = conf->ring_size != 0 ? conf->ring_size : 1024;
	if (reta_size > GALE_STEER_RETA_MAX || !rte_is_power_of_2(reta_size) ||
	    !rte_is_power_of_2(ring_size)) {
		rte_errno = EINVAL;
		return NULL;
	}
	size = sizeof(*s) + (size_t)w * w * sizeof(s->ring[0]);
	s = rte_zmalloc_socket("gale_steer", size, RTE_CACHE_LINE_SIZE, conf->socket);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	s->nb_workers = (uint16_t)w;
	s->reta_mask = (uint16_t)(reta_size - 1);
	s->rss = conf->rss;
	memcpy(s->key, conf->key != NULL ? conf->key : gale_steer_rss_key, GALE_STEER_KEY_LEN);
	for (to = 0; to < reta_size; to++) {
		s->reta[to] = conf->reta != NULL ? conf->reta[to] : (uint16_t)(to % w);
		if (s->reta[to] >= w) {
			rte_free(s);
			rte_errno = EINVAL;
			return NULL;
		}
	}
	gale__build_table(s);
	if (w == 1)
		return s;
	seq = __atomic_fetch_add(&gale__steer_seq, 1, __ATOMIC_RELAXED);
	for (from = 0; from < w; from++) {
		for (to = 0; to < w; to++) {
			if (from == to)
				continue;
			if (conf->name != NULL)
				snprintf(name, sizeof(name), "%.16s_%u_%u", conf->name, from, to);
			else
				snprintf(name, sizeof(name), "gsteer%u_%u_%u", seq, from, to);
			s->ring[from * w + to] = rte_ring_create(name, ring_size, conf->socket,
			                                         RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (s->ring[from * w + to] == NULL) {
				int err = rte_errno;

				gale_steer_free(s);
				rte_errno = err;
				return NULL;
			}
		}
	}
	return s;
}

void
gale_steer_free(struct gale_steer *steer)
{
	struct rte_mbuf *pkts[GALE_STEER_BURST];
	unsigned int i, n;

	if (steer == NULL)
		return;
	for (i = 0; i < (unsigned int)steer->nb_workers * steer->nb_workers; i++) {
		if (steer->ring[i] == NULL)
			continue;
		while ((n = rte_ring_dequeue_burst(steer->ring[i], (void **)pkts, GALE_STEER_BURST,
		                                   NULL)) != 0)
			rte_pktmbuf_free_bulk(pkts, n);
		rte_ring_free(steer->ring[i]);
	}
	rte_free(steer);
}

bool
gale_steer_is_rss(const struct gale_steer *steer)
{
	return steer->rss;
}

static inline uint32_t
gale__hash_be(const struct gale_steer *s, const uint8_t *src4, const uint8_t *dst4,
              const uint8_t *ports4)
{
	return s->table[0][src4[0]] ^ s->table[1][src4[1]] ^ s->table[2][src4[2]] ^
	       s->table[3][src4[3]] ^ s->table[4][dst4[0]] ^ s->table[5][dst4[1]] ^
	       s->table[6][dst4[2]] ^ s->table[7][dst4[3]] ^ s->table[8][ports4[0]] ^
	       s->table[9][ports4[1]] ^ s->table[10][ports4[2]] ^ s->table[11][ports4[3]];
}

uint32_t
gale_steer_hash_v4(const struct gale_steer *steer, uint32_t src_addr, uint32_t dst_addr,
                   uint16_t src_port, uint16_t dst_port)
{
	const uint32_t src = rte_cpu_to_be_32(src_addr), dst = rte_cpu_to_be_32(dst_addr);
	const uint32_t ports = rte_cpu_to_be_32(((uint32_t)src_port << 16) | dst_port);

	return gale__hash_be(steer, (const uint8_t *)&src, (const uint8_t *)&dst,
	                     (const uint8_t *)&ports);
}

uint16_t
gale_steer_owner_hash(const struct gale_steer *steer, uint32_t hash)
{
	return steer->reta[hash & steer->reta_mask];
}

uint16_t
gale_steer_owner_mbuf(const struct gale_steer *steer, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	const struct rte_ipv4_hdr *ip;
	const uint8_t *l4;
	unsigned int ihl;

	if (steer->rss && (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0)
		return steer->reta[m->hash.rss & steer->reta_mask];
	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*ip) + 4)
		return GALE_STEER_NONE;
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return GALE_STEER_NONE;
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP)
		return GALE_STEER_NONE;
	/* A fragment (MF set or a nonzero offset) has no ports to hash: the receiving worker keeps
	 * it. */
	if ((ip->fragment_offset &
	     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return GALE_STEER_NONE;
	ihl = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4u;
	if (ihl < sizeof(*ip) || rte_pktmbuf_data_len(m) < sizeof(*eth) + ihl + 4)
		return GALE_STEER_NONE;
	l4 = (const uint8_t *)ip + ihl;
	return steer->reta[gale__hash_be(steer, (const uint8_t *)&ip->src_addr,
	                                 (const uint8_t *)&ip->dst_addr, l4) &
	                   steer->reta_mask];
}

int
gale_steer_pick_sport(const struct gale_steer *steer, uint16_t worker, uint32_t local_addr,
                      uint32_t remote_addr, uint16_t remote_port, uint16_t lo, uint16_t hi,
                      uint16_t start, uint16_t *port)
{
	uint32_t base, span, i, p;

	if (steer == NULL || port == NULL || worker >= steer->nb_workers || lo > hi)
		return -EINVAL;
	if (start < lo || start > hi)
		start = lo;
	/* The reply as it arrives: remote -> local, sport = remote_port, dport = ours. The hash
	 * with dport 0, then each candidate's two dport bytes XORed in (linearity). */
	base = gale_steer_hash_v4(steer, remote_addr, local_addr, remote_port, 0);
	span = (uint32_t)hi - lo + 1;
	for (i = 0, p = start; i < span; i++, p = p == hi ? lo : p + 1) {
		const uint32_t h = base ^ steer->table[10][p >> 8] ^ steer->table[11][p & 0xff];

		if (steer->reta[h & steer->reta_mask] == worker) {
			*port = (uint16_t)p;
			return 0;
		}
	}
	return -ENOENT;
}

static void
gale__forward(struct gale_steer *s, uint16_t worker, struct rte_mbuf **pkts, const uint16_t *owner,
              uint16_t n, uint64_t dests)
{
	struct gale__steer_worker *me = &s->workers[worker];
	struct rte_mbuf *out[GALE_STEER_BURST];
	unsigned int sent, k;
	uint16_t i;

	while (dests != 0) {
		const unsigned int to = (unsigned int)__builtin_ctzll(dests);

		dests &= dests - 1;
		for (i = 0, k = 0; i < n; i++)
			if (owner[i] == to)
				out[k++] = pkts[i];
		sent = rte_ring_enqueue_burst(s->ring[worker * s->nb_workers + to], (void **)out, k,
		                              NULL);
		me->stats.forwarded += sent;
		if (sent < k) {
			me->stats.fwd_dropped += k - sent;
			rte_pktmbuf_free_bulk(&out[sent], k - sent);
		}
	}
}

uint16_t
gale_steer_rx_burst(struct gale_steer *steer, uint16_t worker, struct rte_mbuf **pkts, uint16_t n)
{
	struct gale__steer_worker *me = &steer->workers[worker];
	struct rte_mbuf *fwd[GALE_STEER_BURST];
	uint16_t owner[GALE_STEER_BURST];
	uint16_t kept = 0, nf, i, base;
	uint64_t dests;

	if (steer->rss || steer->nb_workers == 1) {
		me->stats.owned += n; /* the NIC steered them (or there is no one else) */
		return n;
	}
	for (base = 0; base < n; base += GALE_STEER_BURST) {
		const uint16_t chunk = RTE_MIN((uint16_t)(n - base), (uint16_t)GALE_STEER_BURST);

		nf = 0;
		dests = 0;
		for (i = 0; i < chunk; i++) {
			struct rte_mbuf *m = pkts[base + i];
			const uint16_t o = gale_steer_owner_mbuf(steer, m);

			if (o == worker || o == GALE_STEER_NONE) {
				if (o == worker)
					me->stats.owned++;
				else
					me->stats.local++;
				pkts[kept++] = m;
			} else {
				owner[nf] = o;
				fwd[nf++] = m;
				dests |= 1ull << o;
			}
		}
		if (nf != 0)
			gale__forward(steer, worker, fwd, owner, nf, dests);
	}
	return kept;
}

uint16_t
gale_steer_forward(struct gale_steer *steer, uint16_t from, uint16_t to, struct rte_mbuf **pkts,
                   uint16_t n)
{
	struct gale__steer_worker *me = &steer->workers[from];
	unsigned int sent = 0;

	if (from != to && to < steer->nb_workers)
		sent = rte_ring_enqueue_burst(steer->ring[from * steer->nb_workers + to],
		                              (void **)pkts, n, NULL);
	me->stats.forwarded += sent;
	if (sent < n) {
		me->stats.fwd_dropped += n - sent;
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	return (uint16_t)sent;
}

unsigned int
gale_steer_broadcast(struct gale_steer *steer, uint16_t from, struct rte_mbuf *m)
{
	struct gale__steer_worker *me = &steer->workers[from];
	unsigned int to, sent = 0;
	struct rte_mbuf *seg;

	if (steer->nb_workers < 2)
		return 0;
	/* Take every reference before the first enqueue (a consumer may free its copy at once), on
	 * every segment: rte_pktmbuf_free drops one reference per segment. */
	for (seg = m; seg != NULL; seg = seg->next)
		rte_mbuf_refcnt_update(seg, (int16_t)(steer->nb_workers - 1));
	for (to = 0; to < steer->nb_workers; to++) {
		if (to == from)
			continue;
		if (rte_ring_enqueue(steer->ring[from * steer->nb_workers + to], m) == 0) {
			sent++;
		} else {
			me->stats.fwd_dropped++;
			rte_pktmbuf_free(m); /* drops the reference meant for `to` */
		}
	}
	me->stats.forwarded += sent;
	return sent;
}

uint16_t
gale_steer_drain(struct gale_steer *steer, uint16_t worker, struct rte_mbuf **pkts, uint16_t max)
{
	struct gale__steer_worker *me = &steer->workers[worker];
	const uint16_t w = steer->nb_workers;
	uint16_t got = 0, i, from;

	if (w == 1)
		return 0;
	for (i = 0; i < w && got < max; i++) {
		from = (uint16_t)((me->rr + i) % w);
		if (from == worker)
			continue;
		got += (uint16_t)rte_ring_dequeue_burst(steer->ring[from * w + worker],
		                                        (void **)&pkts[got], max - got, NULL);
	}
	me->rr = (uint16_t)((me->rr + 1) % w);
	me->stats.drained += got;
	return got;
}

unsigned int
gale_steer_room(const struct gale_steer *steer, uint16_t worker)
{
	unsigned int to, room = UINT16_MAX, f;

	if (steer->rss || steer->nb_workers == 1 || worker >= steer->nb_workers)
		return UINT16_MAX;
	for (to = 0; to < steer->nb_workers; to++) {
		if (to == worker)
			continue;
		f = rte_ring_free_count(steer->ring[worker * steer->nb_workers + to]);
		if (f < room)
			room = f;
	}
	return room;
}

unsigned int
gale_steer_pending(const struct gale_steer *steer, uint16_t worker)
{
	unsigned int from, n = 0;

	if (worker >= steer->nb_workers)
		return 0;
	for (from = 0; from < steer->nb_workers; from++)
		if (from != worker)
			n += rte_ring_count(steer->ring[from * steer->nb_workers + worker]);
	return n;
}

int
gale_steer_stats_get(const struct gale_steer *steer, uint16_t worker,
                     struct gale_steer_stats *stats)
{
	if (steer == NULL || stats == NULL || worker >= steer->nb_workers)
		return -EINVAL;
	*stats = steer->workers[worker].stats;
	return 0;
}
