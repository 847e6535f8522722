/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compact.c: the out-of-line parts of the Compact protocol (<gale/compact.h>): varints across segments, long-form
 * and bool field headers, container headers, envelopes and skip.
 *
 * The varint slow path reads byte by byte through gale_codec_read_u8(), so a varint cut at any byte returns -2 and,
 * because a failed read leaves the reader in place only per byte, the whole varint is first located with a peek:
 * the reader does not move unless the varint is complete, which keeps a -2 retryable. A varint that does not end
 * within 5 (32-bit) or 10 (64-bit) bytes is malformed (VARINT), as in TCompactProtocol.tcc.
 *
 * Container checks mirror binary.c (count limits and depth before the caller sees the count, element types
 * validated (type 0 is accepted only for an empty list, as Python does), the count checked against the bytes left in a final reader at one byte per
 * element, eight per double, sixteen per uuid).
 */
#include <stdint.h>

#include <gale/compact.h>

const uint8_t gale_compact__ttype[16] = {
	0xff,           GALE_T_BOOL,   GALE_T_BOOL, GALE_T_BYTE, GALE_T_I16,    GALE_T_I32,
	GALE_T_I64,     GALE_T_DOUBLE, GALE_T_STRING, GALE_T_LIST, GALE_T_SET,  GALE_T_MAP,
	GALE_T_STRUCT,  GALE_T_UUID,   0xff,        0xff,
};

const uint8_t gale_compact__ctype[17] = {
	[GALE_T_STOP] = GALE_CT_STOP,     [GALE_T_VOID] = 0xff,          [GALE_T_BOOL] = GALE_CT_BOOL_TRUE,
	[GALE_T_BYTE] = GALE_CT_BYTE,     [GALE_T_DOUBLE] = GALE_CT_DOUBLE, [5] = 0xff,
	[GALE_T_I16] = GALE_CT_I16,       [7] = 0xff,                    [GALE_T_I32] = GALE_CT_I32,
	[9] = 0xff,                       [GALE_T_I64] = GALE_CT_I64,    [GALE_T_STRING] = GALE_CT_BINARY,
	[GALE_T_STRUCT] = GALE_CT_STRUCT, [GALE_T_MAP] = GALE_CT_MAP,    [GALE_T_SET] = GALE_CT_SET,
	[GALE_T_LIST] = GALE_CT_LIST,     [GALE_T_UUID] = GALE_CT_UUID,
};

/* Minimum wire size of one container element of a TType (0: invalid). */
static const uint8_t cpt_min[17] = {
	[GALE_T_BOOL] = 1,   [GALE_T_BYTE] = 1,   [GALE_T_DOUBLE] = 8, [GALE_T_I16] = 1, [GALE_T_I32] = 1,
	[GALE_T_I64] = 1,    [GALE_T_STRING] = 1, [GALE_T_STRUCT] = 1, [GALE_T_MAP] = 1, [GALE_T_SET] = 1,
	[GALE_T_LIST] = 1,   [GALE_T_UUID] = 16,
};

int
gale_compact__varint_slow(struct gale_codec_reader *r, uint64_t *v, unsigned max_bytes)
{
	uint8_t buf[10];
	size_t got = gale_codec_reader_peek(r, buf, max_bytes);
	uint64_t x = 0;
	unsigned i;

	for (i = 0; i < got; i++) {
		x |= (uint64_t)(buf[i] & 0x7f) << (7 * i);
		if (!(buf[i] & 0x80)) {
			*v = x;
			return gale_codec_skip_raw(r, i + 1);
		}
	}
	if (got >= max_bytes)
		return gale_codec_reader_fail(r, GALE_CODEC_E_VARINT);
	return gale_codec_reader_fail(r, r->final ? GALE_CODEC_E_PAST_END : GALE_CODEC_E_NEED_MORE);
}

int
gale_compact__field_slow(struct gale_codec_reader *r, uint8_t b, uint8_t *type, int16_t *id)
{
	uint8_t ct = b & 0x0f, t;
	int16_t fid;
	int rc;

	if (b == 0) {
		*type = GALE_T_STOP;
		*id = 0;
		return 0;
	}
	t = gale_compact__ttype[ct];
	if (t == 0xff)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
	if ((b >> 4) != 0) {
		fid = (int16_t)(r->last_fid + (b >> 4));
	} else if ((rc = gale_compact_read_i16(r, &fid)) != 0) {
		return rc;
	}
	if (t == GALE_T_BOOL) {
		r->bool_pending = 1;
		r->bool_value = ct == GALE_CT_BOOL_TRUE;
	}
	r->last_fid = fid;
	*id = fid;
	*type = t;
	return 0;
}

