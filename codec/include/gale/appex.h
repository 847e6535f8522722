/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/appex.h: TApplicationException, the error a Thrift server sends in place of a reply.
 *
 * On the wire it is an ordinary struct { 1: string message, 2: i32 type } inside an envelope of type EXCEPTION
 * (3) that carries the request's method name and seqid. The error table is one X-macro, GALE_APPEX_TYPES, with the
 * type numbers Apache Thrift and Kitex use, so the runtime's RPC error table can map onto it and print it.
 * Encode/decode go through <gale/proto.h> because the protocol is the connection's, chosen at run time.
 */
#ifndef GALE_APPEX_H
#define GALE_APPEX_H

#include <stddef.h>
#include <stdint.h>

#include <gale/codec.h>
#include <gale/proto.h>

/* X(name, wire value, text) */
#define GALE_APPEX_TYPES(X)                                                                                    \
	X(UNKNOWN, 0, "unknown application exception")                                                         \
	X(UNKNOWN_METHOD, 1, "unknown method")                                                                  \
	X(INVALID_MESSAGE_TYPE, 2, "invalid message type")                                                      \
	X(WRONG_METHOD_NAME, 3, "wrong method name")                                                            \
	X(BAD_SEQUENCE_ID, 4, "bad sequence id")                                                                \
	X(MISSING_RESULT, 5, "missing result")                                                                  \
	X(INTERNAL_ERROR, 6, "internal error")                                                                  \
	X(PROTOCOL_ERROR, 7, "protocol error")                                                                  \
	X(INVALID_TRANSFORM, 8, "invalid transform")                                                            \
	X(INVALID_PROTOCOL, 9, "invalid protocol")                                                              \
	X(UNSUPPORTED_CLIENT_TYPE, 10, "unsupported client type")

enum gale_appex_type {
#define GALE__APPEX_ENUM(name, val, text) GALE_APPEX_##name = val,
	GALE_APPEX_TYPES(GALE__APPEX_ENUM)
#undef GALE__APPEX_ENUM
};

/** A decoded or to-be-encoded exception. message is a view (decode) or borrowed (encode). */
struct gale_appex {
	struct gale_codec_bytes message; /**< field 1 (absent on the wire: len 0) */
	int32_t type;                    /**< field 2, enum gale_appex_type (absent: GALE_APPEX_UNKNOWN) */
};

/** A static string for a type (also for values outside the table). */
const char *
gale_appex_type_str(int type);

/** The exception type a codec failure reason should be answered with (PROTOCOL_ERROR, INVALID_TRANSFORM, ...). */
int
gale_appex_type_from_reason(int codec_reason);

/** Writes the exception struct (no envelope). Returns 0 or -1 with w->reason. */
int
gale_appex_write(struct gale_codec_writer *w, const struct gale_proto_ops *ops, const struct gale_appex *ex);

/** Writes a whole EXCEPTION message: envelope (borrows method), struct, end. */
int
gale_appex_write_message(struct gale_codec_writer *w, const struct gale_proto_ops *ops, const char *method,
			 size_t method_len, int32_t seqid, const struct gale_appex *ex);

/** Reads the exception struct (after the envelope); unknown fields are skipped. 0, -2 or -1 (r->reason). */
int
gale_appex_read(struct gale_codec_reader *r, const struct gale_proto_ops *ops, struct gale_appex *ex);

#endif /* GALE_APPEX_H */
