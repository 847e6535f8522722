/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frame.c: transport detection, Framed and Buffered framing, and the decode/encode entry points that dispatch to
 * the header transports (ttheader.c, theader.c). Layouts are documented in <gale/frame.h>.
 *
 * Every decoder here reads through a struct gale_codec_reader over the caller's segments, so the segment-boundary
 * handling, the -2/-1 split and the "fail without moving" rule come from codec.c and hold at every byte. The order
 * of checks is fixed: the length word is compared with max_frame before anything else is looked at, and nothing
 * past the length word is parsed until the whole frame has arrived (gale_codec_reader_bound()), so a header can
 * never be half-applied. Buffered has no length: its end is where a streaming skip of the message ends; while the
 * skip says "need more", the bytes already present are compared with max_frame so a peer cannot make us buffer an
 * endless message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gale/binary.h>
#include <gale/compact.h>
#include <gale/frame.h>
#include <gale/proto.h>

#include "frame_priv.h"

const char *
gale_frame_transport_str(int transport)
{
	switch (transport) {
	case GALE_TRANSPORT_FRAMED:
		return "framed";
	case GALE_TRANSPORT_BUFFERED:
		return "buffered";
	case GALE_TRANSPORT_TTHEADER:
		return "ttheader";
	case GALE_TRANSPORT_THEADER:
		return "theader";
	default:
		return "none";
	}
}

static int
is_strict_binary(const uint8_t *p)
{
	return p[0] == 0x80 && p[1] == 0x01;
}

static int
is_compact(const uint8_t *p)
{
	return p[0] == GALE_COMPACT_PROTOCOL_ID && (p[1] & GALE_COMPACT_VERSION_MASK) == GALE_COMPACT_VERSION;
}

/*
 * Old non-strict binary at p[0..n): i32 name length (1..255), a printable name, a message type 1..4.
 * Returns 1 yes, 0 no, -2 cannot tell yet.
 */
static int
is_nonstrict(const uint8_t *p, size_t n)
{
	uint32_t len, i;

	if (n < 4)
		return -2;
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (len == 0 || len > 255)
		return 0;
	for (i = 0; i < len && 4 + i < n; i++) {
		if (p[4 + i] < 0x20 || p[4 + i] > 0x7e)
			return 0;
	}
	if (n < 4 + len + 1)
		return -2;
	return p[4 + len] >= GALE_MSG_CALL && p[4 + len] <= GALE_MSG_ONEWAY;
}

/* Protocol of a message starting at p[0..n): 0 decided, -2 need more, -1 unknown. */
static int
detect_proto(const uint8_t *p, size_t n, uint8_t *proto, uint8_t *nonstrict)
{
	int ns;

	if (n < 2)
		return GALE_CODEC_NEED_MORE;
	*nonstrict = 0;
	if (is_strict_binary(p)) {
		*proto = GALE_PROTO_BINARY;
		return 0;
	}
	if (is_compact(p)) {
		*proto = GALE_PROTO_COMPACT;
		return 0;
	}
	ns = is_nonstrict(p, n);
	if (ns == 1) {
		*proto = GALE_PROTO_BINARY;
		*nonstrict = 1;
		return 0;
	}
	return ns == 0 ? GALE_CODEC_MALFORMED : GALE_CODEC_NEED_MORE;
}

#define DETECT_PEEK 300 /* enough for a non-strict name of 255 bytes at offset 4 */

