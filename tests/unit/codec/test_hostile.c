/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hostile: hostile input (acceptance 3). Each case is a byte string, the path that decodes it, optional
 * limits, and the exact reason the decoder must give with -1. Inputs are placed against a guard page; the arena
 * is checked afterwards so a hostile count or length cannot have made gale allocate beyond a small bound.
 *
 * Paths: FRAME runs the server's pipeline (detect, gale_frame_decode, then the message into a value tree through
 * a final reader), FORCE_* decodes with the transport given, MSG_* decodes a message body directly from a final
 * reader (binary or compact).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gale/binary.h>
#include <gale/compact.h>
#include <gale/frame.h>

#include "guard.h"
#include "tv.h"

enum path { FRAME, FORCE_THEADER, FORCE_TTHEADER, MSG_BINARY, MSG_COMPACT };

struct hcase {
	const char *name;
	enum path path;
	const uint8_t *in;
	size_t len;
	int reason;                    /**< expected enum gale_codec_reason */
	struct gale_codec_limits lim;  /**< zeros: defaults */
};

#define NOLIM {0, 0, 0, 0}
#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Binary CALL "m" seqid 0, then the body bytes. */
#define BIN_MSG 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'm', 0, 0, 0, 0
/* Compact CALL "m" seqid 0. */
#define CPT_MSG 0x82, 0x21, 0x00, 0x01, 'm'

