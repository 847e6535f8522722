/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/proto.h: a protocol chosen at run time, for the generic paths only.
 *
 * Generated code calls gale_binary_* or gale_compact_* by name (straight-line, inlined). The runtime, the framing
 * layer and TApplicationException do not know the protocol until a connection's first bytes arrive, so they go
 * through this table of function pointers instead: an envelope, a skip, and the handful of struct calls a
 * TApplicationException needs. An indirect call per envelope is noise next to a frame; an indirect call per field
 * (Apache Thrift's design) is not, which is why the table stops here.
 */
#ifndef GALE_PROTO_H
#define GALE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <gale/codec.h>

/** The operations of one protocol; see <gale/binary.h> for the meaning of each. */
struct gale_proto_ops {
	enum gale_proto id; /**< GALE_PROTO_BINARY or GALE_PROTO_COMPACT */
	const char *name;   /**< "binary" or "compact" */
	int (*read_message_begin)(struct gale_codec_reader *r, struct gale_codec_bytes *name, uint8_t *type,
				  int32_t *seqid);
	int (*skip)(struct gale_codec_reader *r, uint8_t type);
	int (*read_struct_begin)(struct gale_codec_reader *r);
	int (*read_struct_end)(struct gale_codec_reader *r);
	int (*read_field_begin)(struct gale_codec_reader *r, uint8_t *type, int16_t *id);
	int (*read_i32)(struct gale_codec_reader *r, int32_t *v);
	int (*read_string)(struct gale_codec_reader *r, struct gale_codec_bytes *out);
	int (*write_message_begin)(struct gale_codec_writer *w, const char *name, size_t name_len, uint8_t type,
				   int32_t seqid);
	int (*write_struct_begin)(struct gale_codec_writer *w);
	int (*write_struct_end)(struct gale_codec_writer *w);
	int (*write_field_begin)(struct gale_codec_writer *w, uint8_t type, int16_t id);
	int (*write_field_stop)(struct gale_codec_writer *w);
	int (*write_i32)(struct gale_codec_writer *w, int32_t v);
	int (*write_string)(struct gale_codec_writer *w, const void *p, size_t len);
};

/** The table for `proto`, or NULL for an unknown id. */
const struct gale_proto_ops *
gale_proto_ops(int proto);

/**
 * Skips one whole message (envelope and its struct) from the reader: used to find where an unframed (Buffered)
 * message ends. Returns 0 with the reader just past it, -2 when it has not all arrived, -1 when malformed.
 */
int
gale_proto_skip_message(const struct gale_proto_ops *ops, struct gale_codec_reader *r);

#endif /* GALE_PROTO_H */
