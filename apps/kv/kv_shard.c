/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-kv's shard (kv_shard.h): a linear-probing table over items in a size-class allocator.
 *
 * Table: capacity the power of two >= 2 * max_keys, so the load stays <= 1/2 and probes stay
 * short; each slot keeps the key's hash beside the item pointer so most mismatches cost no item
 * read. Deletion shifts the following cluster back (no tombstones), so a table that sees many
 * puts and deletes never degrades.
 *
 * Memory: one block of mem_bytes, cut on demand (a bump pointer) into blocks of power-of-two
 * sizes from 32 bytes up to the largest item; a freed block goes on its size class's free list
 * and serves the next item of that class. Rounding wastes < 1/2 of an item; a block never moves
 * to another class, so a workload that shifts from small to large values can run out of memory
 * with free small blocks left: the shard then refuses puts (-ENOSPC) rather than grow. This is
 * the price of never calling malloc after start-up and of a hard memory bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "kv_shard.h"

#define KV_MIN_SHIFT 5 /* smallest block: 32 bytes */
#define KV_CLASSES   27

/* An item: header, key, value. When free, the first word links the class's free list. */
struct kv_item {
	uint32_t klen;
	uint32_t vlen;
	uint32_t hash;
	uint8_t cls;
	uint8_t pad[3];
	uint8_t data[]; /**< key then value */
};

struct kv_free {
	struct kv_free *next;
};

/* What an empty key or value (a NULL view of length 0) points to, so memcmp/memcpy get a valid
 * pointer. */
static const uint8_t kv_empty[1];
#define KV_PTR(p) ((p) != NULL ? (p) : kv_empty)

struct kv_slot {
	uint32_t hash;
	struct kv_item *item; /**< NULL = empty */
};

struct kv_shard {
	struct kv_shard_conf conf;
	struct kv_slot *slots;
	uint32_t mask;
	uint32_t nkeys;
	uint64_t bytes;
	uint8_t *mem; /**< the item block */
	size_t used;  /**< bump offset into mem */
	struct kv_free *free[KV_CLASSES];
	const struct kv_item **heap; /**< scan scratch: max_scan entries */
};

/* CRC32-C (SSE4.2 where built for it), then mixed, over 8-byte words read with memcpy: keys are views into
 * receive buffers at any alignment, and rte_hash_crc's own loads assume 4-byte alignment. */
uint32_t
kv_hash(const uint8_t *key, uint32_t len)
{
	uint32_t crc = 0x9e3779b9u, i = 0;
	uint64_t w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, key + i, 8);
		crc = rte_hash_crc_8byte(w, crc);
	}
	for (; i < len; i++)
		crc = rte_hash_crc_1byte(key[i], crc);
	/* CRC is linear: keys that differ in a few bits (k01, k02, ...) would fall on shards in a
	 * pattern that follows their order. MurmurHash3's finaliser mixes every bit into the top
	 * ones, which pick the shard. */
	crc ^= crc >> 16;
	crc *= 0x85ebca6bu;
	crc ^= crc >> 13;
	crc *= 0xc2b2ae35u;
	crc ^= crc >> 16;
	return crc;
}

