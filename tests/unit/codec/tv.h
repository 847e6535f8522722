/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tv.h: a generic Thrift value tree for codec tests: decode any message with gale's protocol calls into a tree,
 * encode a tree back, and print a canonical dump that the Python helper (tests/interop/codec/golden.py) prints
 * identically from Apache Thrift's own reader. Used by the unit, interop and fuzz suites.
 *
 * Dump grammar: struct {id:v,...}; bool T/F; byte b<n>; i16 h<n>; i32 i<n>; i64 l<n>; double d<16 hex digits of
 * the IEEE bits>; string s<hex>; uuid u<hex>; list [t:v,...]; set <t:v,...>; map (k,v:k=v;...) with the types
 * printed only for non-empty maps (Compact does not carry them for empty ones).
 */
#ifndef GALE_TEST_TV_H
#define GALE_TEST_TV_H

#include <stddef.h>
#include <stdint.h>

#include <gale/arena.h>
#include <gale/codec.h>

struct gale_test_tv {
	uint8_t type;  /**< TType */
	uint8_t t1;    /**< list/set element type, map key type */
	uint8_t t2;    /**< map value type */
	int16_t id;    /**< field id, when a struct member */
	uint32_t n;    /**< fields / elements / map pairs */
	union {
		int64_t i;
		double d;
		struct gale_codec_bytes s;
		uint8_t uuid[16];
	} u;
	struct gale_test_tv *kids; /**< n entries (maps: 2n, key then value) */
};

struct gale_test_tv_msg {
	struct gale_codec_bytes name;
	uint8_t type;
	int32_t seqid;
	struct gale_test_tv body; /**< a struct */
};

/** Reads a value of `type` with protocol `proto`; nodes come from arena `a`. 0, -2, -1 (r->reason). */
int
gale_test_tv_read(struct gale_codec_reader *r, int proto, struct gale_arena *a, uint8_t type, struct gale_test_tv *v);

int
gale_test_tv_read_msg(struct gale_codec_reader *r, int proto, struct gale_arena *a, struct gale_test_tv_msg *m);

int
gale_test_tv_write(struct gale_codec_writer *w, int proto, const struct gale_test_tv *v);

int
gale_test_tv_write_msg(struct gale_codec_writer *w, int proto, const struct gale_test_tv_msg *m);

/** Canonical dump into buf (NUL-terminated, truncated at cap); returns the full length it needed. */
size_t
gale_test_tv_dump(const struct gale_test_tv *v, char *buf, size_t cap);

size_t
gale_test_tv_dump_msg(const struct gale_test_tv_msg *m, char *buf, size_t cap);

#endif /* GALE_TEST_TV_H */
