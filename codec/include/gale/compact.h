/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/compact.h: the Thrift Compact protocol (TCompactProtocol).
 *
 * Same shape and return convention as <gale/binary.h>, so a code generator emits the same calls with a different
 * prefix. Wire format: i16/i32/i64 are zigzag varints (at most 3/5/10 bytes; a longer varint is VARINT); lengths,
 * counts and the message seqid are plain unsigned varints; double is 8 bytes little-endian; a field header is one
 * byte (delta << 4 | compact type) when the id grows by 1..15 over the previous field of the same struct, else the
 * type byte followed by the zigzag i16 id; a bool field carries its value in the header's type (1 true, 2 false);
 * a list/set header is one byte (count << 4 | type) for counts below 15, else 0xF. | type and a varint count;
 * a map header is a varint count and, when non-empty, one byte (key type << 4 | value type). Envelope: 0x82,
 * (version 1 | type << 5), varint seqid, varint-length name.
 *
 * The previous field id of each enclosing struct is kept in a fixed stack inside the reader/writer
 * (GALE_CODEC_DEPTH_CAP deep), so struct_begin/struct_end must be paired, and a bool field's value travels from
 * read_field_begin to read_bool (and from write_field_begin to write_bool) through the reader/writer.
 *
 * Varint decoding has an inline fast path when ten bytes are contiguous (the loop runs without bounds checks)
 * and a byte-at-a-time slow path across segments, like TCompactProtocol.tcc's readVarint64.
 *
 * Generated code calls: gale_compact_read_{struct,field,list,set,map}_{begin,end}, gale_compact_read_<type>,
 * gale_compact_skip, and the gale_compact_write_* counterparts.
 */
#ifndef GALE_COMPACT_H
#define GALE_COMPACT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gale/codec.h>

#define GALE_COMPACT_PROTOCOL_ID 0x82u
#define GALE_COMPACT_VERSION 1u
#define GALE_COMPACT_VERSION_MASK 0x1fu
#define GALE_COMPACT_TYPE_SHIFT 5

/** Compact wire types (the low nibble of a field header). */
enum gale_compact_type {
	GALE_CT_STOP = 0,
	GALE_CT_BOOL_TRUE = 1,
	GALE_CT_BOOL_FALSE = 2,
	GALE_CT_BYTE = 3,
	GALE_CT_I16 = 4,
	GALE_CT_I32 = 5,
	GALE_CT_I64 = 6,
	GALE_CT_DOUBLE = 7,
	GALE_CT_BINARY = 8,
	GALE_CT_LIST = 9,
	GALE_CT_SET = 10,
	GALE_CT_MAP = 11,
	GALE_CT_STRUCT = 12,
	GALE_CT_UUID = 13,
};

/** Compact type -> TType (0xff: invalid). Internal tables shared with the .c files. */
extern const uint8_t gale_compact__ttype[16];
/** TType -> compact type (0xff: invalid). */
extern const uint8_t gale_compact__ctype[17];

/* ---- varints ---- */

/** Slow path of the varint readers: byte at a time across segments; max_bytes is 5 or 10. Internal. */
GALE_CODEC_NOINLINE int
gale_compact__varint_slow(struct gale_codec_reader *r, uint64_t *v, unsigned max_bytes);

static inline int
gale_compact__varint(struct gale_codec_reader *r, uint64_t *v, unsigned max_bytes)
{
	if (GALE_CODEC_LIKELY(r->end - r->cur >= 10)) {
		const uint8_t *p = r->cur;
		uint64_t x = 0;
		unsigned i;

		for (i = 0; i < max_bytes; i++) {
			x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80)) {
				r->cur = p + i + 1;
				*v = x;
				return 0;
			}
		}
		return gale_codec_reader_fail(r, GALE_CODEC_E_VARINT);
	}
	return gale_compact__varint_slow(r, v, max_bytes);
}