static const struct hcase cases[] = {
	{"framed length over 16 MiB", FRAME, B(0x7f, 0xff, 0xff, 0xff, 0x80, 0x01, 0x00, 0x01), GALE_CODEC_E_FRAME_LIMIT, NOLIM},
	{"framed length huge (negative as i32)", FRAME, B(0xff, 0xff, 0xff, 0xf0, 0x80, 0x01, 0x00, 0x01),
	 GALE_CODEC_E_FRAME_LIMIT, NOLIM},
	{"framed length zero", FRAME, B(0, 0, 0, 0, 0x80, 0x01, 0x00, 0x01), GALE_CODEC_E_FRAME_SIZE, NOLIM},
	{"framed over a configured 64-byte limit", FRAME, B(0, 0, 0, 65, 0x80, 0x01, 0x00, 0x01),
	 GALE_CODEC_E_FRAME_LIMIT, {64, 0, 0, 0}},
	{"binary negative name length", FRAME, B(0, 0, 0, 12, 0x80, 0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0),
	 GALE_CODEC_E_NEG_LENGTH, NOLIM},
	{"binary name length past the frame", FRAME,
	 B(0, 0, 0, 12, 0x80, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x64, 0, 0, 0, 0), GALE_CODEC_E_PAST_END, NOLIM},
	{"binary string over the string limit", MSG_BINARY, B(BIN_MSG, 11, 0, 1, 0, 0, 0, 9, 'a'),
	 GALE_CODEC_E_STRING_LIMIT, {0, 8, 0, 0}},
	{"binary list count 2^31-1", MSG_BINARY, B(BIN_MSG, 15, 0, 1, 8, 0x7f, 0xff, 0xff, 0xff),
	 GALE_CODEC_E_CONTAINER_LIMIT, NOLIM},
	{"binary list count past the frame", MSG_BINARY, B(BIN_MSG, 15, 0, 1, 8, 0, 0, 0x03, 0xe8, 0, 0, 0, 1),
	 GALE_CODEC_E_PAST_END, NOLIM},
	{"binary list over a configured container limit", MSG_BINARY,
	 B(BIN_MSG, 15, 0, 1, 3, 0, 0, 0, 4, 1, 2, 3, 4, 0), GALE_CODEC_E_CONTAINER_LIMIT, {0, 0, 3, 0}},
	{"binary map negative count", MSG_BINARY, B(BIN_MSG, 13, 0, 1, 8, 8, 0x80, 0, 0, 0),
	 GALE_CODEC_E_NEG_LENGTH, NOLIM},
	{"binary list of unknown element type", MSG_BINARY, B(BIN_MSG, 15, 0, 1, 0x13, 0, 0, 0, 1, 0),
	 GALE_CODEC_E_BAD_TYPE, NOLIM},
	{"binary field of unknown type (skip path)", FRAME, B(BIN_MSG, 0x11, 0, 1, 0), GALE_CODEC_E_BAD_TYPE, NOLIM},
	{"binary bad version word", MSG_BINARY, B(0x80, 0x02, 0x00, 0x01, 0, 0, 0, 1, 'm', 0, 0, 0, 0, 0),
	 GALE_CODEC_E_BAD_VERSION, NOLIM},
	{"binary message type 5", MSG_BINARY, B(0x80, 0x01, 0x00, 0x05, 0, 0, 0, 1, 'm', 0, 0, 0, 0, 0),
	 GALE_CODEC_E_BAD_MSG_TYPE, NOLIM},
	{"binary struct depth over a configured 2", MSG_BINARY, B(BIN_MSG, 12, 0, 1, 12, 0, 1, 0, 0, 0),
	 GALE_CODEC_E_DEPTH_LIMIT, {0, 0, 0, 2}},
	{"compact varint of 11 bytes", MSG_COMPACT,
	 B(CPT_MSG, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0), GALE_CODEC_E_VARINT, NOLIM},
	{"compact 32-bit varint of 6 bytes", MSG_COMPACT, B(CPT_MSG, 0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0),
	 GALE_CODEC_E_VARINT, NOLIM},
	{"compact seqid varint too long", MSG_COMPACT, B(0x82, 0x21, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01, 'm', 0),
	 GALE_CODEC_E_VARINT, NOLIM},
	{"compact string length 2^32-1", MSG_COMPACT, B(0x82, 0x21, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 'm'),
	 GALE_CODEC_E_NEG_LENGTH, NOLIM},
	{"compact string length 2^31-1", MSG_COMPACT, B(0x82, 0x21, 0x00, 0xff, 0xff, 0xff, 0xff, 0x07, 'm'),
	 GALE_CODEC_E_STRING_LIMIT, NOLIM},
	{"compact name length past the frame", MSG_COMPACT, B(0x82, 0x21, 0x00, 0x20, 'm'), GALE_CODEC_E_PAST_END, NOLIM},
	{"compact bad protocol id", MSG_COMPACT, B(0x83, 0x21, 0x00, 0x01, 'm', 0), GALE_CODEC_E_BAD_VERSION, NOLIM},
	{"compact bad version", MSG_COMPACT, B(0x82, 0x22, 0x00, 0x01, 'm', 0), GALE_CODEC_E_BAD_VERSION, NOLIM},
	{"compact message type 5", MSG_COMPACT, B(0x82, 0xa1, 0x00, 0x01, 'm', 0), GALE_CODEC_E_BAD_MSG_TYPE, NOLIM},
	{"compact unknown field type 14", MSG_COMPACT, B(CPT_MSG, 0x1e, 0), GALE_CODEC_E_BAD_TYPE, NOLIM},
	{"compact unknown field type (skip path)", FRAME, B(CPT_MSG, 0x1e, 0), GALE_CODEC_E_BAD_TYPE, NOLIM},
	{"compact list count 2^31-1", MSG_COMPACT, B(CPT_MSG, 0x19, 0xf5, 0xff, 0xff, 0xff, 0xff, 0x07),
	 GALE_CODEC_E_CONTAINER_LIMIT, NOLIM},
	{"compact list count past the frame", MSG_COMPACT, B(CPT_MSG, 0x19, 0xf5, 0xe8, 0x07, 1, 2, 0),
	 GALE_CODEC_E_PAST_END, NOLIM},
	{"compact map count 2^32-1", MSG_COMPACT, B(CPT_MSG, 0x1b, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x55),
	 GALE_CODEC_E_NEG_LENGTH, NOLIM},
	{"compact map of unknown key type", MSG_COMPACT, B(CPT_MSG, 0x1b, 0x01, 0xe5, 0, 0, 0), GALE_CODEC_E_BAD_TYPE, NOLIM},
	{"ttheader frame length under 10", FRAME, B(0, 0, 0, 5, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	 GALE_CODEC_E_FRAME_SIZE, NOLIM},
	{"ttheader header size past the frame", FRAME,
	 B(0, 0, 0, 14, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0), GALE_CODEC_E_BAD_HEADER, NOLIM},
	{"ttheader unknown protocol id", FRAME, B(0, 0, 0, 14, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 5, 0, 0, 0),
	 GALE_CODEC_E_BAD_PROTOCOL, NOLIM},
	{"ttheader with a transform", FRAME, B(0, 0, 0, 14, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0),
	 GALE_CODEC_E_BAD_TRANSFORM, NOLIM},
	{"ttheader unknown info id", FRAME, B(0, 0, 0, 14, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x22, 0),
	 GALE_CODEC_E_BAD_INFO, NOLIM},
	{"ttheader kv count beyond the header", FRAME,
	 B(0, 0, 0, 18, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0x01, 0xff, 0xff, 0, 0, 0), GALE_CODEC_E_BAD_HEADER, NOLIM},
	{"ttheader string past the header", FRAME,
	 B(0, 0, 0, 18, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0x11, 0x00, 0x09, 'a', 0, 0), GALE_CODEC_E_BAD_HEADER, NOLIM},
	{"ttheader truncated int kv", FRAME,
	 B(0, 0, 0, 14, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x10, 0), GALE_CODEC_E_BAD_HEADER, NOLIM},
	{"theader magic expected, ttheader given", FORCE_THEADER,
	 B(0, 0, 0, 14, 0x10, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0), GALE_CODEC_E_BAD_MAGIC, NOLIM},
	{"ttheader magic expected, garbage given", FORCE_TTHEADER,
	 B(0, 0, 0, 14, 0x12, 0x34, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0), GALE_CODEC_E_BAD_MAGIC, NOLIM},
	{"theader unknown protocol id", FRAME, B(0, 0, 0, 14, 0x0f, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 5, 0, 0, 0),
	 GALE_CODEC_E_BAD_PROTOCOL, NOLIM},
	{"theader zlib transform", FRAME, B(0, 0, 0, 14, 0x0f, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0),
	 GALE_CODEC_E_BAD_TRANSFORM, NOLIM},
	{"theader kv string past the header", FRAME,
	 B(0, 0, 0, 18, 0x0f, 0xff, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 1, 1, 0x7f, 'a', 0, 0), GALE_CODEC_E_BAD_HEADER, NOLIM},
	{"theader varint runs past the header", FRAME,
	 B(0, 0, 0, 18, 0x0f, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0),
	 GALE_CODEC_E_BAD_HEADER, NOLIM},
	{"http request", FRAME, B('G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', '\r', '\n'),
	 GALE_CODEC_E_UNKNOWN_TRANSPORT, NOLIM},
	{"framed payload of unknown protocol", FRAME, B(0, 0, 0, 8, 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 0),
	 GALE_CODEC_E_PAST_END, NOLIM},
};

static uint8_t arena_mem[1 << 16];

/* Runs one case; returns the decoder's rc and leaves the reason in *reason and arena usage in *used. */
static int
run(const struct hcase *c, struct gale_test_guard *g, int *reason, size_t *used)
{
	struct gale_codec_seg seg;
	struct gale_arena arena;
	struct gale_codec_reader r;
	struct gale_test_tv_msg m;
	struct gale_frame f;
	long rc;
	int rci;

	seg.base = gale_test_guard_put(g, 0, c->in, c->len);
	seg.len = c->len;
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	*used = 0;
	if (c->path == MSG_BINARY || c->path == MSG_COMPACT) {
		gale_codec_reader_init(&r, &seg, 1, &c->lim, &arena);
		assert_int_equal(gale_codec_reader_bound(&r, c->len), 0);
		rci = gale_test_tv_read_msg(&r, c->path == MSG_BINARY ? GALE_PROTO_BINARY : GALE_PROTO_COMPACT, &arena,
					    &m);
		*reason = r.reason;
		*used = arena.used;
		return rci;
	}
	memset(&f, 0, sizeof(f));
	if (c->path == FORCE_THEADER)
		f.transport = GALE_TRANSPORT_THEADER;
	if (c->path == FORCE_TTHEADER)
		f.transport = GALE_TRANSPORT_TTHEADER;
	rc = gale_frame_decode(&seg, 1, &c->lim, &arena, &f);
	*reason = f.reason;
	*used = arena.used;
	if (rc < 0)
		return (int)rc;
	assert_int_equal(gale_frame_payload_reader(&f, &seg, 1, &c->lim, &arena, &r), 0);
	rci = gale_test_tv_read_msg(&r, f.proto, &arena, &m);
	*reason = r.reason;
	*used = arena.used;
	return rci;
}

static void
test_hostile_table(void **state)
{
	struct gale_test_guard g;
	size_t i, used;
	int rc, reason, bad = 0;

	(void)state;
	assert_int_equal(gale_test_guard_init(&g, 1, 4096), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = run(&cases[i], &g, &reason, &used);
		if (rc != GALE_CODEC_MALFORMED || reason != cases[i].reason) {
			printf("FAIL %-45s rc %d reason %s (want -1, %s)\n", cases[i].name, rc,
			       gale_codec_strerror(reason), gale_codec_strerror(cases[i].reason));
			bad++;
		} else if (used > 4096) {
			printf("FAIL %-45s allocated %zu bytes of arena\n", cases[i].name, used);
			bad++;
		} else {
			printf("ok   %-45s -1 %s\n", cases[i].name, gale_codec_strerror(reason));
		}
	}
	gale_test_guard_fini(&g);
	assert_int_equal(bad, 0);
}

/* Nesting bombs, built in a loop: lists of lists and structs of structs, both protocols, default depth 64. */
static void
test_depth_bombs(void **state)
{
	static uint8_t buf[4096];
	struct gale_test_guard g;
	size_t n, i, used;
	int rc, reason, kind;

	(void)state;
	assert_int_equal(gale_test_guard_init(&g, 1, sizeof(buf)), 0);
	for (kind = 0; kind < 4; kind++) {
		struct hcase c = {"depth bomb", MSG_BINARY, buf, 0, GALE_CODEC_E_DEPTH_LIMIT, {0, 0, 0, 0}};
		static const uint8_t bmsg[] = {BIN_MSG}, cmsg[] = {CPT_MSG};

		n = 0;
		if (kind < 2) {
			memcpy(buf, bmsg, sizeof(bmsg));
			n = sizeof(bmsg);
		} else {
			memcpy(buf, cmsg, sizeof(cmsg));
			n = sizeof(cmsg);
			c.path = MSG_COMPACT;
		}
		for (i = 0; i < 200; i++) {
			switch (kind) {
			case 0: /* binary: field 1 list<list<...>> */
				if (i == 0) {
					buf[n++] = 15;
					buf[n++] = 0;
					buf[n++] = 1;
				}
				buf[n++] = 15;
				buf[n++] = 0;
				buf[n++] = 0;
				buf[n++] = 0;
				buf[n++] = 1;
				break;
			case 1: /* binary: field 1 struct { field 1 struct { ... */
				buf[n++] = 12;
				buf[n++] = 0;
				buf[n++] = 1;
				break;
			case 2: /* compact: field 1 list<list<...>> */
				buf[n++] = i == 0 ? 0x19 : 0x19;
				break;
			default: /* compact: field 1 struct { ... */
				buf[n++] = 0x1c;
				break;
			}
		}
		c.len = n;
		rc = run(&c, &g, &reason, &used);
		if (rc != GALE_CODEC_MALFORMED || reason != GALE_CODEC_E_DEPTH_LIMIT)
			fail_msg("depth bomb kind %d: rc %d reason %s", kind, rc, gale_codec_strerror(reason));
		/* The same bytes through the skip path (what a server does with an unknown field). */
		{
			struct gale_codec_seg seg = {gale_test_guard_put(&g, 0, buf, n), n};
			struct gale_codec_reader r;
			struct gale_codec_bytes name;
			uint8_t t;
			int32_t q;

			gale_codec_reader_init(&r, &seg, 1, NULL, NULL);
			assert_int_equal(gale_codec_reader_bound(&r, n), 0);
			if (kind < 2) {
				assert_int_equal(gale_binary_read_message_begin(&r, &name, &t, &q), 0);
				rc = gale_binary_skip(&r, GALE_T_STRUCT);
			} else {
				assert_int_equal(gale_compact_read_message_begin(&r, &name, &t, &q), 0);
				rc = gale_compact_skip(&r, GALE_T_STRUCT);
			}
			assert_int_equal(rc, GALE_CODEC_MALFORMED);
			assert_int_equal(r.reason, GALE_CODEC_E_DEPTH_LIMIT);
		}
	}
	gale_test_guard_fini(&g);
}

/* A Buffered message that never ends is refused once it passes max_frame, not buffered forever. */
static void
test_buffered_endless(void **state)
{
	static uint8_t buf[512];
	static const uint8_t head[] = {BIN_MSG};
	struct gale_codec_limits lim = {256, 0, 0, 0};
	struct gale_codec_seg seg;
	struct gale_frame f;
	size_t n = sizeof(head);

	(void)state;
	memcpy(buf, head, n);
	while (n + 7 <= sizeof(buf)) {
		buf[n++] = 8; /* field i32, id 1, value 0: forever */
		buf[n++] = 0;
		buf[n++] = 1;
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = 0;
	}
	seg.base = buf;
	seg.len = 100;
	memset(&f, 0, sizeof(f));
	assert_int_equal(gale_frame_decode(&seg, 1, &lim, NULL, &f), GALE_CODEC_NEED_MORE);
	seg.len = n;
	memset(&f, 0, sizeof(f));
	assert_int_equal(gale_frame_decode(&seg, 1, &lim, NULL, &f), GALE_CODEC_MALFORMED);
	assert_int_equal(f.reason, GALE_CODEC_E_FRAME_LIMIT);
}

/* Writers refuse what they cannot encode. */
static void
test_writer_limits(void **state)
{
	uint8_t buf[64];
	struct gale_codec_wseg seg = {buf, sizeof(buf), 0};
	struct gale_codec_writer w;
	struct gale_frame f;

	(void)state;
	gale_codec_writer_init(&w, &seg, 1, 1, NULL, NULL);
	assert_int_equal(gale_binary_write_list_begin(&w, GALE_T_I32, 0x80000000u), GALE_CODEC_MALFORMED);
	assert_int_equal(w.reason, GALE_CODEC_E_TOO_LARGE);
	assert_int_equal(gale_compact_write_list_begin(&w, 99, 1), GALE_CODEC_MALFORMED);
	assert_int_equal(w.reason, GALE_CODEC_E_BAD_TYPE);
	memset(&f, 0, sizeof(f));
	f.transport = GALE_TRANSPORT_FRAMED;
	assert_int_equal(gale_frame_encode_begin(&w, &f), 0);
	assert_int_equal(gale_binary_write_i64(&w, 1), 0);
	{
		struct gale_codec_limits lim = {4, 0, 0, 0};

		assert_int_equal(gale_frame_encode_end(&w, &f, &lim), GALE_CODEC_MALFORMED);
		assert_int_equal(w.reason, GALE_CODEC_E_FRAME_LIMIT);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_table),
		cmocka_unit_test(test_depth_bombs),
		cmocka_unit_test(test_buffered_endless),
		cmocka_unit_test(test_writer_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
