/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The impairment layer (see gale/impair.h for the model).
 *
 * State is one cache-aligned record per (queue, direction) with its own generator (splitmix64:
 * tiny, fast, passes BigCrush, and trivially seeded) and its own binary min-heap of held packets
 * keyed by (release TSC, arrival sequence): the sequence keeps equal release times in arrival
 * order, so a constant delay never reorders. A reordered packet sits in the same heap with a
 * deadline of reorder_us; when a later packet of the same queue and direction passes, every
 * reordered packet's deadline is lowered to 0 (sift-up), so it is the first thing released by the
 * next burst call: the later packet went first. Seven random numbers are drawn for every packet
 * whatever the configuration, which is what makes a seed reproduce a run decision for decision.
 *
 * Memory: the heaps are carved from the same rte_zmalloc block as the state; duplicates and
 * corrupted copies come from the port's pool (rte_pktmbuf_copy, so a clone held for retransmission
 * is never altered). When a copy cannot be made the packet is dropped and counted in hold_full.
 * Nothing here allocates from the heap or locks.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "gale/impair.h"
#include "gale/offload.h"

#define GALE_IMPAIR_BURST 32
#define GALE_IMPAIR_DRAWS 7

/* Checksums in software, chains allowed: what a tx packet to be corrupted is finished with. */
static const struct gale_offloads gale__sw_offloads = { .multi_seg = true };

struct gale__held {
	uint64_t tsc; /**< release time; 0 = as soon as possible. */
	uint64_t seq; /**< arrival order, tie-breaker. */
	struct rte_mbuf *m;
	bool reorder; /**< waiting behind the next packet. */
};

struct gale__impair_q {
	uint64_t rng;
	uint64_t seq;
	uint64_t stuck_tsc;   /**< tx: when the device first refused the hold's head; 0 = not. */
	uint32_t stuck_tries; /**< tx: flushes since then that sent nothing. */
	unsigned int n_held;
	unsigned int n_reorder;
	struct gale__held *heap;
	struct gale_impair_stats st;
} __rte_cache_aligned;

struct gale_impair {
	struct gale_impair_dir_conf dir[2];
	double delay_p[2]; /**< effective delay probability per direction. */
	uint64_t cycles_per_us;
	uint16_t nb_queues;
	uint16_t depth;
	struct rte_mempool *pool;
	struct gale__impair_q q[]; /**< [queue * 2 + dir] */
};

/* ---- configuration ---- */

bool
gale_impair_dir_active(const struct gale_impair_dir_conf *d)
{
	return d->drop > 0 || d->dup > 0 || d->reorder > 0 || d->corrupt > 0 || d->delay > 0 ||
	       d->delay_us > 0 || d->jitter_us > 0;
}

static int
gale__parse_prob(const char *v, double *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v)
		return -EINVAL;
	if (*end == '%') {
		x /= 100.0;
		end++;
	}
	if (*end != '\0' || !(x >= 0.0 && x <= 1.0))
		return -EINVAL;
	*out = x;
	return 0;
}

static int
gale__parse_us(const char *v, uint32_t *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || x < 0 || x > 60e6)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		x *= 1000.0;
	else if (*end != '\0' && strcmp(end, "us") != 0)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