/** An unsigned varint of at most 5 bytes (lengths, counts, seqid). */
static inline int
gale_compact_read_varint32(struct gale_codec_reader *r, uint32_t *v)
{
	uint64_t x;
	int rc;

	if (GALE_CODEC_LIKELY(r->cur < r->end && *r->cur < 0x80)) {
		*v = *r->cur++;
		return 0;
	}
	if ((rc = gale_compact__varint(r, &x, 5)) != 0)
		return rc;
	*v = (uint32_t)x;
	return 0;
}

static inline int
gale_compact_read_varint64(struct gale_codec_reader *r, uint64_t *v)
{
	if (GALE_CODEC_LIKELY(r->cur < r->end && *r->cur < 0x80)) {
		*v = *r->cur++;
		return 0;
	}
	return gale_compact__varint(r, v, 10);
}

static inline int64_t
gale_compact_unzigzag64(uint64_t n)
{
	return (int64_t)(n >> 1) ^ -(int64_t)(n & 1);
}

static inline uint64_t
gale_compact_zigzag64(int64_t n)
{
	return ((uint64_t)n << 1) ^ (uint64_t)(n >> 63);
}

static inline uint32_t
gale_compact_zigzag32(int32_t n)
{
	return ((uint32_t)n << 1) ^ (uint32_t)(n >> 31);
}

/* ---- reading ---- */

/** The general envelope reader. Internal: call the inline one. */
int
gale_compact__read_message_begin(struct gale_codec_reader *r, struct gale_codec_bytes *name, uint8_t *type,
				 int32_t *seqid);

/**
 * Reads an envelope; BAD_VERSION on a wrong protocol id or version, BAD_MSG_TYPE on a type outside 1..4. Inline
 * fast path for a one-byte seqid and name length with the name in the current segment.
 */
static inline int
gale_compact_read_message_begin(struct gale_codec_reader *r, struct gale_codec_bytes *name, uint8_t *type,
				int32_t *seqid)
{
	const uint8_t *p = r->cur;

	if (GALE_CODEC_LIKELY(r->end - p >= 4 && p[0] == GALE_COMPACT_PROTOCOL_ID &&
			      (p[1] & GALE_COMPACT_VERSION_MASK) == GALE_COMPACT_VERSION &&
			      (p[1] >> GALE_COMPACT_TYPE_SHIFT) >= GALE_MSG_CALL &&
			      (p[1] >> GALE_COMPACT_TYPE_SHIFT) <= GALE_MSG_ONEWAY && p[2] < 0x80 && p[3] < 0x80 &&
			      p[3] <= r->limits.max_string && r->end - p >= 4 + p[3])) {
		*type = (uint8_t)(p[1] >> GALE_COMPACT_TYPE_SHIFT);
		*seqid = p[2];
		gale_codec__set_bytes(name, p + 4, p[3]);
		r->cur = p + 4 + p[3];
		return 0;
	}
	return gale_compact__read_message_begin(r, name, type, seqid);
}

static inline int
gale_compact_read_message_end(struct gale_codec_reader *r)
{
	(void)r;
	return 0;
}

/** Skips an envelope without keeping the name (no arena needed). Internal: use gale_proto_skip_message(). */
int
gale_compact__skip_message_begin(struct gale_codec_reader *r);

/** Skips one value of TType `type` (any nesting, bounded by max_depth). */
int
gale_compact_skip(struct gale_codec_reader *r, uint8_t type);

/** Like Apache's TCompactProtocol, an i16 is read as a 32-bit varint (at most 5 bytes) and truncated. */
static inline int
gale_compact_read_i16(struct gale_codec_reader *r, int16_t *v)
{
	uint32_t x;
	int rc = gale_compact_read_varint32(r, &x);

	if (rc != 0)
		return rc;
	*v = (int16_t)((x >> 1) ^ -(x & 1));
	return 0;
}

static inline int
gale_compact_read_i32(struct gale_codec_reader *r, int32_t *v)
{
	uint32_t x;
	int rc = gale_compact_read_varint32(r, &x);

	if (rc != 0)
		return rc;
	*v = (int32_t)((x >> 1) ^ -(x & 1));
	return 0;
}