static int
container_check(struct gale_codec_reader *r, uint32_t n, uint8_t t1, uint8_t t2)
{
	uint64_t need;
	unsigned min = 0;

	if (n > INT32_MAX)
		return gale_codec_reader_fail(r, GALE_CODEC_E_NEG_LENGTH);
	if (t1 == 0xff || t2 == 0xff)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
	if (n > 0) {
		/* STOP (compact type 0) is tolerated as the element type of an empty list only, as Python does. */
		if (t1 == GALE_T_STOP)
			return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
		min = cpt_min[t1] + (t2 != GALE_T_STOP ? cpt_min[t2] : 0);
	}
	if (n > r->limits.max_container)
		return gale_codec_reader_fail(r, GALE_CODEC_E_CONTAINER_LIMIT);
	if (r->depth >= r->limits.max_depth)
		return gale_codec_reader_fail(r, GALE_CODEC_E_DEPTH_LIMIT);
	need = (uint64_t)n * min;
	if (r->final && need > (uint64_t)(r->end - r->cur) && need > gale_codec_reader_remaining(r))
		return gale_codec_reader_fail(r, GALE_CODEC_E_PAST_END);
	r->depth++;
	return 0;
}

int
gale_compact_read_list_begin(struct gale_codec_reader *r, uint8_t *etype, uint32_t *size)
{
	uint32_t n;
	uint8_t b;
	int rc;

	if ((rc = gale_codec_read_u8(r, &b)) != 0)
		return rc;
	n = b >> 4;
	if (n == 15 && (rc = gale_compact_read_varint32(r, &n)) != 0)
		return rc;
	*etype = (b & 0x0f) == GALE_CT_STOP ? GALE_T_STOP : gale_compact__ttype[b & 0x0f];
	if ((rc = container_check(r, n, *etype, GALE_T_STOP)) != 0)
		return rc;
	*size = n;
	return 0;
}

int
gale_compact_read_map_begin(struct gale_codec_reader *r, uint8_t *ktype, uint8_t *vtype, uint32_t *size)
{
	uint32_t n;
	uint8_t b = 0;
	int rc;

	if ((rc = gale_compact_read_varint32(r, &n)) != 0)
		return rc;
	if (n != 0 && (rc = gale_codec_read_u8(r, &b)) != 0)
		return rc;
	*ktype = n != 0 ? gale_compact__ttype[b >> 4] : GALE_T_STOP;
	*vtype = n != 0 ? gale_compact__ttype[b & 0x0f] : GALE_T_STOP;
	if ((rc = container_check(r, n, *ktype, *vtype)) != 0)
		return rc;
	*size = n;
	return 0;
}

int
gale_compact__read_message_begin(struct gale_codec_reader *r, struct gale_codec_bytes *name, uint8_t *type,
				 int32_t *seqid)
{
	uint8_t pid, vt;
	uint32_t seq;
	int rc;

	if ((rc = gale_codec_read_u8(r, &pid)) != 0)
		return rc;
	if (pid != GALE_COMPACT_PROTOCOL_ID)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_VERSION);
	if ((rc = gale_codec_read_u8(r, &vt)) != 0)
		return rc;
	if ((vt & GALE_COMPACT_VERSION_MASK) != GALE_COMPACT_VERSION)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_VERSION);
	*type = (uint8_t)(vt >> GALE_COMPACT_TYPE_SHIFT);
	if (*type < GALE_MSG_CALL || *type > GALE_MSG_ONEWAY)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_MSG_TYPE);
	if ((rc = gale_compact_read_varint32(r, &seq)) != 0)
		return rc;
	*seqid = (int32_t)seq;
	return gale_compact_read_string(r, name);
}

int
gale_compact__skip_message_begin(struct gale_codec_reader *r)
{
	uint8_t pid, vt;
	uint32_t seq, len;
	int rc;

	if ((rc = gale_codec_read_u8(r, &pid)) != 0)
		return rc;
	if (pid != GALE_COMPACT_PROTOCOL_ID)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_VERSION);
	if ((rc = gale_codec_read_u8(r, &vt)) != 0)
		return rc;
	if ((vt & GALE_COMPACT_VERSION_MASK) != GALE_COMPACT_VERSION)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_VERSION);
	if ((vt >> GALE_COMPACT_TYPE_SHIFT) < GALE_MSG_CALL || (vt >> GALE_COMPACT_TYPE_SHIFT) > GALE_MSG_ONEWAY)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_MSG_TYPE);
	if ((rc = gale_compact_read_varint32(r, &seq)) != 0 || (rc = gale_compact_read_varint32(r, &len)) != 0)
		return rc;
	if (len > r->limits.max_string)
		return gale_codec_reader_fail(r, len > INT32_MAX ? GALE_CODEC_E_NEG_LENGTH : GALE_CODEC_E_STRING_LIMIT);
	return gale_codec_skip_raw(r, len);
}

