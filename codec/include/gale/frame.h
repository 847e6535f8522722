/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/frame.h: transports (framing) and their detection from a connection's first bytes.
 *
 * Four transports carry a Thrift message (Binary or Compact):
 *   Framed    [u32 length][message]
 *   Buffered  [message]                  the end is found by a streaming skip of the message (gale_proto_skip_message)
 *   TTHeader  Kitex's header transport, magic 0x1000 (layout below; codec/src/header.c, ttheader.c)
 *   THeader   Apache/fbthrift header transport, magic 0x0FFF (codec/src/header.c, theader.c)
 *
 * TTHeader (all big-endian; offsets from the frame start):
 *    0 u32 LENGTH       bytes after this field
 *    4 u16 MAGIC        0x1000
 *    6 u16 FLAGS
 *    8 u32 SEQID
 *   12 u16 HEADER SIZE  header bytes / 4, counted from offset 14 to the payload
 *   14 u8  PROTOCOL ID  0 binary, 2 compact
 *   15 u8  NUM TRANSFORMS, then that many u8 transform ids
 *      then info blocks until the header ends, each a u8 id:
 *        0x00 padding (one byte)
 *        0x01 string key/value: u16 count, then count x (u16 len, key, u16 len, value)
 *        0x10 int key/value:    u16 count, then count x (u16 key, u16 len, value)
 *        0x11 ACL token:        u16 len, token
 *   14+4*HEADER SIZE: the payload, one unframed message.
 *
 * Detection (gale_frame_detect(), as Kitex's server does): bytes 4..5 == 0x1000 -> TTHeader; == 0x0FFF ->
 * THeader; bytes 4..7 a strict binary version word or bytes 4..5 a compact id/version -> Framed; bytes 0..3 a
 * strict binary version word or bytes 0..1 a compact id/version -> Buffered. Old non-strict binary has no marker:
 * it is recognised, Buffered or Framed, by a plausible envelope (a name length, a printable name, a message
 * type 1..4) at offset 0 or 4.
 *
 * Decoders follow the house contract: gale_frame_decode() returns the frame's total bytes (consumed), -2 until the
 * whole frame has arrived, -1 when malformed with f->reason set. The frame size limit is checked on the length
 * word, before anything else is read. Header strings are views into the segments or copies in the arena, and the
 * key/value arrays come from the arena after their counts were checked against the header's size; with a NULL
 * arena the headers are validated but not kept (n_intkv/n_strkv 0).
 *
 * Encoding: fill a struct gale_frame (transport, proto, seqid, flags, headers), call gale_frame_encode_begin(),
 * write the message with the protocol functions, then gale_frame_encode_end(), which patches the lengths.
 */
#ifndef GALE_FRAME_H
#define GALE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <gale/codec.h>

enum gale_transport {
	GALE_TRANSPORT_NONE = 0, /**< decode: detect */
	GALE_TRANSPORT_FRAMED = 1,
	GALE_TRANSPORT_BUFFERED = 2,
	GALE_TRANSPORT_TTHEADER = 3,
	GALE_TRANSPORT_THEADER = 4,
};

#define GALE_TTHEADER_MAGIC 0x1000u
#define GALE_THEADER_MAGIC 0x0fffu

/** TTHeader info ids. */
enum gale_ttheader_info {
	GALE_TTHEADER_INFO_PADDING = 0x00,
	GALE_TTHEADER_INFO_KV = 0x01,
	GALE_TTHEADER_INFO_INTKV = 0x10,
	GALE_TTHEADER_INFO_ACL_TOKEN = 0x11,
};

/** TTHeader integer keys as Kitex assigns them (transmeta). */
enum gale_ttheader_key {
	GALE_TTHEADER_TRANSPORT_TYPE = 1,
	GALE_TTHEADER_LOG_ID = 2,
	GALE_TTHEADER_FROM_SERVICE = 3,
	GALE_TTHEADER_FROM_CLUSTER = 4,
	GALE_TTHEADER_FROM_IDC = 5,
	GALE_TTHEADER_TO_SERVICE = 6,
	GALE_TTHEADER_TO_CLUSTER = 7,
	GALE_TTHEADER_TO_IDC = 8,
	GALE_TTHEADER_TO_METHOD = 9,
	GALE_TTHEADER_ENV = 10,
	GALE_TTHEADER_DEST_ADDRESS = 11,
	GALE_TTHEADER_RPC_TIMEOUT = 12,
	GALE_TTHEADER_READ_TIMEOUT = 13,
	GALE_TTHEADER_RING_HASH_KEY = 14,
	GALE_TTHEADER_DDP_TAG = 15,
	GALE_TTHEADER_WITH_MESH_HEADER = 16,
	GALE_TTHEADER_CONNECT_TIMEOUT = 17,
	GALE_TTHEADER_SPAN_CONTEXT = 18,
	GALE_TTHEADER_SHORT_CONNECTION = 19,
	GALE_TTHEADER_FROM_METHOD = 20,
	GALE_TTHEADER_STRESS_TAG = 21,
	GALE_TTHEADER_MSG_TYPE = 22,
};

/** THeader info types (varint). Unknown ones end the info section, which is then skipped. */
#define GALE_THEADER_INFO_KV 0x01u

/** A string-keyed header (TTHeader 0x01 info, THeader KV info). */
struct gale_frame_kv {
	struct gale_codec_bytes key;
	struct gale_codec_bytes val;
};

/** An integer-keyed header (TTHeader 0x10 info). */
struct gale_frame_intkv {
	uint16_t key; /**< enum gale_ttheader_key */
	struct gale_codec_bytes val;
};

#define GALE_FRAME_MAX_TRANSFORMS 4

/** A frame's transport header, decoded or to encode. Zero it, then fill what you need. */
struct gale_frame {
	uint8_t transport;  /**< enum gale_transport */
	uint8_t proto;      /**< enum gale_proto of the payload */
	uint8_t nonstrict;  /**< binary payload uses the old non-strict envelope */
	uint8_t reason;     /**< decode: enum gale_codec_reason of a failure */
	uint16_t flags;     /**< TTHeader/THeader FLAGS */
	int32_t seqid;      /**< TTHeader/THeader SEQID (the envelope has its own) */
	size_t frame_len;   /**< decode: total bytes of the frame, = the value returned */
	size_t payload_off; /**< decode: offset of the message from the frame start */
	size_t payload_len; /**< decode: bytes of the message */
	const struct gale_frame_intkv *intkv; /**< TTHeader int headers (decode: arena; encode: borrowed) */
	const struct gale_frame_kv *strkv;    /**< string headers (decode: arena; encode: borrowed) */
	uint16_t n_intkv;
	uint16_t n_strkv;
	struct gale_codec_bytes acl_token;    /**< TTHeader ACL token (len 0: none) */
	uint8_t n_transforms;                 /**< decode: any non-zero is refused (BAD_TRANSFORM) */
	uint8_t transforms[GALE_FRAME_MAX_TRANSFORMS];
	struct gale_codec_mark len_mark;      /**< encode: the reserved length word */
	struct gale_codec_mark hsize_mark;    /**< encode: unused (header size is known up front) */
	size_t start;                         /**< encode: writer offset of the frame start */
};

/**
 * Detects transport and protocol from the first bytes. Borrows segs. Returns 0 with transport and proto (and
 * *nonstrict) set, -2 when too few bytes have arrived to tell, -1 (reason GALE_CODEC_E_UNKNOWN_TRANSPORT) when the
 * bytes match nothing.
 */
int
gale_frame_detect(const struct gale_codec_seg *segs, unsigned nseg, uint8_t *transport, uint8_t *proto,
		  uint8_t *nonstrict);

/**
 * Decodes one frame's transport header and finds the end of its message. Borrows segs (the frame starts at the
 * first byte) and the arena. If f->transport is GALE_TRANSPORT_NONE it is detected first (f->proto too);
 * otherwise f->transport is used as given (f->proto is still taken from the header or detected from the message).
 * Returns the frame's total bytes, -2 need more, -1 malformed (f->reason).
 */
long
gale_frame_decode(const struct gale_codec_seg *segs, unsigned nseg, const struct gale_codec_limits *limits,
		  struct gale_arena *arena, struct gale_frame *f);

/**
 * Sets up `r` to read the message of a frame decoded by gale_frame_decode() over the same segments: positioned at
 * the payload, bounded to it, final. Borrows segs and arena. Returns 0 or -1.
 */
int
gale_frame_payload_reader(const struct gale_frame *f, const struct gale_codec_seg *segs, unsigned nseg,
			  const struct gale_codec_limits *limits, struct gale_arena *arena,
			  struct gale_codec_reader *r);

/**
 * Writes the transport header of f (reserving its length word) and sets w->nonstrict from f->nonstrict, so a reply
 * answers in the request's kind. Borrows f's header strings until gale_frame_encode_end().
 */
int
gale_frame_encode_begin(struct gale_codec_writer *w, struct gale_frame *f);

/** Patches the length word; fails with FRAME_LIMIT when the frame exceeds max_frame (limits NULL: default). */
int
gale_frame_encode_end(struct gale_codec_writer *w, struct gale_frame *f, const struct gale_codec_limits *limits);

/** A static name for a transport ("framed", "buffered", "ttheader", "theader"). */
const char *
gale_frame_transport_str(int transport);

#endif /* GALE_FRAME_H */
