/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/binary.h: the Thrift Binary protocol (TBinaryProtocol), strict and old non-strict.
 *
 * Every base-type read and write is a static inline function with a fast path for a value that lies inside the
 * current segment (one bounds compare, one unaligned load, one byte swap) and a call to the out-of-line slow path
 * of <gale/codec.h> otherwise. Generated code calls these by name, per protocol, rather than through a vtable: the
 * compiler then sees straight-line loads it can schedule and merge, which is where most of the gap to Apache
 * Thrift's virtual-call-per-field C++ comes from. The vtable of <gale/proto.h> exists only for the generic paths
 * (skip, framing, TApplicationException) where the protocol is chosen at run time.
 *
 * Wire format (all integers big-endian): bool and byte 1 byte; i16/i32/i64 2/4/8 bytes; double 8 bytes IEEE-754;
 * string/binary i32 length + bytes; field header type byte + i16 id, STOP is a single 0 byte; list/set elem type
 * byte + i32 count; map key type byte + value type byte + i32 count; uuid 16 raw bytes. Message envelope, strict:
 * i32 (0x80010000 | type), string name, i32 seqid; non-strict (old): string name, byte type, i32 seqid.
 *
 * Read functions follow <gale/codec.h>: 0, -2 need more, -1 malformed with r->reason. Lengths and counts from the
 * wire are checked before use: negative (NEG_LENGTH), over the limits (STRING_LIMIT, CONTAINER_LIMIT), deeper than
 * max_depth (DEPTH_LIMIT), past the end of a final (bounded) reader (PAST_END), so generated code may allocate
 * `count` elements from the arena right after a successful *_begin. Every *_begin that nests (struct, list, set,
 * map) must be paired with its *_end, which only undoes the depth count.
 *
 * Generated code calls: gale_binary_read_{struct,field,list,set,map}_{begin,end}, gale_binary_read_<type>,
 * gale_binary_skip for unknown fields, and the matching gale_binary_write_* functions; the runtime calls
 * gale_binary_{read,write}_message_{begin,end} around them.
 */
#ifndef GALE_BINARY_H
#define GALE_BINARY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gale/codec.h>

#define GALE_BINARY_VERSION_1 0x80010000u
#define GALE_BINARY_VERSION_MASK 0xffff0000u

/* ---- reading ---- */

/** The general envelope reader (non-strict, across segments, errors). Internal: call the inline one. */
int
gale_binary__read_message_begin(struct gale_codec_reader *r, struct gale_codec_bytes *name, uint8_t *type,
				int32_t *seqid);

/**
 * Reads a message envelope, strict or non-strict (r->nonstrict is set after a non-strict one). The name is a view
 * (or arena copy).
 * Fails with BAD_VERSION on a bad version word, BAD_MSG_TYPE on a type outside 1..4. Inline fast path for a
 * strict envelope inside the current segment (it is on every request; the benchmark showed the call).
 */
static inline int
gale_binary_read_message_begin(struct gale_codec_reader *r, struct gale_codec_bytes *name, uint8_t *type,
			       int32_t *seqid)
{
	const uint8_t *p = r->cur;
	uint32_t v, len, q;

	if (GALE_CODEC_LIKELY(r->end - p >= 12)) {
		memcpy(&v, p, 4);
		memcpy(&len, p + 4, 4);
		v = gale_codec_be32(v);
		len = gale_codec_be32(len);
		/* Version 0x8001, a zero byte and a type in 1..4, tested on the word; the name is a view into p. */
		if (GALE_CODEC_LIKELY((v & 0xffffff00u) == GALE_BINARY_VERSION_1 &&
				      (uint8_t)(v - GALE_MSG_CALL) <= GALE_MSG_ONEWAY - GALE_MSG_CALL &&
				      len <= r->limits.max_string && len <= INT32_MAX &&
				      (size_t)(r->end - p) - 12 >= len)) {
			gale_codec__set_bytes(name, p + 8, len);
			memcpy(&q, p + 8 + len, 4);
			*seqid = (int32_t)gale_codec_be32(q);
			*type = (uint8_t)(v & 0xff);
			r->cur = p + 12 + len;
			return 0;
		}
	}
	return gale_binary__read_message_begin(r, name, type, seqid);
}