int
gale_compact_skip(struct gale_codec_reader *r, uint8_t type)
{
	uint8_t t1, t2, b;
	uint32_t n, i;
	uint64_t x;
	int16_t id;
	int rc;

	switch (type) {
	case GALE_T_BOOL:
		return gale_compact_read_bool(r, &b);
	case GALE_T_BYTE:
		return gale_codec_skip_raw(r, 1);
	case GALE_T_I16:
	case GALE_T_I32:
		return gale_compact__varint(r, &x, 5);
	case GALE_T_I64:
		return gale_compact_read_varint64(r, &x);
	case GALE_T_DOUBLE:
		return gale_codec_skip_raw(r, 8);
	case GALE_T_UUID:
		return gale_codec_skip_raw(r, 16);
	case GALE_T_STRING:
		if ((rc = gale_compact_read_varint32(r, &n)) != 0)
			return rc;
		if (n > r->limits.max_string)
			return gale_codec_reader_fail(r, n > INT32_MAX ? GALE_CODEC_E_NEG_LENGTH :
								       GALE_CODEC_E_STRING_LIMIT);
		return gale_codec_skip_raw(r, n);
	case GALE_T_STRUCT:
		if ((rc = gale_compact_read_struct_begin(r)) != 0)
			return rc;
		for (;;) {
			if ((rc = gale_compact_read_field_begin(r, &t1, &id)) != 0)
				return rc;
			if (t1 == GALE_T_STOP)
				break;
			if ((rc = gale_compact_skip(r, t1)) != 0)
				return rc;
		}
		return gale_compact_read_struct_end(r);
	case GALE_T_LIST:
	case GALE_T_SET:
		if ((rc = gale_compact_read_list_begin(r, &t1, &n)) != 0)
			return rc;
		if (n != 0 && (t1 == GALE_T_BYTE || t1 == GALE_T_BOOL)) {
			if ((rc = gale_codec_skip_raw(r, n)) != 0)
				return rc;
		} else {
			for (i = 0; i < n; i++) {
				if ((rc = gale_compact_skip(r, t1)) != 0)
					return rc;
			}
		}
		return gale_compact_read_list_end(r);
	case GALE_T_MAP:
		if ((rc = gale_compact_read_map_begin(r, &t1, &t2, &n)) != 0)
			return rc;
		for (i = 0; i < n; i++) {
			if ((rc = gale_compact_skip(r, t1)) != 0 || (rc = gale_compact_skip(r, t2)) != 0)
				return rc;
		}
		return gale_compact_read_map_end(r);
	default:
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
	}
}

int
gale_compact__write_field_header(struct gale_codec_writer *w, uint8_t ctype, int16_t id)
{
	int delta = id - w->last_fid;
	int rc;

	if (ctype == 0xff)
		return gale_codec_writer_fail(w, GALE_CODEC_E_BAD_TYPE);
	if (delta > 0 && delta <= 15) {
		rc = gale_codec_write_u8(w, (uint8_t)(delta << 4 | ctype));
	} else if ((rc = gale_codec_write_u8(w, ctype)) == 0) {
		rc = gale_compact_write_i16(w, id);
	}
	w->last_fid = id;
	return rc;
}

static uint8_t
ctype_of(uint8_t t)
{
	return t <= GALE_T_UUID ? gale_compact__ctype[t] : 0xff;
}

int
gale_compact_write_list_begin(struct gale_codec_writer *w, uint8_t etype, uint32_t size)
{
	uint8_t ct = ctype_of(etype);
	int rc;

	if (ct == 0xff || (ct == GALE_CT_STOP && size != 0))
		return gale_codec_writer_fail(w, GALE_CODEC_E_BAD_TYPE);
	if (size > INT32_MAX)
		return gale_codec_writer_fail(w, GALE_CODEC_E_TOO_LARGE);
	if (size < 15)
		return gale_codec_write_u8(w, (uint8_t)(size << 4 | ct));
	if ((rc = gale_codec_write_u8(w, (uint8_t)(0xf0 | ct))) != 0)
		return rc;
	return gale_compact_write_varint32(w, size);
}

int
gale_compact_write_map_begin(struct gale_codec_writer *w, uint8_t ktype, uint8_t vtype, uint32_t size)
{
	uint8_t kt = ctype_of(ktype), vt = ctype_of(vtype);
	int rc;

	if (size > INT32_MAX)
		return gale_codec_writer_fail(w, GALE_CODEC_E_TOO_LARGE);
	if (size == 0)
		return gale_codec_write_u8(w, 0);
	if (kt == 0xff || vt == 0xff || kt == GALE_CT_STOP || vt == GALE_CT_STOP)
		return gale_codec_writer_fail(w, GALE_CODEC_E_BAD_TYPE);
	if ((rc = gale_compact_write_varint32(w, size)) != 0)
		return rc;
	return gale_codec_write_u8(w, (uint8_t)(kt << 4 | vt));
}

int
gale_compact__write_message_begin(struct gale_codec_writer *w, const char *name, size_t name_len, uint8_t type,
				  int32_t seqid)
{
	int rc;

	if ((rc = gale_codec_write_u8(w, GALE_COMPACT_PROTOCOL_ID)) != 0 ||
	    (rc = gale_codec_write_u8(w, (uint8_t)(GALE_COMPACT_VERSION | (unsigned)type << GALE_COMPACT_TYPE_SHIFT))) !=
		    0 ||
	    (rc = gale_compact_write_varint32(w, (uint32_t)seqid)) != 0)
		return rc;
	return gale_compact_write_string(w, name, name_len);
}