static inline int
gale_compact_read_i64(struct gale_codec_reader *r, int64_t *v)
{
	uint64_t x;
	int rc = gale_compact_read_varint64(r, &x);

	if (rc != 0)
		return rc;
	*v = gale_compact_unzigzag64(x);
	return 0;
}

static inline int
gale_compact_read_byte(struct gale_codec_reader *r, int8_t *v)
{
	return gale_codec_read_u8(r, (uint8_t *)v);
}

/** A bool field's value comes from its header; a bool element of a container is a byte (1 true). */
static inline int
gale_compact_read_bool(struct gale_codec_reader *r, uint8_t *v)
{
	uint8_t b;
	int rc;

	if (r->bool_pending) {
		r->bool_pending = 0;
		*v = r->bool_value;
		return 0;
	}
	if ((rc = gale_codec_read_u8(r, &b)) != 0)
		return rc;
	*v = b == GALE_CT_BOOL_TRUE;
	return 0;
}

static inline int
gale_compact_read_double(struct gale_codec_reader *r, double *v)
{
	uint64_t x;
	int rc = gale_codec_read_raw(r, &x, 8);

	if (rc != 0)
		return rc;
	x = gale_codec_le64(x);
	memcpy(v, &x, 8);
	return 0;
}

static inline int
gale_compact_read_uuid(struct gale_codec_reader *r, uint8_t v[16])
{
	return gale_codec_read_raw(r, v, 16);
}

static inline int
gale_compact_read_string(struct gale_codec_reader *r, struct gale_codec_bytes *out)
{
	uint32_t len;
	int rc = gale_compact_read_varint32(r, &len);

	if (rc != 0)
		return rc;
	if (GALE_CODEC_UNLIKELY(len > r->limits.max_string)) {
		return gale_codec_reader_fail(r, len > INT32_MAX ? GALE_CODEC_E_NEG_LENGTH :
								   GALE_CODEC_E_STRING_LIMIT);
	}
	return gale_codec_read_view(r, len, out);
}

static inline int
gale_compact_read_binary(struct gale_codec_reader *r, struct gale_codec_bytes *out)
{
	return gale_compact_read_string(r, out);
}

static inline int
gale_compact_read_struct_begin(struct gale_codec_reader *r)
{
	if (GALE_CODEC_UNLIKELY(r->depth >= r->limits.max_depth))
		return gale_codec_reader_fail(r, GALE_CODEC_E_DEPTH_LIMIT);
	r->fid_stack[r->depth++] = r->last_fid;
	r->last_fid = 0;
	return 0;
}

static inline int
gale_compact_read_struct_end(struct gale_codec_reader *r)
{
	r->last_fid = r->fid_stack[--r->depth];
	return 0;
}

/** Slow path of read_field_begin (long-form ids, bool types, errors). Internal. */
int
gale_compact__field_slow(struct gale_codec_reader *r, uint8_t b, uint8_t *type, int16_t *id);

/** Reads a field header; *type is a TType (GALE_T_BOOL for both bool forms), GALE_T_STOP at the end. */
static inline int
gale_compact_read_field_begin(struct gale_codec_reader *r, uint8_t *type, int16_t *id)
{
	uint8_t b, t;
	int rc;

	if ((rc = gale_codec_read_u8(r, &b)) != 0)
		return rc;
	t = gale_compact__ttype[b & 0x0f];
	if (GALE_CODEC_LIKELY((b >> 4) != 0 && t != GALE_T_BOOL && t != 0xff)) {
		r->last_fid = (int16_t)(r->last_fid + (b >> 4));
		*id = r->last_fid;
		*type = t;
		return 0;
	}
	return gale_compact__field_slow(r, b, type, id);
}

static inline int
gale_compact_read_field_end(struct gale_codec_reader *r)
{
	(void)r;
	return 0;
}

/** Reads a list or set header and validates it like gale_binary_read_list_begin(). */
int
gale_compact_read_list_begin(struct gale_codec_reader *r, uint8_t *etype, uint32_t *size);

