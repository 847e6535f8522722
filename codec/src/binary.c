/* SPDX-License-Identifier: Apache-2.0 */
/*
 * binary.c: the out-of-line parts of the Binary protocol (<gale/binary.h>): envelopes, container header checks
 * and the generic skip.
 *
 * A container header is where a hostile peer gets leverage (a count of 2^31 makes a naive decoder allocate
 * gigabytes), so gale_binary__container_check() refuses it before the caller sees the count: negative, over
 * max_container, or, in a final reader, more elements than the remaining bytes could hold at the element type's
 * minimum wire size. Element types are validated only for non-empty containers, as Apache Thrift does (some
 * encoders write 0 types for empty maps).
 *
 * Skip recurses once per nesting level; recursion is bounded by max_depth (at most GALE_CODEC_DEPTH_CAP), so the
 * stack use is bounded too. A list of fixed-size elements is skipped in one step.
 */
#include <stdint.h>

#include <gale/binary.h>

/* Minimum wire size of one value of each TType; 0 marks an invalid type. */
static const uint8_t bin_min[17] = {
	[GALE_T_BOOL] = 1,   [GALE_T_BYTE] = 1,   [GALE_T_DOUBLE] = 8, [GALE_T_I16] = 2,  [GALE_T_I32] = 4,
	[GALE_T_I64] = 8,    [GALE_T_STRING] = 4, [GALE_T_STRUCT] = 1, [GALE_T_MAP] = 6,  [GALE_T_SET] = 5,
	[GALE_T_LIST] = 5,   [GALE_T_UUID] = 16,
};

/* Fixed wire size of a type, 0 when variable. */
static const uint8_t bin_fixed[17] = {
	[GALE_T_BOOL] = 1, [GALE_T_BYTE] = 1, [GALE_T_DOUBLE] = 8, [GALE_T_I16] = 2,
	[GALE_T_I32] = 4,  [GALE_T_I64] = 8,  [GALE_T_UUID] = 16,
};

int
gale_binary__container_check(struct gale_codec_reader *r, int32_t count, uint8_t t1, uint8_t t2)
{
	uint64_t need;
	unsigned min = 0;

	if (count < 0)
		return gale_codec_reader_fail(r, GALE_CODEC_E_NEG_LENGTH);
	if (count > 0) {
		if (t1 > GALE_T_UUID || bin_min[t1] == 0)
			return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
		min = bin_min[t1];
		if (t2 != GALE_T_STOP) {
			if (t2 > GALE_T_UUID || bin_min[t2] == 0)
				return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
			min += bin_min[t2];
		}
	}
	if ((uint32_t)count > r->limits.max_container)
		return gale_codec_reader_fail(r, GALE_CODEC_E_CONTAINER_LIMIT);
	if (r->depth >= r->limits.max_depth)
		return gale_codec_reader_fail(r, GALE_CODEC_E_DEPTH_LIMIT);
	need = (uint64_t)(uint32_t)count * min;
	if (r->final && need > (uint64_t)(r->end - r->cur) && need > gale_codec_reader_remaining(r))
		return gale_codec_reader_fail(r, GALE_CODEC_E_PAST_END);
	r->depth++;
	return 0;
}

int
gale_binary__read_message_begin(struct gale_codec_reader *r, struct gale_codec_bytes *name, uint8_t *type,
				int32_t *seqid)
{
	int32_t v;
	int rc;

	if ((rc = gale_binary_read_i32(r, &v)) != 0)
		return rc;
	if (v < 0) {
		if (((uint32_t)v & GALE_BINARY_VERSION_MASK) != GALE_BINARY_VERSION_1)
			return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_VERSION);
		*type = (uint8_t)((uint32_t)v & 0xff);
		if ((rc = gale_binary_read_string(r, name)) != 0)
			return rc;
	} else {
		/* Old non-strict: v is the name's length. */
		if ((uint32_t)v > r->limits.max_string)
			return gale_codec_reader_fail(r, GALE_CODEC_E_STRING_LIMIT);
		if ((rc = gale_codec_read_view(r, (size_t)v, name)) != 0 || (rc = gale_codec_read_u8(r, type)) != 0)
			return rc;
		r->nonstrict = 1;
	}
	if ((rc = gale_binary_read_i32(r, seqid)) != 0)
		return rc;
	if (*type < GALE_MSG_CALL || *type > GALE_MSG_ONEWAY)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_MSG_TYPE);
	return 0;
}