int
gale_frame_detect(const struct gale_codec_seg *segs, unsigned nseg, uint8_t *transport, uint8_t *proto,
		  uint8_t *nonstrict)
{
	struct gale_codec_reader r;
	uint8_t p[DETECT_PEEK];
	size_t n;
	int rc, rc4;
	uint16_t magic;

	gale_codec_reader_init(&r, segs, nseg, NULL, NULL);
	n = gale_codec_reader_peek(&r, p, sizeof(p));
	*nonstrict = 0;
	/* Unframed: the message starts at byte 0. A frame length under 16 MiB starts with 0x00 or 0x01. */
	if (n >= 2 && (is_strict_binary(p) || is_compact(p))) {
		*transport = GALE_TRANSPORT_BUFFERED;
		return detect_proto(p, n, proto, nonstrict);
	}
	if (n < 8)
		return GALE_CODEC_NEED_MORE;
	magic = (uint16_t)(p[4] << 8 | p[5]);
	if (magic == GALE_TTHEADER_MAGIC || magic == GALE_THEADER_MAGIC) {
		*transport = magic == GALE_TTHEADER_MAGIC ? GALE_TRANSPORT_TTHEADER : GALE_TRANSPORT_THEADER;
		if (n < 15)
			return GALE_CODEC_NEED_MORE;
		/* Protocol id: a byte (TTHeader) or a varint (THeader) at offset 14; the header decoder checks it. */
		*proto = p[14];
		return 0;
	}
	if (is_strict_binary(p + 4) || is_compact(p + 4)) {
		*transport = GALE_TRANSPORT_FRAMED;
		return detect_proto(p + 4, n - 4, proto, nonstrict);
	}
	/* Old non-strict binary: unframed at 0 or framed at 4. */
	rc = is_nonstrict(p, n);
	if (rc == 1) {
		*transport = GALE_TRANSPORT_BUFFERED;
		*proto = GALE_PROTO_BINARY;
		*nonstrict = 1;
		return 0;
	}
	rc4 = is_nonstrict(p + 4, n - 4);
	if (rc4 == 1) {
		*transport = GALE_TRANSPORT_FRAMED;
		*proto = GALE_PROTO_BINARY;
		*nonstrict = 1;
		return 0;
	}
	if ((rc == -2 || rc4 == -2) && n < sizeof(p))
		return GALE_CODEC_NEED_MORE;
	return GALE_CODEC_MALFORMED;
}

int
gale_frame__fail(struct gale_frame *f, struct gale_codec_reader *r, int rc)
{
	if (rc == GALE_CODEC_NEED_MORE)
		return rc;
	f->reason = r->reason;
	return GALE_CODEC_MALFORMED;
}

/* Framed: [u32 len][message]. */
static long
decode_framed(struct gale_codec_reader *r, struct gale_frame *f)
{
	uint32_t len;
	uint8_t p[DETECT_PEEK];
	size_t n;
	int rc;

	if ((rc = gale_codec_read_raw(r, &len, 4)) != 0)
		return gale_frame__fail(f, r, rc);
	len = gale_codec_be32(len);
	if (len > r->limits.max_frame) {
		f->reason = GALE_CODEC_E_FRAME_LIMIT;
		return GALE_CODEC_MALFORMED;
	}
	if (len == 0) {
		f->reason = GALE_CODEC_E_FRAME_SIZE;
		return GALE_CODEC_MALFORMED;
	}
	if ((rc = gale_codec_reader_bound(r, len)) != 0)
		return rc;
	n = gale_codec_reader_peek(r, p, sizeof(p));
	if (detect_proto(p, n, &f->proto, &f->nonstrict) != 0) {
		f->reason = GALE_CODEC_E_UNKNOWN_TRANSPORT;
		return GALE_CODEC_MALFORMED;
	}
	f->payload_off = 4;
	f->payload_len = len;
	f->frame_len = 4 + (size_t)len;
	return (long)f->frame_len;
}

/* Buffered: the message alone; its end is where a skip of it ends. */
static long
decode_buffered(struct gale_codec_reader *r, struct gale_frame *f)
{
	const struct gale_proto_ops *ops;
	uint8_t p[DETECT_PEEK];
	size_t n;
	int rc;

	n = gale_codec_reader_peek(r, p, sizeof(p));
	rc = detect_proto(p, n, &f->proto, &f->nonstrict);
	if (rc == GALE_CODEC_NEED_MORE && n < sizeof(p))
		return rc;
	if (rc != 0) {
		f->reason = GALE_CODEC_E_UNKNOWN_TRANSPORT;
		return GALE_CODEC_MALFORMED;
	}
	ops = gale_proto_ops(f->proto);
	rc = gale_proto_skip_message(ops, r);
	if (rc == GALE_CODEC_NEED_MORE) {
		if (gale_codec_reader_offset(r) + gale_codec_reader_remaining(r) >= r->limits.max_frame) {
			f->reason = GALE_CODEC_E_FRAME_LIMIT;
			return GALE_CODEC_MALFORMED;
		}
		return rc;
	}
	if (rc != 0)
		return gale_frame__fail(f, r, rc);
	f->payload_off = 0;
	f->payload_len = gale_codec_reader_offset(r);
	f->frame_len = f->payload_len;
	if (f->frame_len > r->limits.max_frame) {
		f->reason = GALE_CODEC_E_FRAME_LIMIT;
		return GALE_CODEC_MALFORMED;
	}
	return (long)f->frame_len;
}