static inline int
gale_compact_read_list_end(struct gale_codec_reader *r)
{
	r->depth--;
	return 0;
}

static inline int
gale_compact_read_set_begin(struct gale_codec_reader *r, uint8_t *etype, uint32_t *size)
{
	return gale_compact_read_list_begin(r, etype, size);
}

static inline int
gale_compact_read_set_end(struct gale_codec_reader *r)
{
	r->depth--;
	return 0;
}

/** Reads a map header; an empty map reports GALE_T_STOP for both types. */
int
gale_compact_read_map_begin(struct gale_codec_reader *r, uint8_t *ktype, uint8_t *vtype, uint32_t *size);

static inline int
gale_compact_read_map_end(struct gale_codec_reader *r)
{
	r->depth--;
	return 0;
}

/* ---- writing ---- */

/** Writes an unsigned varint. */
static inline int
gale_compact_write_varint64(struct gale_codec_writer *w, uint64_t v)
{
	uint8_t b[10];
	unsigned n = 0;

	if (GALE_CODEC_LIKELY(v < 0x80))
		return gale_codec_write_u8(w, (uint8_t)v);
	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	return gale_codec_write_raw(w, b, n);
}

static inline int
gale_compact_write_varint32(struct gale_codec_writer *w, uint32_t v)
{
	return gale_compact_write_varint64(w, v);
}

/** The general envelope writer. Internal: call the inline one. */
int
gale_compact__write_message_begin(struct gale_codec_writer *w, const char *name, size_t name_len, uint8_t type,
				  int32_t seqid);

