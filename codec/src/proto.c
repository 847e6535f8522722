/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto.c: the run-time protocol table of <gale/proto.h>. The entries wrap the inline functions of
 * <gale/binary.h> and <gale/compact.h> so each has one address; only generic code (framing, skip of a whole
 * message, TApplicationException) pays for the indirect call.
 */
#include <stddef.h>

#include <gale/binary.h>
#include <gale/compact.h>
#include <gale/proto.h>

#define GALE__WRAP(proto)                                                                                      \
	static int proto##_rsb(struct gale_codec_reader *r)                                                    \
	{                                                                                                      \
		return gale_##proto##_read_struct_begin(r);                                                    \
	}                                                                                                      \
	static int proto##_rse(struct gale_codec_reader *r)                                                    \
	{                                                                                                      \
		return gale_##proto##_read_struct_end(r);                                                      \
	}                                                                                                      \
	static int proto##_rfb(struct gale_codec_reader *r, uint8_t *t, int16_t *id)                           \
	{                                                                                                      \
		return gale_##proto##_read_field_begin(r, t, id);                                              \
	}                                                                                                      \
	static int proto##_ri32(struct gale_codec_reader *r, int32_t *v)                                       \
	{                                                                                                      \
		return gale_##proto##_read_i32(r, v);                                                          \
	}                                                                                                      \
	static int proto##_rstr(struct gale_codec_reader *r, struct gale_codec_bytes *b)                       \
	{                                                                                                      \
		return gale_##proto##_read_string(r, b);                                                       \
	}                                                                                                      \
	static int proto##_wsb(struct gale_codec_writer *w)                                                    \
	{                                                                                                      \
		return gale_##proto##_write_struct_begin(w);                                                   \
	}                                                                                                      \
	static int proto##_wse(struct gale_codec_writer *w)                                                    \
	{                                                                                                      \
		return gale_##proto##_write_struct_end(w);                                                     \
	}                                                                                                      \
	static int proto##_wfb(struct gale_codec_writer *w, uint8_t t, int16_t id)                             \
	{                                                                                                      \
		return gale_##proto##_write_field_begin(w, t, id);                                             \
	}                                                                                                      \
	static int proto##_wstop(struct gale_codec_writer *w)                                                  \
	{                                                                                                      \
		return gale_##proto##_write_field_stop(w);                                                     \
	}                                                                                                      \
	static int proto##_wi32(struct gale_codec_writer *w, int32_t v)                                        \
	{                                                                                                      \
		return gale_##proto##_write_i32(w, v);                                                         \
	}                                                                                                      \
	static int proto##_wstr(struct gale_codec_writer *w, const void *p, size_t n)                          \
	{                                                                                                      \
		return gale_##proto##_write_string(w, p, n);                                                   \
	}

GALE__WRAP(binary)
GALE__WRAP(compact)

#define GALE__OPS(proto, pid)                                                                                  \
	{                                                                                                      \
		.id = pid,                                                                                     \
		.name = #proto,                                                                                \
		.read_message_begin = gale_##proto##_read_message_begin,                                       \
		.skip = gale_##proto##_skip,                                                                   \
		.read_struct_begin = proto##_rsb,                                                              \
		.read_struct_end = proto##_rse,                                                                \
		.read_field_begin = proto##_rfb,                                                               \
		.read_i32 = proto##_ri32,                                                                      \
		.read_string = proto##_rstr,                                                                   \
		.write_message_begin = gale_##proto##_write_message_begin,                                     \
		.write_struct_begin = proto##_wsb,                                                             \
		.write_struct_end = proto##_wse,                                                               \
		.write_field_begin = proto##_wfb,                                                              \
		.write_field_stop = proto##_wstop,                                                             \
		.write_i32 = proto##_wi32,                                                                     \
		.write_string = proto##_wstr,                                                                  \
	}

static const struct gale_proto_ops binary_ops = GALE__OPS(binary, GALE_PROTO_BINARY);
static const struct gale_proto_ops compact_ops = GALE__OPS(compact, GALE_PROTO_COMPACT);

const struct gale_proto_ops *
gale_proto_ops(int proto)
{
	switch (proto) {
	case GALE_PROTO_BINARY:
		return &binary_ops;
	case GALE_PROTO_COMPACT:
		return &compact_ops;
	default:
		return NULL;
	}
}

int
gale_proto_skip_message(const struct gale_proto_ops *ops, struct gale_codec_reader *r)
{
	int rc;

	/* The envelope is skipped without taking a view of the name, so no arena is needed to find a message end. */
	if (ops->id == GALE_PROTO_COMPACT)
		rc = gale_compact__skip_message_begin(r);
	else
		rc = gale_binary__skip_message_begin(r);
	if (rc != 0)
		return rc;
	return ops->skip(r, GALE_T_STRUCT);
}