static inline int
gale_binary_read_message_end(struct gale_codec_reader *r)
{
	(void)r;
	return 0;
}

/** Skips an envelope without keeping the name (no arena needed). Internal: use gale_proto_skip_message(). */
int
gale_binary__skip_message_begin(struct gale_codec_reader *r);

/** Skips one value of type `type` (any nesting, bounded by max_depth). Used for unknown fields. */
int
gale_binary_skip(struct gale_codec_reader *r, uint8_t type);

static inline int
gale_binary_read_i16(struct gale_codec_reader *r, int16_t *v)
{
	uint16_t x;
	int rc;

	if (GALE_CODEC_LIKELY(r->end - r->cur >= 2)) {
		memcpy(&x, r->cur, 2);
		r->cur += 2;
	} else if ((rc = gale_codec__read_slow(r, &x, 2)) != 0) {
		return rc;
	}
	*v = (int16_t)gale_codec_be16(x);
	return 0;
}

static inline int
gale_binary_read_i32(struct gale_codec_reader *r, int32_t *v)
{
	uint32_t x;
	int rc;

	if (GALE_CODEC_LIKELY(r->end - r->cur >= 4)) {
		memcpy(&x, r->cur, 4);
		r->cur += 4;
	} else if ((rc = gale_codec__read_slow(r, &x, 4)) != 0) {
		return rc;
	}
	*v = (int32_t)gale_codec_be32(x);
	return 0;
}

static inline int
gale_binary_read_i64(struct gale_codec_reader *r, int64_t *v)
{
	uint64_t x;
	int rc;

	if (GALE_CODEC_LIKELY(r->end - r->cur >= 8)) {
		memcpy(&x, r->cur, 8);
		r->cur += 8;
	} else if ((rc = gale_codec__read_slow(r, &x, 8)) != 0) {
		return rc;
	}
	*v = (int64_t)gale_codec_be64(x);
	return 0;
}

static inline int
gale_binary_read_byte(struct gale_codec_reader *r, int8_t *v)
{
	return gale_codec_read_u8(r, (uint8_t *)v);
}

/** Any non-zero byte reads as true (as Apache Thrift does). */
static inline int
gale_binary_read_bool(struct gale_codec_reader *r, uint8_t *v)
{
	uint8_t b;
	int rc = gale_codec_read_u8(r, &b);

	if (rc != 0)
		return rc;
	*v = b != 0;
	return 0;
}

static inline int
gale_binary_read_double(struct gale_codec_reader *r, double *v)
{
	int64_t x;
	int rc = gale_binary_read_i64(r, &x);

	if (rc != 0)
		return rc;
	memcpy(v, &x, 8);
	return 0;
}

static inline int
gale_binary_read_uuid(struct gale_codec_reader *r, uint8_t v[16])
{
	return gale_codec_read_raw(r, v, 16);
}

/** A string or binary: zero-copy view when contiguous, else copied into the reader's arena. */
static inline int
gale_binary_read_string(struct gale_codec_reader *r, struct gale_codec_bytes *out)
{
	int32_t len;
	int rc = gale_binary_read_i32(r, &len);

	if (rc != 0)
		return rc;
	if (GALE_CODEC_UNLIKELY(len < 0))
		return gale_codec_reader_fail(r, GALE_CODEC_E_NEG_LENGTH);
	if (GALE_CODEC_UNLIKELY((uint32_t)len > r->limits.max_string))
		return gale_codec_reader_fail(r, GALE_CODEC_E_STRING_LIMIT);
	return gale_codec_read_view(r, (size_t)len, out);
}

static inline int
gale_binary_read_binary(struct gale_codec_reader *r, struct gale_codec_bytes *out)
{
	return gale_binary_read_string(r, out);
}