/** Writes an envelope. Borrows name. Inline fast path for a seqid and name length under 128. */
static inline int
gale_compact_write_message_begin(struct gale_codec_writer *w, const char *name, size_t name_len, uint8_t type,
				 int32_t seqid)
{
	uint8_t *p = w->cur;

	if (GALE_CODEC_LIKELY((uint32_t)seqid < 0x80 && name_len < 0x80 && (size_t)(w->end - p) >= 4 + name_len)) {
		/* The four header bytes in one store (stores bound a small message's cost). */
		uint32_t h = gale_codec_be32(GALE_COMPACT_PROTOCOL_ID << 24 |
					     (GALE_COMPACT_VERSION | (uint32_t)type << GALE_COMPACT_TYPE_SHIFT) << 16 |
					     (uint32_t)seqid << 8 | (uint32_t)name_len);

		if (name_len >= 4 && name_len <= 12) {
			/* The header and the name's first 4 bytes in one store, the rest of a name of up to 12 in one. */
			uint32_t a;
			uint64_t ha;

			memcpy(&a, name, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			ha = (uint64_t)a << 32 | h; /* h's bytes, then a's, in memory */
#else
			ha = (uint64_t)h << 32 | a;
#endif
			memcpy(p, &ha, 8);
			if (name_len > 8) {
				uint64_t b;

				memcpy(&b, name + name_len - 8, 8);
				memcpy(p + name_len - 4, &b, 8);
			} else if (name_len > 4) {
				memcpy(&a, name + name_len - 4, 4);
				memcpy(p + name_len, &a, 4);
			}
		} else {
			memcpy(p, &h, 4);
			gale_codec__copy_small(p + 4, name, name_len);
		}
		w->cur = p + 4 + name_len;
		return 0;
	}
	return gale_compact__write_message_begin(w, name, name_len, type, seqid);
}

static inline int
gale_compact_write_message_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_compact_write_i16(struct gale_codec_writer *w, int16_t v)
{
	return gale_compact_write_varint32(w, gale_compact_zigzag32(v));
}

static inline int
gale_compact_write_i32(struct gale_codec_writer *w, int32_t v)
{
	return gale_compact_write_varint32(w, gale_compact_zigzag32(v));
}

static inline int
gale_compact_write_i64(struct gale_codec_writer *w, int64_t v)
{
	return gale_compact_write_varint64(w, gale_compact_zigzag64(v));
}

static inline int
gale_compact_write_byte(struct gale_codec_writer *w, int8_t v)
{
	return gale_codec_write_u8(w, (uint8_t)v);
}

/** Writes the deferred field header of a bool field. Internal. */
int
gale_compact__write_field_header(struct gale_codec_writer *w, uint8_t ctype, int16_t id);

/** In a field (after write_field_begin with GALE_T_BOOL) emits the header; in a container, a byte 1/2. */
static inline int
gale_compact_write_bool(struct gale_codec_writer *w, uint8_t v)
{
	uint8_t ct = v ? GALE_CT_BOOL_TRUE : GALE_CT_BOOL_FALSE;

	if (w->bool_pending) {
		w->bool_pending = 0;
		return gale_compact__write_field_header(w, ct, w->pending_fid);
	}
	return gale_codec_write_u8(w, ct);
}

static inline int
gale_compact_write_double(struct gale_codec_writer *w, double v)
{
	uint64_t x;

	memcpy(&x, &v, 8);
	x = gale_codec_le64(x);
	return gale_codec_write_raw(w, &x, 8);
}

static inline int
gale_compact_write_uuid(struct gale_codec_writer *w, const uint8_t v[16])
{
	return gale_codec_write_raw(w, v, 16);
}

/** Borrows p (len bytes). */
static inline int
gale_compact_write_string(struct gale_codec_writer *w, const void *p, size_t len)
{
	int rc;

	if (GALE_CODEC_UNLIKELY(len > INT32_MAX))
		return gale_codec_writer_fail(w, GALE_CODEC_E_TOO_LARGE);
	if ((rc = gale_compact_write_varint32(w, (uint32_t)len)) != 0)
		return rc;
	return gale_codec_write_raw(w, p, len);
}

static inline int
gale_compact_write_binary(struct gale_codec_writer *w, const void *p, size_t len)
{
	return gale_compact_write_string(w, p, len);
}

static inline int
gale_compact_write_struct_begin(struct gale_codec_writer *w)
{
	if (GALE_CODEC_UNLIKELY(w->depth >= GALE_CODEC_DEPTH_CAP))
		return gale_codec_writer_fail(w, GALE_CODEC_E_DEPTH_LIMIT);
	w->fid_stack[w->depth++] = w->last_fid;
	w->last_fid = 0;
	return 0;
}

static inline int
gale_compact_write_struct_end(struct gale_codec_writer *w)
{
	w->last_fid = w->fid_stack[--w->depth];
	return 0;
}

/** A bool field's header is deferred to gale_compact_write_bool(), which knows the value. */
static inline int
gale_compact_write_field_begin(struct gale_codec_writer *w, uint8_t type, int16_t id)
{
	uint8_t ct;
	int delta;

	if (type == GALE_T_BOOL) {
		w->bool_pending = 1;
		w->pending_fid = id;
		return 0;
	}
	ct = type <= GALE_T_UUID ? gale_compact__ctype[type] : 0xff;
	delta = id - w->last_fid;
	if (GALE_CODEC_LIKELY(delta > 0 && delta <= 15 && ct != 0xff)) {
		w->last_fid = id;
		return gale_codec_write_u8(w, (uint8_t)(delta << 4 | ct));
	}
	return gale_compact__write_field_header(w, ct, id);
}

static inline int
gale_compact_write_field_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_compact_write_field_stop(struct gale_codec_writer *w)
{
	return gale_codec_write_u8(w, GALE_CT_STOP);
}

/** List or set header. */
int
gale_compact_write_list_begin(struct gale_codec_writer *w, uint8_t etype, uint32_t size);

static inline int
gale_compact_write_list_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

static inline int
gale_compact_write_set_begin(struct gale_codec_writer *w, uint8_t etype, uint32_t size)
{
	return gale_compact_write_list_begin(w, etype, size);
}

static inline int
gale_compact_write_set_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

int
gale_compact_write_map_begin(struct gale_codec_writer *w, uint8_t ktype, uint8_t vtype, uint32_t size);

static inline int
gale_compact_write_map_end(struct gale_codec_writer *w)
{
	(void)w;
	return 0;
}

#endif /* GALE_COMPACT_H */
