/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One shard of gale-kv: the keys one worker owns, touched by that worker only.
 *
 * A hash table (open addressing, linear probing, at most half full) of pointers to items; each
 * item holds its key and value, copied in on put, in memory from the shard's own size-class
 * allocator over one block reserved at creation (--shard-mem), so puts and deletes never call
 * malloc and a shard can never take more than its budget. Limits (keys, key size, value size,
 * memory) are checked before anything changes; a refused put leaves the shard as it was.
 *
 * Why not rte_hash: its keys have one fixed length, so variable-length binary keys would have to
 * be padded to --max-key in every slot and compared at that length; and it is built for many
 * readers across cores, which a shard owned by one worker does not need.
 *
 * Scan order is by sorting at scan time, not by an ordered index: a scan visits every item once
 * and keeps the `limit` smallest keys >= start in a bounded max-heap (O(n log limit), limit <=
 * --max-scan), so puts and deletes, the frequent operations, pay nothing for ordering. The cost of
 * a scan is bounded by --max-keys per shard. A shard with an ordered index (a skip list or B-tree
 * beside the table) would win when scans dominate; gale-kv is not built for that.
 */
#ifndef GALE_KV_SHARD_H
#define GALE_KV_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_shard;

/** Shard limits (all > 0). */
struct kv_shard_conf {
	uint32_t max_keys;  /**< keys at most. */
	uint32_t max_key;   /**< key bytes at most. */
	uint32_t max_value; /**< value bytes at most. */
	uint32_t max_scan;  /**< scan limit at most. */
	size_t mem_bytes;   /**< item memory (keys, values, headers, size-class rounding). */
};

/** Create a shard (malloc'd: call it on the owning worker's lcore). NULL with errno set. */
struct kv_shard *kv_shard_create(const struct kv_shard_conf *conf);

/** Free the shard. NULL is fine. */
void kv_shard_free(struct kv_shard *s);

/** The shard's hash of a key; the owner of a key among n shards is kv_owner(hash, n). */
uint32_t kv_hash(const uint8_t *key, uint32_t len);

/** The shard (0 .. n-1) that owns keys of this hash. */
static inline unsigned int
kv_owner(uint32_t hash, unsigned int n)
{
	/* High bits pick the shard, low bits the table slot: the two choices stay independent. */
	return (unsigned int)(((uint64_t)hash * n) >> 32);
}

/** Look key up: 0 with *val and *vlen borrowed (valid until the next put or delete), or -ENOENT. */
int kv_shard_get(const struct kv_shard *s, const uint8_t *key, uint32_t klen, const uint8_t **val,
                 uint32_t *vlen);

/** Insert or replace (both copied). 0, -E2BIG (key or value too large), -ENOSPC (full). */
int kv_shard_put(struct kv_shard *s, const uint8_t *key, uint32_t klen, const uint8_t *val,
                 uint32_t vlen);

/** Remove key. 1 when it was there, 0 when it was not. */
int kv_shard_delete(struct kv_shard *s, const uint8_t *key, uint32_t klen);

/**
 * Write up to `limit` pairs with key >= start, in key order, into out (cap bytes) as records
 * [u32 klen][u32 vlen][key][value]; stop early when the next record would not fit. Sets *n to the
 * records written and *more to whether the shard holds keys >= start beyond them. Returns bytes
 * written. start may point into out: it is read before anything is written.
 */
size_t kv_shard_scan(struct kv_shard *s, const uint8_t *start, uint32_t slen, uint32_t limit,
                     uint8_t *out, size_t cap, uint32_t *n, bool *more);

/** Keys in the shard. */
uint32_t kv_shard_keys(const struct kv_shard *s);

/** Key and value bytes in the shard. */
uint64_t kv_shard_bytes(const struct kv_shard *s);

/** Order of two keys as unsigned bytes, a prefix first: <0, 0, >0. */
int kv_key_cmp(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen);

/** Size of one scan record header ([u32 klen][u32 vlen]). */
#define KV_REC_HDR 8u

#endif /* GALE_KV_SHARD_H */