/** Nesting: counts one level of depth. */
static inline int
gale_binary_read_struct_begin(struct gale_codec_reader *r)
{
	if (GALE_CODEC_UNLIKELY(++r->depth > r->limits.max_depth))
		return gale_codec_reader_fail(r, GALE_CODEC_E_DEPTH_LIMIT);
	return 0;
}

static inline int
gale_binary_read_struct_end(struct gale_codec_reader *r)
{
	r->depth--;
	return 0;
}

/** Reads a field header; *type is GALE_T_STOP (and *id 0) at the end of the struct. */
static inline int
gale_binary_read_field_begin(struct gale_codec_reader *r, uint8_t *type, int16_t *id)
{
	int rc;

	if (GALE_CODEC_LIKELY(r->end - r->cur >= 3)) {
		uint16_t x;

		*type = r->cur[0];
		if (*type == GALE_T_STOP) {
			r->cur++;
			*id = 0;
			return 0;
		}
		memcpy(&x, r->cur + 1, 2);
		*id = (int16_t)gale_codec_be16(x);
		r->cur += 3;
		return 0;
	}
	if ((rc = gale_codec_read_u8(r, type)) != 0)
		return rc;
	if (*type == GALE_T_STOP) {
		*id = 0;
		return 0;
	}
	return gale_binary_read_i16(r, id);
}

static inline int
gale_binary_read_field_end(struct gale_codec_reader *r)
{
	(void)r;
	return 0;
}

/**
 * Validates a container header (element types, count sign, limits, depth, and count against the bytes left in a
 * final reader) and counts a level of depth. Shared by the list, set and map readers. Internal.
 */
int
gale_binary__container_check(struct gale_codec_reader *r, int32_t count, uint8_t t1, uint8_t t2);

/*
 * Inline fast path of the container check: a small count of valid types whose largest possible minimum size
 * (32 bytes, a map of uuids) fits in the current segment passes every check at once.
 */
static inline int
gale_binary__container_fast(struct gale_codec_reader *r, int32_t count, uint8_t t1, uint8_t t2)
{
	if (GALE_CODEC_LIKELY(count >= 0 && (uint32_t)count <= r->limits.max_container &&
			      r->depth < r->limits.max_depth && t1 < 32 && ((GALE_CODEC_ELEM_TYPES >> t1) & 1) &&
			      (t2 == GALE_T_STOP || (t2 < 32 && ((GALE_CODEC_ELEM_TYPES >> t2) & 1))) &&
			      (uint64_t)(uint32_t)count * 32 <= (uint64_t)(r->end - r->cur))) {
		r->depth++;
		return 0;
	}
	return gale_binary__container_check(r, count, t1, t2);
}

static inline int
gale_binary_read_list_begin(struct gale_codec_reader *r, uint8_t *etype, uint32_t *size)
{
	int32_t n;
	int rc;

	if ((rc = gale_codec_read_u8(r, etype)) != 0 || (rc = gale_binary_read_i32(r, &n)) != 0)
		return rc;
	if ((rc = gale_binary__container_fast(r, n, *etype, GALE_T_STOP)) != 0)
		return rc;
	*size = (uint32_t)n;
	return 0;
}

static inline int
gale_binary_read_list_end(struct gale_codec_reader *r)
{
	r->depth--;
	return 0;
}

static inline int
gale_binary_read_set_begin(struct gale_codec_reader *r, uint8_t *etype, uint32_t *size)
{
	return gale_binary_read_list_begin(r, etype, size);
}

static inline int
gale_binary_read_set_end(struct gale_codec_reader *r)
{
	r->depth--;
	return 0;
}

static inline int
gale_binary_read_map_begin(struct gale_codec_reader *r, uint8_t *ktype, uint8_t *vtype, uint32_t *size)
{
	int32_t n;
	int rc;

	if ((rc = gale_codec_read_u8(r, ktype)) != 0 || (rc = gale_codec_read_u8(r, vtype)) != 0 ||
	    (rc = gale_binary_read_i32(r, &n)) != 0)
		return rc;
	if ((rc = gale_binary__container_fast(r, n, *ktype, *vtype)) != 0)
		return rc;
	*size = (uint32_t)n;
	return 0;
}

