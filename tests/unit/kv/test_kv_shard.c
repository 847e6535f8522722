/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-kv's shard (apps/kv/kv_shard.c): limits refused before anything changes, a seeded random
 * run of puts/gets/deletes/scans against a model (long probe chains: 2,500 names on a table of
 * 4,096 slots, so backward-shift deletion is exercised across wrapped clusters), scan pages cut by
 * bytes, and key order (a prefix first).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_shard.h"

static struct kv_shard *
shard_new(uint32_t max_keys, uint32_t max_value, size_t mem)
{
	struct kv_shard_conf c = { .max_keys = max_keys,
		                   .max_key = 64,
		                   .max_value = max_value,
		                   .max_scan = 100,
		                   .mem_bytes = mem };
	struct kv_shard *s = kv_shard_create(&c);

	assert_non_null(s);
	return s;
}

static void
test_key_order(void **state)
{
	(void)state;
	assert_true(kv_key_cmp((const uint8_t *)"ab", 2, (const uint8_t *)"abc", 3) < 0);
	assert_true(kv_key_cmp((const uint8_t *)"abc", 3, (const uint8_t *)"ab", 2) > 0);
	assert_true(kv_key_cmp((const uint8_t *)"b", 1, (const uint8_t *)"abc", 3) > 0);
	assert_true(kv_key_cmp((const uint8_t *)"\xff", 1, (const uint8_t *)"\x01", 1) > 0);
	assert_int_equal(kv_key_cmp((const uint8_t *)"", 0, (const uint8_t *)"", 0), 0);
}

static void
test_limits(void **state)
{
	struct kv_shard_conf bad = {
		.max_keys = 0, .max_key = 8, .max_scan = 1, .mem_bytes = 1 << 20
	};
	struct kv_shard *s;
	uint8_t big[200];
	const uint8_t *v;
	uint32_t vlen;
	char k[16];

	(void)state;
	errno = 0;
	assert_null(kv_shard_create(&bad));
	assert_int_equal(errno, EINVAL);
	memset(big, 'v', sizeof(big));
	s = shard_new(3, 100, 1 << 20);
	assert_int_equal(kv_shard_put(s, big, 65, big, 1), -E2BIG);  /* key over max_key */
	assert_int_equal(kv_shard_put(s, big, 1, big, 101), -E2BIG); /* value over max_value */
	for (int i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(kv_shard_put(s, (uint8_t *)k, 2, big, 100), 0);
	}
	assert_int_equal(kv_shard_put(s, (const uint8_t *)"k9", 2, big, 1), -ENOSPC);
	assert_int_equal(kv_shard_put(s, (const uint8_t *)"k1", 2, big, 5), 0); /* replace: fine */
	assert_int_equal(kv_shard_keys(s), 3);
	assert_int_equal(kv_shard_bytes(s), 3 * 2 + 100 + 5 + 100);
	assert_int_equal(kv_shard_get(s, (const uint8_t *)"k1", 2, &v, &vlen), 0);
	assert_int_equal(vlen, 5);
	assert_int_equal(kv_shard_get(s, (const uint8_t *)"k9", 2, &v, &vlen), -ENOENT);
	kv_shard_free(s);

	/* Memory: 4 KiB of 128-byte blocks holds 32 items; the 33rd is refused, nothing changes. */
	s = shard_new(1000, 100, 4096);
	for (int i = 0; i < 32; i++) {
		snprintf(k, sizeof(k), "m%02d", i);
		assert_int_equal(kv_shard_put(s, (uint8_t *)k, 3, big, 90), 0);
	}
	assert_int_equal(kv_shard_put(s, (const uint8_t *)"m99", 3, big, 90), -ENOSPC);
	assert_int_equal(kv_shard_keys(s), 32);
	/* A value of another size class needs a new block: refused, the old value stays. */
	assert_int_equal(kv_shard_put(s, (const uint8_t *)"m00", 3, big, 5), -ENOSPC);
	assert_int_equal(kv_shard_get(s, (const uint8_t *)"m00", 3, &v, &vlen), 0);
	assert_int_equal(vlen, 90);
	assert_int_equal(kv_shard_delete(s, (const uint8_t *)"m01", 3), 1);
	assert_int_equal(kv_shard_put(s, (const uint8_t *)"m02", 3, big, 90), 0); /* same class */
	assert_int_equal(kv_shard_get(s, (const uint8_t *)"m02", 3, &v, &vlen), 0);
	assert_int_equal(vlen, 90);
	/* A freed block serves the next item of its class. */
	assert_int_equal(kv_shard_put(s, (const uint8_t *)"m98", 3, big, 90), 0);
	assert_int_equal(kv_shard_put(s, (const uint8_t *)"m97", 3, big, 90), -ENOSPC);
	kv_shard_free(s);
	kv_shard_free(NULL);
}

/* ---- the random run against a model ---- */

#define NAMES 2500

struct model {
	bool present;
	uint32_t len;
	uint32_t seed;
};

static char names[NAMES][16];
static uint32_t order[NAMES]; /* name indexes in key order */
static struct model model[NAMES];

static void
fill(uint8_t *buf, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((seed * 2654435761u + i * 40503u) >> 11);
}

static int
name_cmp(const void *a, const void *b)
{
	const char *x = names[*(const uint32_t *)a], *y = names[*(const uint32_t *)b];

	return kv_key_cmp((const uint8_t *)x, (uint32_t)strlen(x), (const uint8_t *)y,
	                  (uint32_t)strlen(y));
}