int
kv_key_cmp(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	int c = memcmp(KV_PTR(a), KV_PTR(b), alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

struct kv_shard *
kv_shard_create(const struct kv_shard_conf *conf)
{
	struct kv_shard *s;
	uint64_t cap = 1;

	if (conf->max_keys == 0 || conf->max_key == 0 || conf->max_scan == 0 ||
	    conf->mem_bytes < 4096 ||
	    (uint64_t)conf->max_key + conf->max_value + sizeof(struct kv_item) >
	            ((uint64_t)1 << (KV_MIN_SHIFT + KV_CLASSES - 1))) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < 2 * (uint64_t)conf->max_keys)
		cap <<= 1;
	if (cap > ((uint64_t)1 << 31)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->conf = *conf;
	s->mask = (uint32_t)(cap - 1);
	s->slots = calloc(cap, sizeof(*s->slots));
	s->mem = malloc(conf->mem_bytes);
	s->heap = calloc(conf->max_scan, sizeof(*s->heap));
	if (s->slots == NULL || s->mem == NULL || s->heap == NULL) {
		kv_shard_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void
kv_shard_free(struct kv_shard *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s->mem);
	free(s->heap);
	free(s);
}

/* Size class of an item of `size` bytes. */
static unsigned int
kv_class(size_t size)
{
	unsigned int c = 0;

	while (((size_t)1 << (KV_MIN_SHIFT + c)) < size)
		c++;
	return c;
}

static struct kv_item *
kv_alloc(struct kv_shard *s, size_t size)
{
	unsigned int c = kv_class(size);
	size_t bsize = (size_t)1 << (KV_MIN_SHIFT + c);
	struct kv_item *it;

	if (s->free[c] != NULL) {
		it = (struct kv_item *)(void *)s->free[c];
		s->free[c] = s->free[c]->next;
	} else {
		if (s->conf.mem_bytes - s->used < bsize)
			return NULL;
		it = (struct kv_item *)(void *)(s->mem + s->used);
		s->used += bsize;
	}
	it->cls = (uint8_t)c;
	return it;
}

static void
kv_release(struct kv_shard *s, struct kv_item *it)
{
	struct kv_free *f = (struct kv_free *)(void *)it;
	unsigned int c = it->cls;

	f->next = s->free[c];
	s->free[c] = f;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t
kv_find(const struct kv_shard *s, const uint8_t *key, uint32_t klen, uint32_t hash)
{
	uint32_t i = hash & s->mask;
	const struct kv_slot *sl;

	for (;; i = (i + 1) & s->mask) {
		sl = &s->slots[i];
		if (sl->item == NULL)
			return i;
		if (sl->hash == hash && sl->item->klen == klen &&
		    memcmp(sl->item->data, key, klen) == 0)
			return i;
	}
}

int
kv_shard_get(const struct kv_shard *s, const uint8_t *key, uint32_t klen, const uint8_t **val,
             uint32_t *vlen)
{
	uint32_t i = kv_find(s, KV_PTR(key), klen, kv_hash(key, klen));
	const struct kv_item *it = s->slots[i].item;

	if (it == NULL)
		return -ENOENT;
	*val = it->data + it->klen;
	*vlen = it->vlen;
	return 0;
}

int
kv_shard_put(struct kv_shard *s, const uint8_t *key, uint32_t klen, const uint8_t *val,
             uint32_t vlen)
{
	uint32_t hash, i;
	struct kv_item *old, *it;
	size_t size;

	if (klen > s->conf.max_key || vlen > s->conf.max_value)
		return -E2BIG;
	key = KV_PTR(key);
	val = KV_PTR(val);
	hash = kv_hash(key, klen);
	i = kv_find(s, key, klen, hash);
	old = s->slots[i].item;
	if (old == NULL && s->nkeys >= s->conf.max_keys)
		return -ENOSPC;
	size = sizeof(*it) + klen + vlen;
	if (old != NULL && kv_class(size) == old->cls) {
		/* Same block size: overwrite the value in place. */
		s->bytes -= old->vlen;
		memcpy(old->data + klen, val, vlen);
		old->vlen = vlen;
		s->bytes += vlen;
		return 0;
	}
	it = kv_alloc(s, size);
	if (it == NULL)
		return -ENOSPC;
	it->klen = klen;
	it->vlen = vlen;
	it->hash = hash;
	memcpy(it->data, key, klen);
	memcpy(it->data + klen, val, vlen);
	s->slots[i].hash = hash;
	s->slots[i].item = it;
	if (old != NULL) {
		s->bytes -= (uint64_t)old->klen + old->vlen;
		kv_release(s, old);
	} else {
		s->nkeys++;
	}
	s->bytes += (uint64_t)klen + vlen;
	return 0;
}

int
kv_shard_delete(struct kv_shard *s, const uint8_t *key, uint32_t klen)
{
	uint32_t i = kv_find(s, KV_PTR(key), klen, kv_hash(key, klen)), j, home;
	struct kv_item *it = s->slots[i].item;

	if (it == NULL)
		return 0;
	s->nkeys--;
	s->bytes -= (uint64_t)it->klen + it->vlen;
	kv_release(s, it);
	/* Backward-shift deletion: move each later member of the cluster whose home slot is not
	 * between the hole and it (cyclically) into the hole. */
	for (j = i;;) {
		j = (j + 1) & s->mask;
		if (s->slots[j].item == NULL)
			break;
		home = s->slots[j].hash & s->mask;
		if (((j - home) & s->mask) >= ((j - i) & s->mask)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i].item = NULL;
	return 1;
}

static inline int
kv_item_cmp(const struct kv_item *a, const struct kv_item *b)
{
	return kv_key_cmp(a->data, a->klen, b->data, b->klen);
}

/* Max-heap of items by key: restore the heap below index i. */
static void
kv_heap_down(const struct kv_item **h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const struct kv_item *t;

		if (l < n && kv_item_cmp(h[l], h[m]) > 0)
			m = l;
		if (r < n && kv_item_cmp(h[r], h[m]) > 0)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

size_t
kv_shard_scan(struct kv_shard *s, const uint8_t *start, uint32_t slen, uint32_t limit, uint8_t *out,
              size_t cap, uint32_t *n, bool *more)
{
	const struct kv_item **h = s->heap;
	uint32_t hn = 0, i, k;
	uint64_t seen = 0;
	size_t off = 0;

	if (limit > s->conf.max_scan)
		limit = s->conf.max_scan;
	*n = 0;
	*more = false;
	/* Keep the `limit` smallest keys >= start: the heap's top is the largest kept. */
	for (i = 0; i <= s->mask && limit != 0; i++) {
		const struct kv_item *it = s->slots[i].item;

		if (it == NULL || kv_key_cmp(it->data, it->klen, start, slen) < 0)
			continue;
		seen++;
		if (hn < limit) {
			uint32_t c = hn++;

			h[c] = it;
			while (c > 0 && kv_item_cmp(h[(c - 1) / 2], h[c]) < 0) {
				const struct kv_item *t = h[(c - 1) / 2];

				h[(c - 1) / 2] = h[c];
				h[c] = t;
				c = (c - 1) / 2;
			}
		} else if (kv_item_cmp(it, h[0]) < 0) {
			h[0] = it;
			kv_heap_down(h, hn, 0);
		}
	}
	if (limit == 0) {
		for (i = 0; i <= s->mask && !*more; i++) {
			const struct kv_item *it = s->slots[i].item;

			*more = it != NULL && kv_key_cmp(it->data, it->klen, start, slen) >= 0;
		}
		return 0;
	}
	*more = seen > hn;
	/* Heap sort in place: ascending. */
	for (k = hn; k > 1; k--) {
		const struct kv_item *t = h[0];

		h[0] = h[k - 1];
		h[k - 1] = t;
		kv_heap_down(h, k - 1, 0);
	}
	/* start is not read from here on: out may overlap it. */
	for (k = 0; k < hn; k++) {
		const struct kv_item *it = h[k];
		size_t rec = KV_REC_HDR + it->klen + it->vlen;

		if (cap - off < rec) {
			*more = true;
			break;
		}
		memcpy(out + off, &it->klen, 4);
		memcpy(out + off + 4, &it->vlen, 4);
		memcpy(out + off + KV_REC_HDR, it->data, (size_t)it->klen + it->vlen);
		off += rec;
		(*n)++;
	}
	return off;
}

uint32_t
kv_shard_keys(const struct kv_shard *s)
{
	return s->nkeys;
}

uint64_t
kv_shard_bytes(const struct kv_shard *s)
{
	return s->bytes;
}