int
gale_impair_parse(const char *spec, struct gale_impair_dir_conf *dir, uint64_t *seed)
{
	char buf[512], *save = NULL, *tok, *eq;
	int ret = 0;

	if (spec == NULL || dir == NULL || strlen(spec) >= sizeof(buf))
		return -EINVAL;
	memset(dir, 0, sizeof(*dir));
	if (spec[0] == '\0' || strcmp(spec, "off") == 0)
		return 0;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL && ret == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		if (eq == NULL) {
			fprintf(stderr, "impair: '%s' is not key=value\n", tok);
			return -EINVAL;
		}
		*eq++ = '\0';
		if (strcmp(tok, "drop") == 0)
			ret = gale__parse_prob(eq, &dir->drop);
		else if (strcmp(tok, "dup") == 0)
			ret = gale__parse_prob(eq, &dir->dup);
		else if (strcmp(tok, "reorder") == 0)
			ret = gale__parse_prob(eq, &dir->reorder);
		else if (strcmp(tok, "corrupt") == 0)
			ret = gale__parse_prob(eq, &dir->corrupt);
		else if (strcmp(tok, "delay_p") == 0)
			ret = gale__parse_prob(eq, &dir->delay);
		else if (strcmp(tok, "delay") == 0)
			ret = gale__parse_us(eq, &dir->delay_us);
		else if (strcmp(tok, "jitter") == 0)
			ret = gale__parse_us(eq, &dir->jitter_us);
		else if (strcmp(tok, "reorder_us") == 0)
			ret = gale__parse_us(eq, &dir->reorder_us);
		else if (strcmp(tok, "dist") == 0) {
			if (strcmp(eq, "uniform") == 0)
				dir->dist = GALE_IMPAIR_DIST_UNIFORM;
			else if (strcmp(eq, "normal") == 0)
				dir->dist = GALE_IMPAIR_DIST_NORMAL;
			else if (strcmp(eq, "exp") == 0)
				dir->dist = GALE_IMPAIR_DIST_EXP;
			else
				ret = -EINVAL;
		} else if (strcmp(tok, "seed") == 0) {
			char *end;
			unsigned long long s = strtoull(eq, &end, 0);

			if (end == eq || *end != '\0')
				ret = -EINVAL;
			else if (seed != NULL)
				*seed = s;
		} else {
			fprintf(stderr, "impair: unknown key '%s'\n", tok);
			return -EINVAL;
		}
		if (ret != 0)
			fprintf(stderr, "impair: bad value '%s' for '%s'\n", eq, tok);
	}
	return ret;
}

static uint64_t
gale__splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline double
gale__unit(uint64_t x)
{
	return (double)(x >> 11) * 0x1.0p-53;
}

struct gale_impair *
gale_impair_create(const struct gale_impair_conf *conf, uint16_t nb_queues,
                   struct rte_mempool *pool, int socket)
{
	struct gale_impair *imp;
	unsigned int depth, i, d;
	size_t size;
	struct gale__held *heaps;