static inline int
gale_binary_read_map_end(struct gale_codec_reader *r)
{
	r->depth--;
	return 0;
}

/* ---- writing ---- */

/** The general envelope writer. Internal: call the inline one. */
int
gale_binary__write_message_begin(struct gale_codec_writer *w, const char *name, size_t name_len, uint8_t type,
				 int32_t seqid);

/** Writes an envelope: strict (version word) unless w->nonstrict, else old non-strict. Borrows name. */
static inline int
gale_binary_write_message_begin(struct gale_codec_writer *w, const char *name, size_t name_len, uint8_t type,
				int32_t seqid)
{
	uint8_t *p = w->cur;

	if (GALE_CODEC_LIKELY(!w->nonstrict && name_len <= INT32_MAX && (size_t)(w->end - p) >= name_len + 12)) {
		/* Version word and name length in one store (stores bound a small message's cost). */
		uint64_t vl = gale_codec_be64((uint64_t)(GALE_BINARY_VERSION_1 | type) << 32 | (uint32_t)name_len);
		uint32_t q = gale_codec_be32((uint32_t)seqid);

		if (name_len >= 4 && name_len <= 12) {
			/*
			 * Two stores for the whole envelope: 16 bytes of version, length and the name's first 4 or 8
			 * bytes, then 8 bytes of the name's last 4 and the seqid, which overwrite whatever the first
			 * store put past the name.
			 */
			uint64_t a, t;
			uint32_t a4, b;

			memcpy(&a4, name, 4);
			memcpy(&b, name + name_len - 4, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			a = a4;
			t = (uint64_t)q << 32 | b; /* b's bytes, then q's, in memory */
#else
			a = (uint64_t)a4 << 32;
			t = (uint64_t)b << 32 | q;
#endif
			if (name_len >= 8)
				memcpy(&a, name, 8);
			memcpy(p, &vl, 8);
			memcpy(p + 8, &a, 8);
			memcpy(p + 4 + name_len, &t, 8);
		} else {
			memcpy(p, &vl, 8);
			gale_codec__copy_small(p + 8, name, name_len);
			memcpy(p + 8 + name_len, &q, 4);
		}
		w->cur = p + 12 + name_len;
		return 0;
	}
	return gale_binary__write_message_begin(w, name, name_len, type, seqid);
}

static inline int
gale_binary_write_message_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_binary_write_i16(struct gale_codec_writer *w, int16_t v)
{
	uint16_t x = gale_codec_be16((uint16_t)v);

	return gale_codec_write_raw(w, &x, 2);
}

static inline int
gale_binary_write_i32(struct gale_codec_writer *w, int32_t v)
{
	uint32_t x = gale_codec_be32((uint32_t)v);

	if (GALE_CODEC_LIKELY(w->end - w->cur >= 4)) {
		*(gale_codec__u32u *)(void *)w->cur = x;
		w->cur += 4;
		return 0;
	}
	return gale_codec__write_slow(w, &x, 4);
}

static inline int
gale_binary_write_i64(struct gale_codec_writer *w, int64_t v)
{
	uint64_t x = gale_codec_be64((uint64_t)v);

	if (GALE_CODEC_LIKELY(w->end - w->cur >= 8)) {
		*(gale_codec__u64u *)(void *)w->cur = x;
		w->cur += 8;
		return 0;
	}
	return gale_codec__write_slow(w, &x, 8);
}

static inline int
gale_binary_write_byte(struct gale_codec_writer *w, int8_t v)
{
	return gale_codec_write_u8(w, (uint8_t)v);
}

static inline int
gale_binary_write_bool(struct gale_codec_writer *w, uint8_t v)
{
	return gale_codec_write_u8(w, v != 0);
}

static inline int
gale_binary_write_double(struct gale_codec_writer *w, double v)
{
	int64_t x;

	memcpy(&x, &v, 8);
	return gale_binary_write_i64(w, x);
}

static inline int
gale_binary_write_uuid(struct gale_codec_writer *w, const uint8_t v[16])
{
	return gale_codec_write_raw(w, v, 16);
}

/** Borrows p (len bytes). Fails with TOO_LARGE over INT32_MAX bytes. */
static inline int
gale_binary_write_string(struct gale_codec_writer *w, const void *p, size_t len)
{
	uint32_t x = gale_codec_be32((uint32_t)len);
	int rc;

	if (GALE_CODEC_UNLIKELY(len > INT32_MAX))
		return gale_codec_writer_fail(w, GALE_CODEC_E_TOO_LARGE);
	if (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= len + 4)) {
		uint8_t *o = w->cur;

		memcpy(o, &x, 4);
		if (len != 0)
			memcpy(o + 4, p, len);
		w->cur = o + 4 + len;
		return 0;
	}
	if ((rc = gale_codec_write_raw(w, &x, 4)) != 0)
		return rc;
	return gale_codec_write_raw(w, p, len);
}