int
gale_binary__skip_message_begin(struct gale_codec_reader *r)
{
	int32_t v, len, seqid;
	uint8_t type;
	int rc;

	if ((rc = gale_binary_read_i32(r, &v)) != 0)
		return rc;
	if (v < 0) {
		if (((uint32_t)v & GALE_BINARY_VERSION_MASK) != GALE_BINARY_VERSION_1)
			return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_VERSION);
		type = (uint8_t)((uint32_t)v & 0xff);
		if ((rc = gale_binary_read_i32(r, &len)) != 0)
			return rc;
		if (len < 0)
			return gale_codec_reader_fail(r, GALE_CODEC_E_NEG_LENGTH);
	} else {
		len = v;
	}
	if ((uint32_t)len > r->limits.max_string)
		return gale_codec_reader_fail(r, GALE_CODEC_E_STRING_LIMIT);
	if ((rc = gale_codec_skip_raw(r, (size_t)len)) != 0)
		return rc;
	if (v >= 0 && (rc = gale_codec_read_u8(r, &type)) != 0)
		return rc;
	if ((rc = gale_binary_read_i32(r, &seqid)) != 0)
		return rc;
	if (type < GALE_MSG_CALL || type > GALE_MSG_ONEWAY)
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_MSG_TYPE);
	return 0;
}

int
gale_binary_skip(struct gale_codec_reader *r, uint8_t type)
{
	uint8_t t1, t2;
	uint32_t n, i;
	int16_t id;
	int32_t len;
	int rc;

	switch (type) {
	case GALE_T_BOOL:
	case GALE_T_BYTE:
	case GALE_T_I16:
	case GALE_T_I32:
	case GALE_T_I64:
	case GALE_T_DOUBLE:
	case GALE_T_UUID:
		return gale_codec_skip_raw(r, bin_fixed[type]);
	case GALE_T_STRING:
		if ((rc = gale_binary_read_i32(r, &len)) != 0)
			return rc;
		if (len < 0)
			return gale_codec_reader_fail(r, GALE_CODEC_E_NEG_LENGTH);
		if ((uint32_t)len > r->limits.max_string)
			return gale_codec_reader_fail(r, GALE_CODEC_E_STRING_LIMIT);
		return gale_codec_skip_raw(r, (size_t)len);
	case GALE_T_STRUCT:
		if ((rc = gale_binary_read_struct_begin(r)) != 0)
			return rc;
		for (;;) {
			if ((rc = gale_binary_read_field_begin(r, &t1, &id)) != 0)
				return rc;
			if (t1 == GALE_T_STOP)
				break;
			if ((rc = gale_binary_skip(r, t1)) != 0)
				return rc;
		}
		return gale_binary_read_struct_end(r);
	case GALE_T_LIST:
	case GALE_T_SET:
		if ((rc = gale_binary_read_list_begin(r, &t1, &n)) != 0)
			return rc;
		if (n != 0 && bin_fixed[t1] != 0) {
			if ((rc = gale_codec_skip_raw(r, (size_t)n * bin_fixed[t1])) != 0)
				return rc;
		} else {
			for (i = 0; i < n; i++) {
				if ((rc = gale_binary_skip(r, t1)) != 0)
					return rc;
			}
		}
		return gale_binary_read_list_end(r);
	case GALE_T_MAP:
		if ((rc = gale_binary_read_map_begin(r, &t1, &t2, &n)) != 0)
			return rc;
		for (i = 0; i < n; i++) {
			if ((rc = gale_binary_skip(r, t1)) != 0 || (rc = gale_binary_skip(r, t2)) != 0)
				return rc;
		}
		return gale_binary_read_map_end(r);
	default:
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
	}
}

int
gale_binary__write_message_begin(struct gale_codec_writer *w, const char *name, size_t name_len, uint8_t type,
				 int32_t seqid)
{
	int rc;

	if (!w->nonstrict) {
		if ((rc = gale_binary_write_i32(w, (int32_t)(GALE_BINARY_VERSION_1 | type))) != 0 ||
		    (rc = gale_binary_write_string(w, name, name_len)) != 0)
			return rc;
	} else {
		if ((rc = gale_binary_write_string(w, name, name_len)) != 0 ||
		    (rc = gale_codec_write_u8(w, type)) != 0)
			return rc;
	}
	return gale_binary_write_i32(w, seqid);
}