	if (conf == NULL || nb_queues == 0 || pool == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (d = 0; d < 2; d++) {
		const struct gale_impair_dir_conf *c = d == 0 ? &conf->rx : &conf->tx;
		const double p[] = { c->drop, c->dup, c->reorder, c->corrupt, c->delay };

		for (i = 0; i < RTE_DIM(p); i++)
			if (!(p[i] >= 0.0 && p[i] <= 1.0)) {
				rte_errno = EINVAL;
				return NULL;
			}
		if (c->dist > GALE_IMPAIR_DIST_EXP) {
			rte_errno = EINVAL;
			return NULL;
		}
	}
	depth = conf->hold_depth != 0 ? conf->hold_depth : 512;
	size = sizeof(*imp) + 2u * nb_queues * sizeof(imp->q[0]) +
	       2u * nb_queues * (size_t)depth * sizeof(struct gale__held);
	imp = rte_zmalloc_socket("gale_impair", size, RTE_CACHE_LINE_SIZE, socket);
	if (imp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	imp->dir[GALE_IMPAIR_RX] = conf->rx;
	imp->dir[GALE_IMPAIR_TX] = conf->tx;
	for (d = 0; d < 2; d++) {
		struct gale_impair_dir_conf *c = &imp->dir[d];

		imp->delay_p[d] = c->delay > 0                            ? c->delay
		                  : (c->delay_us > 0 || c->jitter_us > 0) ? 1.0
		                                                          : 0.0;
		if (c->reorder_us == 0)
			c->reorder_us = 1000;
	}
	imp->cycles_per_us = rte_get_tsc_hz() / 1000000u;
	if (imp->cycles_per_us == 0)
		imp->cycles_per_us = 1;
	imp->nb_queues = nb_queues;
	imp->depth = (uint16_t)RTE_MIN(depth, (unsigned int)UINT16_MAX);
	imp->pool = pool;
	heaps = (struct gale__held *)&imp->q[2u * nb_queues];
	for (i = 0; i < 2u * nb_queues; i++) {
		uint64_t s = conf->seed ^ (0x5851f42d4c957f2dull * (i + 1));

		imp->q[i].rng = gale__splitmix(&s);
		imp->q[i].heap = heaps + (size_t)i * depth;
	}
	return imp;
}

void
gale_impair_free(struct gale_impair *imp)
{
	unsigned int i, k;

	if (imp == NULL)
		return;
	for (i = 0; i < 2u * imp->nb_queues; i++)
		for (k = 0; k < imp->q[i].n_held; k++)
			rte_pktmbuf_free(imp->q[i].heap[k].m);
	rte_free(imp);
}

/* ---- the hold heap ---- */

static inline bool
gale__before(const struct gale__held *a, const struct gale__held *b)
{
	return a->tsc < b->tsc || (a->tsc == b->tsc && a->seq < b->seq);
}

static void
gale__sift_up(struct gale__held *h, unsigned int i)
{
	while (i > 0) {
		unsigned int parent = (i - 1) / 2;
		struct gale__held t;

		if (!gale__before(&h[i], &h[parent]))
			break;
		t = h[i];
		h[i] = h[parent];
		h[parent] = t;
		i = parent;
	}
}

static void
gale__sift_down(struct gale__held *h, unsigned int n, unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;
		struct gale__held t;

		if (l < n && gale__before(&h[l], &h[m]))
			m = l;
		if (r < n && gale__before(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Hold m until tsc, in arrival order seq among equal times. Consumes m (frees and counts it when
 * the heap is full). */
static void
gale__hold_seq(struct gale_impair *imp, struct gale__impair_q *q, struct rte_mbuf *m, uint64_t tsc,
               bool reorder, uint64_t seq)
{
	struct gale__held *e;

	if (q->n_held >= imp->depth) {
		q->st.hold_full++;
		rte_pktmbuf_free(m);
		return;
	}
	e = &q->heap[q->n_held];
	e->tsc = tsc;
	e->seq = seq;
	e->m = m;
	e->reorder = reorder;
	if (reorder)
		q->n_reorder++;
	gale__sift_up(q->heap, q->n_held++);
}

/* Hold m until tsc behind everything held so far. Consumes m. */
static void
gale__hold(struct gale_impair *imp, struct gale__impair_q *q, struct rte_mbuf *m, uint64_t tsc,
           bool reorder)
{
	gale__hold_seq(imp, q, m, tsc, reorder, q->seq++);
}

/* Pop up to max held packets due at now into out (their arrival order into seqs unless NULL). */
static unsigned int
gale__release(struct gale__impair_q *q, uint64_t now, struct rte_mbuf **out, uint64_t *seqs,
              unsigned int max)
{
	unsigned int k = 0;

	while (k < max && q->n_held > 0 && q->heap[0].tsc <= now) {
		if (q->heap[0].reorder)
			q->n_reorder--;
		if (seqs != NULL)
			seqs[k] = q->heap[0].seq;
		out[k++] = q->heap[0].m;
		q->heap[0] = q->heap[--q->n_held];
		gale__sift_down(q->heap, q->n_held, 0);
	}
	q->st.released += k;
	return k;
}

/* A packet passed: every reordered packet is now due (it has been overtaken). */
static void
gale__overtaken(struct gale__impair_q *q)
{
	unsigned int i;

	for (i = 0; i < q->n_held && q->n_reorder > 0; i++) {
		if (q->heap[i].reorder && q->heap[i].tsc != 0) {
			q->heap[i].tsc = 0;
			gale__sift_up(q->heap, i);
		}
	}
}

/* ---- per-packet decisions ---- */

static uint64_t
gale__delay_cycles(const struct gale_impair *imp, const struct gale_impair_dir_conf *c, uint64_t r1,
                   uint64_t r2)
{
	double us = c->delay_us, j = c->jitter_us, u1 = gale__unit(r1), u2 = gale__unit(r2);

	if (j > 0) {
		switch (c->dist) {
		case GALE_IMPAIR_DIST_UNIFORM:
			us += (2.0 * u1 - 1.0) * j;
			break;
		case GALE_IMPAIR_DIST_NORMAL:
			us += j * sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
			break;
		case GALE_IMPAIR_DIST_EXP:
			us += -j * log(1.0 - u1);
			break;
		}
	}
	if (us < 0)
		us = 0;
	return (uint64_t)(us * (double)imp->cycles_per_us);
}

/* Flip one byte of m at offset (r mod length). */
static void
gale__corrupt(struct rte_mbuf *m, uint64_t r)
{
	uint32_t off;

	if (rte_pktmbuf_pkt_len(m) == 0)
		return;
	off = (uint32_t)(r % rte_pktmbuf_pkt_len(m));
	while (m != NULL && off >= rte_pktmbuf_data_len(m)) {
		off -= rte_pktmbuf_data_len(m);
		m = m->next;
	}
	if (m != NULL)
		*rte_pktmbuf_mtod_offset(m, uint8_t *, off) ^=
		        (uint8_t)(1u << ((r >> 32) & 7)) | 0x01;
}

/*
 * Apply one direction's impairments to in[0..n) (consumed): what goes on now is written to out (at
 * most max; the excess is held as due at once). Returns the count written.
 */
static unsigned int
gale__apply(struct gale_impair *imp, enum gale_impair_dir dir, struct gale__impair_q *q,
            uint64_t now, struct rte_mbuf **in, unsigned int n, struct rte_mbuf **out,
            unsigned int max)
{
	const struct gale_impair_dir_conf *c = &imp->dir[dir];
	const double delay_p = imp->delay_p[dir];
	unsigned int i, k = 0, copies, j;
	bool passed = false;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = in[i], *pk[2];
		uint64_t r[GALE_IMPAIR_DRAWS];

		for (j = 0; j < GALE_IMPAIR_DRAWS; j++)
			r[j] = gale__splitmix(&q->rng);
		q->st.packets++;
		if (gale__unit(r[0]) < c->drop) {
			q->st.dropped++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (gale__unit(r[1]) < c->corrupt) {
			struct rte_mbuf *cp = rte_pktmbuf_copy(m, imp->pool, 0, UINT32_MAX);

			rte_pktmbuf_free(m);
			if (cp == NULL) {
				q->st.hold_full++;
				continue;
			}
			/* Corruption must be detectable, as on a wire: on tx, finish the checksums
			 * the packet asks the device for first (else the device would checksum the
			 * corrupted bytes); on rx, forget the device's verdict so the stack
			 * verifies the corrupted bytes itself. */
			if (dir == GALE_IMPAIR_TX)
				(void)gale_offload_tx_prepare(&gale__sw_offloads, cp);
			else
				cp->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK |
				                  RTE_MBUF_F_RX_L4_CKSUM_MASK);
			gale__corrupt(cp, r[6]);
			q->st.corrupted++;
			m = cp;
		}
		pk[0] = m;
		copies = 1;
		if (gale__unit(r[2]) < c->dup) {
			pk[1] = rte_pktmbuf_copy(m, imp->pool, 0, UINT32_MAX);
			if (pk[1] != NULL) {
				q->st.duplicated++;
				copies = 2;
			} else {
				q->st.hold_full++;
			}
		}
		if (gale__unit(r[3]) < c->reorder) {
			q->st.reordered++;
			for (j = 0; j < copies; j++)
				gale__hold(imp, q, pk[j],
				           now + (uint64_t)c->reorder_us * imp->cycles_per_us,
				           true);
			continue;
		}
		if (delay_p > 0 && gale__unit(r[4]) < delay_p) {
			const uint64_t t = now + gale__delay_cycles(imp, c, r[5], r[6]);

			q->st.delayed++;
			for (j = 0; j < copies; j++)
				gale__hold(imp, q, pk[j], t, false);
			continue;
		}
		passed = true;
		for (j = 0; j < copies; j++) {
			if (k < max)
				out[k++] = pk[j];
			else
				gale__hold(imp, q, pk[j], 0, false);
		}
	}
	if (passed && q->n_reorder > 0)
		gale__overtaken(q);
	return k;
}

/* ---- bursts ---- */

/*
 * Send what is due. A batch the device refuses goes back with its arrival order, so its first frame
 * stays first; a head frame refused on GALE_IMPAIR_STUCK_TRIES flushes over GALE_IMPAIR_STUCK_US
 * (a frame the device will never take: too long for it, say) is dropped and counted in `refused`,
 * so it cannot hold back everything behind it for good.
 */
static unsigned int
gale__tx_flush(struct gale_impair *imp, uint16_t port_id, uint16_t queue, uint64_t now)
{
	struct gale__impair_q *q = &imp->q[queue * 2u + GALE_IMPAIR_TX];
	struct rte_mbuf *out[GALE_IMPAIR_BURST];
	uint64_t seqs[GALE_IMPAIR_BURST];
	unsigned int n, sent, total = 0;
	bool again;

	while (q->n_held > 0 && q->heap[0].tsc <= now) {
		n = gale__release(q, now, out, seqs, GALE_IMPAIR_BURST);
		sent = rte_eth_tx_burst(port_id, queue, out, (uint16_t)n);
		q->st.passed += sent;
		total += sent;
		if (sent == n) {
			q->stuck_tsc = 0;
			continue;
		}
		again = false;
		if (sent > 0) {
			q->stuck_tsc = 0;
		} else if (q->stuck_tsc == 0) {
			q->stuck_tsc = now;
			q->stuck_tries = 0;
		} else if (++q->stuck_tries >= GALE_IMPAIR_STUCK_TRIES &&
		           now - q->stuck_tsc >= GALE_IMPAIR_STUCK_US * imp->cycles_per_us) {
			q->st.refused++;
			rte_pktmbuf_free(out[0]);
			q->stuck_tsc = 0;
			sent = 1;
			again = true;
		}
		/* The device is full (or refused the head): keep the rest, first in line. */
		q->st.released -= n - sent;
		for (; sent < n; sent++)
			gale__hold_seq(imp, q, out[sent], 0, false, seqs[sent]);
		if (!again)
			break;
	}
	return total;
}

uint16_t
gale_impair_rx_burst(struct gale_impair *imp, uint16_t port_id, uint16_t queue,
                     struct rte_mbuf **pkts, uint16_t n)
{
	struct gale__impair_q *q = &imp->q[queue * 2u + GALE_IMPAIR_RX];
	struct rte_mbuf *in[GALE_IMPAIR_BURST];
	const uint64_t now = rte_rdtsc();
	unsigned int k, got;

	if (imp->q[queue * 2u + GALE_IMPAIR_TX].n_held > 0)
		gale__tx_flush(imp, port_id, queue, now);
	k = gale__release(q, now, pkts, NULL, n);
	if (k < n) {
		got = rte_eth_rx_burst(port_id, queue, in,
		                       (uint16_t)RTE_MIN(n - k, (unsigned int)GALE_IMPAIR_BURST));
		k += gale__apply(imp, GALE_IMPAIR_RX, q, now, in, got, &pkts[k], n - k);
	}
	q->st.passed += k;
	return (uint16_t)k;
}

uint16_t
gale_impair_tx_burst(struct gale_impair *imp, uint16_t port_id, uint16_t queue,
                     struct rte_mbuf **pkts, uint16_t n)
{
	struct gale__impair_q *q = &imp->q[queue * 2u + GALE_IMPAIR_TX];
	struct rte_mbuf *out[2 * GALE_IMPAIR_BURST];
	const uint64_t now = rte_rdtsc();
	unsigned int done, chunk, k, sent;
	bool blocked;

	gale__tx_flush(imp, port_id, queue, now);
	for (done = 0; done < n; done += chunk) {
		chunk = RTE_MIN((unsigned int)n - done, (unsigned int)GALE_IMPAIR_BURST);
		/* Packets due but still held after the flush mean the device is full: hold these
		 * behind them. */
		blocked = q->n_held > 0 && q->heap[0].tsc <= now;
		k = gale__apply(imp, GALE_IMPAIR_TX, q, now, &pkts[done], chunk, out, RTE_DIM(out));
		sent = blocked ? 0 : rte_eth_tx_burst(port_id, queue, out, (uint16_t)k);
		q->st.passed += sent;
		for (; sent < k; sent++)
			gale__hold(imp, q, out[sent], 0, false);
	}
	return n;
}

unsigned int
gale_impair_held(const struct gale_impair *imp, uint16_t queue)
{
	if (imp == NULL || queue >= imp->nb_queues)
		return 0;
	return imp->q[queue * 2u].n_held + imp->q[queue * 2u + 1].n_held;
}

int
gale_impair_stats_get(const struct gale_impair *imp, enum gale_impair_dir dir, uint16_t queue,
                      struct gale_impair_stats *stats)
{
	unsigned int i;

	if (imp == NULL || stats == NULL || (dir != GALE_IMPAIR_RX && dir != GALE_IMPAIR_TX) ||
	    (queue != UINT16_MAX && queue >= imp->nb_queues))
		return -EINVAL;
	if (queue != UINT16_MAX) {
		*stats = imp->q[queue * 2u + dir].st;
		return 0;
	}
	memset(stats, 0, sizeof(*stats));
	for (i = 0; i < imp->nb_queues; i++) {
		const struct gale_impair_stats *s = &imp->q[i * 2u + dir].st;

		stats->packets += s->packets;
		stats->dropped += s->dropped;
		stats->duplicated += s->duplicated;
		stats->corrupted += s->corrupted;
		stats->reordered += s->reordered;
		stats->delayed += s->delayed;
		stats->hold_full += s->hold_full;
		stats->released += s->released;
		stats->passed += s->passed;
		stats->refused += s->refused;
	}
	return 0;
}