long
gale_frame_decode(const struct gale_codec_seg *segs, unsigned nseg, const struct gale_codec_limits *limits,
		  struct gale_arena *arena, struct gale_frame *f)
{
	struct gale_codec_reader r;
	int rc;

	f->reason = GALE_CODEC_E_OK;
	f->n_intkv = 0;
	f->n_strkv = 0;
	f->intkv = NULL;
	f->strkv = NULL;
	f->acl_token.ptr = NULL;
	f->acl_token.len = 0;
	f->n_transforms = 0;
	if (f->transport == GALE_TRANSPORT_NONE) {
		rc = gale_frame_detect(segs, nseg, &f->transport, &f->proto, &f->nonstrict);
		if (rc != 0) {
			f->transport = GALE_TRANSPORT_NONE;
			if (rc == GALE_CODEC_MALFORMED)
				f->reason = GALE_CODEC_E_UNKNOWN_TRANSPORT;
			return rc;
		}
	}
	gale_codec_reader_init(&r, segs, nseg, limits, arena);
	switch (f->transport) {
	case GALE_TRANSPORT_FRAMED:
		return decode_framed(&r, f);
	case GALE_TRANSPORT_BUFFERED:
		return decode_buffered(&r, f);
	case GALE_TRANSPORT_TTHEADER:
	case GALE_TRANSPORT_THEADER:
		return gale_frame__decode_header(&r, f, arena);
	default:
		f->reason = GALE_CODEC_E_UNKNOWN_TRANSPORT;
		return GALE_CODEC_MALFORMED;
	}
}

int
gale_frame_payload_reader(const struct gale_frame *f, const struct gale_codec_seg *segs, unsigned nseg,
			  const struct gale_codec_limits *limits, struct gale_arena *arena,
			  struct gale_codec_reader *r)
{
	int rc;

	gale_codec_reader_init(r, segs, nseg, limits, arena);
	if ((rc = gale_codec_skip_raw(r, f->payload_off)) != 0)
		return rc;
	return gale_codec_reader_bound(r, f->payload_len);
}

int
gale_frame_encode_begin(struct gale_codec_writer *w, struct gale_frame *f)
{
	f->start = gale_codec_writer_offset(w);
	w->nonstrict = f->nonstrict;
	switch (f->transport) {
	case GALE_TRANSPORT_FRAMED:
		return gale_codec_writer_reserve(w, 4, &f->len_mark);
	case GALE_TRANSPORT_BUFFERED:
		return 0;
	case GALE_TRANSPORT_TTHEADER:
	case GALE_TRANSPORT_THEADER:
		return gale_frame__encode_header(w, f);
	default:
		return gale_codec_writer_fail(w, GALE_CODEC_E_UNKNOWN_TRANSPORT);
	}
}

int
gale_frame_encode_end(struct gale_codec_writer *w, struct gale_frame *f, const struct gale_codec_limits *limits)
{
	size_t len = gale_codec_writer_offset(w) - f->start;
	uint32_t max = limits != NULL && limits->max_frame != 0 ? limits->max_frame : GALE_CODEC_DEFAULT_MAX_FRAME;
	uint32_t be;

	if (f->transport == GALE_TRANSPORT_BUFFERED)
		return len > max ? gale_codec_writer_fail(w, GALE_CODEC_E_FRAME_LIMIT) : 0;
	if (len - 4 > max)
		return gale_codec_writer_fail(w, GALE_CODEC_E_FRAME_LIMIT);
	be = gale_codec_be32((uint32_t)(len - 4));
	gale_codec_writer_patch(w, &f->len_mark, &be, 4);
	return 0;
}