static inline int
gale_binary_write_binary(struct gale_codec_writer *w, const void *p, size_t len)
{
	return gale_binary_write_string(w, p, len);
}

static inline int
gale_binary_write_struct_begin(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_binary_write_struct_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_binary_write_field_begin(struct gale_codec_writer *w, uint8_t type, int16_t id)
{
	uint16_t x = gale_codec_be16((uint16_t)id);

	/* Stored straight into the output: staging the 3 bytes on the stack costs a store-forwarding stall. */
	if (GALE_CODEC_LIKELY(w->end - w->cur >= 4)) {
		/* One 4-byte store of type, id and a spare byte the next write overwrites. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		uint32_t h = (uint32_t)type | (uint32_t)x << 8;
#else
		uint32_t h = (uint32_t)type << 24 | (uint32_t)x << 8;
#endif
		*(gale_codec__u32u *)(void *)w->cur = h;
		w->cur += 3;
		return 0;
	}
	{
		uint8_t b[3] = {type, (uint8_t)((uint16_t)id >> 8), (uint8_t)id};

		return gale_codec__write_slow(w, b, 3);
	}
}

static inline int
gale_binary_write_field_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_binary_write_field_stop(struct gale_codec_writer *w)
{
	return gale_codec_write_u8(w, GALE_T_STOP);
}

/* A type byte (or two) and a big-endian i32 count, stored straight into the output. Internal. */
static inline int
gale_binary__write_hdr(struct gale_codec_writer *w, uint8_t t1, uint8_t t2, int two, uint32_t size)
{
	uint32_t x = gale_codec_be32(size);
	uint8_t *p = w->cur;
	uint8_t b[6];

	if (GALE_CODEC_UNLIKELY(size > INT32_MAX))
		return gale_codec_writer_fail(w, GALE_CODEC_E_TOO_LARGE);
	if (GALE_CODEC_LIKELY(w->end - p >= 6)) {
		p[0] = t1;
		p[1] = t2;
		memcpy(p + 1 + two, &x, 4);
		w->cur = p + 5 + two;
		return 0;
	}
	b[0] = t1;
	b[1] = t2;
	memcpy(b + 1 + two, &x, 4);
	return gale_codec__write_slow(w, b, (size_t)(5 + two));
}

static inline int
gale_binary_write_list_begin(struct gale_codec_writer *w, uint8_t etype, uint32_t size)
{
	return gale_binary__write_hdr(w, etype, 0, 0, size);
}

static inline int
gale_binary_write_list_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_binary_write_set_begin(struct gale_codec_writer *w, uint8_t etype, uint32_t size)
{
	return gale_binary_write_list_begin(w, etype, size);
}

static inline int
gale_binary_write_set_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_binary_write_map_begin(struct gale_codec_writer *w, uint8_t ktype, uint8_t vtype, uint32_t size)
{
	return gale_binary__write_hdr(w, ktype, vtype, 1, size);
}

static inline int
gale_binary_write_map_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

#endif /* GALE_BINARY_H */