/* A scan from name `from` against the model: every record, in order, and `more`. */
static void
check_scan(struct kv_shard *s, uint32_t from, uint32_t limit)
{
	static uint8_t out[1 << 16];
	const char *start = names[from];
	uint32_t n, pos = 0, want = 0, k;
	size_t len, off = 0;
	bool more;

	len = kv_shard_scan(s, (const uint8_t *)start, (uint32_t)strlen(start), limit, out,
	                    sizeof(out), &n, &more);
	/* Position of the first name >= start in key order. */
	while (pos < NAMES && name_cmp(&order[pos], &from) < 0)
		pos++;
	for (k = pos; k < NAMES; k++) {
		uint32_t idx = order[k];
		uint32_t kl, vl;
		uint8_t expect[128];

		if (!model[idx].present)
			continue;
		if (want == n)
			break;
		assert_true(off + KV_REC_HDR <= len);
		memcpy(&kl, out + off, 4);
		memcpy(&vl, out + off + 4, 4);
		assert_int_equal(kl, strlen(names[idx]));
		assert_memory_equal(out + off + KV_REC_HDR, names[idx], kl);
		assert_int_equal(vl, model[idx].len);
		fill(expect, vl, model[idx].seed);
		assert_memory_equal(out + off + KV_REC_HDR + kl, expect, vl);
		off += KV_REC_HDR + kl + vl;
		want++;
	}
	assert_int_equal(want, n);
	assert_int_equal(off, len);
	assert_true(n <= limit);
	/* more: present names remain after the page. */
	for (; k < NAMES && !model[order[k]].present; k++)
		;
	assert_int_equal(more, k < NAMES);
}

static void
test_random_model(void **state)
{
	struct kv_shard *s = shard_new(2048, 120, 1 << 20); /* 4,096 slots */
	uint64_t bytes = 0, rng = 0x2545F4914F6CDD1Dull;
	uint32_t keys = 0, ops = 200000;
	uint8_t val[128];
	const uint8_t *v;
	uint32_t vlen;

	(void)state;
	for (uint32_t i = 0; i < NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "n%u", i * 7919u % 100003u);
		order[i] = i;
	}
	qsort(order, NAMES, sizeof(order[0]), name_cmp);
	memset(model, 0, sizeof(model));
	for (uint32_t op = 0; op < ops; op++) {
		uint32_t r, idx, klen;
		const uint8_t *key;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		r = (uint32_t)(rng >> 32);
		idx = r % NAMES;
		key = (const uint8_t *)names[idx];
		klen = (uint32_t)strlen(names[idx]);
		switch ((r >> 16) % 8) {
		case 0:
		case 1:
		case 2: { /* put */
			uint32_t len = (r >> 20) % 121, seed = op;
			int ret;

			fill(val, len, seed);
			ret = kv_shard_put(s, key, klen, val, len);
			if (!model[idx].present && keys == 2048) {
				assert_int_equal(ret, -ENOSPC);
				break;
			}
			assert_int_equal(ret, 0);
			if (model[idx].present)
				bytes -= klen + model[idx].len;
			else
				keys++;
			model[idx] = (struct model){ true, len, seed };
			bytes += klen + len;
			break;
		}
		case 3:
		case 4: /* delete */
			assert_int_equal(kv_shard_delete(s, key, klen), model[idx].present ? 1 : 0);
			if (model[idx].present) {
				keys--;
				bytes -= klen + model[idx].len;
				model[idx].present = false;
			}
			break;
		case 7:
			if (op % 64 == 7) {
				check_scan(s, idx, 1 + (r >> 24) % 100);
				break;
			}
			/* fall through */
		default: /* get */
			if (!model[idx].present) {
				assert_int_equal(kv_shard_get(s, key, klen, &v, &vlen), -ENOENT);
				break;
			}
			assert_int_equal(kv_shard_get(s, key, klen, &v, &vlen), 0);
			assert_int_equal(vlen, model[idx].len);
			fill(val, vlen, model[idx].seed);
			assert_memory_equal(v, val, vlen);
		}
		assert_int_equal(kv_shard_keys(s), keys);
	}
	assert_int_equal(kv_shard_bytes(s), bytes);
	/* Every name, once more. */
	for (uint32_t i = 0; i < NAMES; i++)
		assert_int_equal(kv_shard_get(s, (const uint8_t *)names[i],
		                              (uint32_t)strlen(names[i]), &v, &vlen) == 0,
		                 model[i].present);
	kv_shard_free(s);
}

/* A page cut by bytes: the smallest keys that fit, and more set. */
static void
test_scan_bytes(void **state)
{
	struct kv_shard *s = shard_new(100, 100, 1 << 20);
	uint8_t out[400], val[100];
	uint32_t n;
	bool more;
	size_t len;
	char k[8];

	(void)state;
	memset(val, 'x', sizeof(val));
	for (int i = 9; i >= 0; i--) {
		snprintf(k, sizeof(k), "s%d", i);
		assert_int_equal(kv_shard_put(s, (uint8_t *)k, 2, val, 100), 0);
	}
	/* 110 bytes a record: 3 fit in 400. */
	len = kv_shard_scan(s, (const uint8_t *)"s1", 2, 50, out, sizeof(out), &n, &more);
	assert_int_equal(n, 3);
	assert_int_equal(len, 330);
	assert_true(more);
	assert_memory_equal(out + KV_REC_HDR, "s1", 2);
	assert_memory_equal(out + 2 * 110 + KV_REC_HDR, "s3", 2);
	/* The limit cuts first: more set as well. */
	len = kv_shard_scan(s, (const uint8_t *)"s8", 2, 1, out, sizeof(out), &n, &more);
	assert_int_equal(n, 1);
	assert_true(more);
	/* The last keys: no more. */
	len = kv_shard_scan(s, (const uint8_t *)"s8", 2, 5, out, sizeof(out), &n, &more);
	assert_int_equal(n, 2);
	assert_false(more);
	assert_int_equal(len, 220);
	kv_shard_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test(test_scan_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
