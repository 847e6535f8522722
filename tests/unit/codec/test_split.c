/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_split: the incremental decode contract at every byte (acceptance 2).
 *
 * One message covering every type and container kind is encoded by gale in both protocols and under all four
 * transports. For each encoding of n bytes:
 *   - every prefix (0..n-1 bytes) placed against a guard page makes gale_frame_decode() return -2, and the
 *     message decoder on every prefix of the payload (a non-final reader) returns -2;
 *   - every split into two segments, each against its own guard page, decodes to the same frame and the same
 *     values as the contiguous input;
 *   - chains of 1, 2, 3, 7 and 64-byte segments, each against its own guard page, do too.
 * Any read past a segment's end touches a PROT_NONE page and kills the test. A hand-written TTHeader vector in
 * Kitex's layout (offsets in the comment) is decoded and re-encoded byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gale/binary.h>
#include <gale/compact.h>
#include <gale/frame.h>

#include "guard.h"
#include "tv.h"

#define W(fn, ...)                                                                                             \
	do {                                                                                                   \
		int rc_ = proto == GALE_PROTO_COMPACT ? gale_compact_write_##fn(w, ##__VA_ARGS__) :            \
							gale_binary_write_##fn(w, ##__VA_ARGS__);              \
		assert_int_equal(rc_, 0);                                                                      \
	} while (0)

/* Written the way generated code writes: straight-line calls. */
static void
write_body(struct gale_codec_writer *w, int proto)
{
	static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t bin[40];
	int i;

	for (i = 0; i < 40; i++)
		bin[i] = (uint8_t)(i * 37);
	W(message_begin, "split_me", 8, GALE_MSG_CALL, 99);
	W(struct_begin);
	W(field_begin, GALE_T_BOOL, 1);
	W(bool, 1);
	W(field_begin, GALE_T_BOOL, 2);
	W(bool, 0);
	W(field_begin, GALE_T_BYTE, 3);
	W(byte, -7);
	W(field_begin, GALE_T_I16, 4);
	W(i16, -300);
	W(field_begin, GALE_T_I32, 5);
	W(i32, 123456789);
	W(field_begin, GALE_T_I64, 6);
	W(i64, -(1ll << 50));
	W(field_begin, GALE_T_DOUBLE, 7);
	W(double, -2.5);
	W(field_begin, GALE_T_STRING, 8);
	W(string, "hello, segmented world", 22);
	W(field_begin, GALE_T_STRING, 9);
	W(binary, bin, sizeof(bin));
	W(field_begin, GALE_T_LIST, 10);
	W(list_begin, GALE_T_I32, 20);
	for (i = 0; i < 20; i++)
		W(i32, i * 1000 - 7000);
	W(field_begin, GALE_T_SET, 11);
	W(set_begin, GALE_T_STRING, 2);
	W(string, "a", 1);
	W(string, "bb", 2);
	W(field_begin, GALE_T_MAP, 12);
	W(map_begin, GALE_T_STRING, GALE_T_I64, 2);
	W(string, "k1", 2);
	W(i64, 1);
	W(string, "k2", 2);
	W(i64, INT64_MAX);
	W(field_begin, GALE_T_STRUCT, 13);
	W(struct_begin);
	W(field_begin, GALE_T_I32, 1);
	W(i32, -1);
	W(field_begin, GALE_T_LIST, 2);
	W(list_begin, GALE_T_BOOL, 3);
	W(bool, 1);
	W(bool, 0);
	W(bool, 1);
	W(field_begin, GALE_T_MAP, 3);
	W(map_begin, GALE_T_I16, GALE_T_STRUCT, 1);
	W(i16, 5);
	W(struct_begin);
	W(field_begin, GALE_T_STRING, 1);
	W(string, "inner", 5);
	W(field_stop);
	W(struct_end);
	W(field_begin, GALE_T_MAP, 4);
	W(map_begin, GALE_T_STRING, GALE_T_STRING, 0);
	W(field_stop);
	W(struct_end);
	W(field_begin, GALE_T_LIST, 14);
	W(list_begin, GALE_T_LIST, 3);
	W(list_begin, GALE_T_I64, 2);
	W(i64, 1);
	W(i64, 2);
	W(list_begin, GALE_T_I64, 0);
	W(list_begin, GALE_T_I64, 1);
	W(i64, 3);
	W(field_begin, GALE_T_LIST, 15);
	W(list_begin, GALE_T_DOUBLE, 2);
	W(double, 0.0);
	W(double, 1e300);
	W(field_begin, GALE_T_UUID, 100);
	W(uuid, uuid);
	W(field_begin, GALE_T_BOOL, 200);
	W(bool, 1);
	W(field_begin, GALE_T_I32, -3);
	W(i32, 7);
	W(field_stop);
	W(struct_end);
	W(message_end);
}

static const struct gale_frame_intkv test_intkv[] = {
	{GALE_TTHEADER_TO_METHOD, {(const uint8_t *)"split_me", 8}},
	{GALE_TTHEADER_RPC_TIMEOUT, {(const uint8_t *)"1000", 4}},
	{GALE_TTHEADER_LOG_ID, {(const uint8_t *)"20261124", 8}},
};
static const struct gale_frame_kv test_strkv[] = {
	{{(const uint8_t *)"env", 3}, {(const uint8_t *)"prod", 4}},
	{{(const uint8_t *)"trace", 5}, {(const uint8_t *)"", 0}},
};

static size_t
encode(int proto, int transport, uint8_t *buf, size_t cap)
{
	struct gale_codec_wseg seg = {buf, cap, 0};
	struct gale_codec_writer w;
	struct gale_frame f;

	memset(&f, 0, sizeof(f));
	f.transport = (uint8_t)transport;
	f.proto = (uint8_t)proto;
	f.seqid = 99;
	f.flags = 0x0001;
	if (transport == GALE_TRANSPORT_TTHEADER) {
		f.intkv = test_intkv;
		f.n_intkv = 3;
		f.acl_token.ptr = (const uint8_t *)"token";
		f.acl_token.len = 5;
	}
	if (transport == GALE_TRANSPORT_TTHEADER || transport == GALE_TRANSPORT_THEADER) {
		f.strkv = test_strkv;
		f.n_strkv = 2;
	}
	gale_codec_writer_init(&w, &seg, 1, 1, NULL, NULL);
	assert_int_equal(gale_frame_encode_begin(&w, &f), 0);
	write_body(&w, proto);
	assert_int_equal(gale_frame_encode_end(&w, &f, NULL), 0);
	return gale_codec_writer_offset(&w);
}

static uint8_t arena_mem[1 << 16];

/* Decodes segs completely; returns the dump length and leaves the dump in out. */
static void
decode_all(const struct gale_codec_seg *segs, unsigned nseg, size_t n, int transport, char *out, size_t cap)
{
	struct gale_arena arena;
	struct gale_frame f;
	struct gale_codec_reader r;
	struct gale_test_tv_msg m;
	long rc;
	int rci;

	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	memset(&f, 0, sizeof(f));
	rc = gale_frame_decode(segs, nseg, NULL, &arena, &f);
	if (rc != (long)n)
		fail_msg("frame decode returned %ld (reason %s), want %zu", rc, gale_codec_strerror(f.reason), n);
	assert_int_equal(f.transport, transport);
	if (transport == GALE_TRANSPORT_TTHEADER) {
		assert_int_equal(f.n_intkv, 3);
		assert_int_equal(f.intkv[1].key, GALE_TTHEADER_RPC_TIMEOUT);
		assert_memory_equal(f.intkv[1].val.ptr, "1000", 4);
		assert_int_equal(f.acl_token.len, 5);
		assert_memory_equal(f.acl_token.ptr, "token", 5);
	}
	if (transport == GALE_TRANSPORT_TTHEADER || transport == GALE_TRANSPORT_THEADER) {
		assert_int_equal(f.seqid, 99);
		assert_int_equal(f.flags, 1);
		assert_int_equal(f.n_strkv, 2);
		assert_memory_equal(f.strkv[0].val.ptr, "prod", 4);
		assert_int_equal(f.strkv[1].val.len, 0);
	}
	assert_int_equal(gale_frame_payload_reader(&f, segs, nseg, NULL, &arena, &r), 0);
	rci = gale_test_tv_read_msg(&r, f.proto, &arena, &m);
	if (rci != 0)
		fail_msg("message decode returned %d (%s)", rci, gale_codec_strerror(r.reason));
	assert_int_equal(gale_codec_reader_remaining(&r), 0);
	gale_test_tv_dump_msg(&m, out, cap);
}

static void
check_one(int proto, int transport)
{
	static uint8_t buf[4096];
	static char want[16384], got[16384];
	static const size_t chunks[] = {1, 2, 3, 7, 64};
	struct gale_test_guard g;
	const struct gale_codec_seg *segs;
	struct gale_codec_seg one;
	struct gale_frame f;
	struct gale_arena arena;
	size_t n = encode(proto, transport, buf, sizeof(buf)), k, payload_off = 0;
	unsigned c;
	int nseg;

	assert_int_equal(gale_test_guard_init(&g, (unsigned)n + 1, 64), 0);
	one.base = buf;
	one.len = n;
	decode_all(&one, 1, n, transport, want, sizeof(want));
	assert_true(strlen(want) > 100);

	/* Every prefix: need more. */
	for (k = 0; k < n; k++) {
		long rc;

		one.base = gale_test_guard_put(&g, 0, buf, k);
		one.len = k;
		memset(&f, 0, sizeof(f));
		gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
		rc = gale_frame_decode(&one, 1, NULL, &arena, &f);
		if (rc != GALE_CODEC_NEED_MORE)
			fail_msg("prefix of %zu/%zu bytes: frame decode returned %ld (%s)", k, n, rc,
				 gale_codec_strerror(f.reason));
	}
	/* Every prefix of the payload: the message decoder says need more. */
	memset(&f, 0, sizeof(f));
	one.base = buf;
	one.len = n;
	assert_int_equal(gale_frame_decode(&one, 1, NULL, NULL, &f), (long)n);
	payload_off = f.payload_off;
	for (k = 0; k < f.payload_len; k++) {
		struct gale_codec_reader r;
		struct gale_test_tv_msg m;
		int rc;

		one.base = gale_test_guard_put(&g, 0, buf + payload_off, k);
		one.len = k;
		gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
		gale_codec_reader_init(&r, &one, 1, NULL, &arena);
		rc = gale_test_tv_read_msg(&r, proto, &arena, &m);
		if (rc != GALE_CODEC_NEED_MORE)
			fail_msg("payload prefix %zu/%zu: message decode returned %d (%s)", k, f.payload_len, rc,
				 gale_codec_strerror(r.reason));
	}
	/* Every two-segment split. */
	for (k = 1; k < n; k++) {
		nseg = gale_test_guard_split(&g, buf, n, &k, 1, &segs);
		assert_int_equal(nseg, 2);
		decode_all(segs, 2, n, transport, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("split at %zu: values differ:\n got  %.200s\n want %.200s", k, got, want);
	}
	/* Many tiny segments. */
	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		nseg = gale_test_guard_chain(&g, buf, n, chunks[c], &segs);
		assert_true(nseg > 0);
		decode_all(segs, (unsigned)nseg, n, transport, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("chunks of %zu: values differ", chunks[c]);
	}
	printf("%s %s: %zu bytes: %zu prefixes, %zu payload prefixes, %zu splits, %zu chunkings decoded\n",
	       proto == GALE_PROTO_BINARY ? "binary" : "compact", gale_frame_transport_str(transport), n, n,
	       f.payload_len, n - 1, sizeof(chunks) / sizeof(chunks[0]));
	gale_test_guard_fini(&g);
}

static void
test_binary_framed(void **state)
{
	(void)state;
	check_one(GALE_PROTO_BINARY, GALE_TRANSPORT_FRAMED);
}

static void
test_binary_buffered(void **state)
{
	(void)state;
	check_one(GALE_PROTO_BINARY, GALE_TRANSPORT_BUFFERED);
}

static void
test_binary_ttheader(void **state)
{
	(void)state;
	check_one(GALE_PROTO_BINARY, GALE_TRANSPORT_TTHEADER);
}

static void
test_binary_theader(void **state)
{
	(void)state;
	check_one(GALE_PROTO_BINARY, GALE_TRANSPORT_THEADER);
}

static void
test_compact_framed(void **state)
{
	(void)state;
	check_one(GALE_PROTO_COMPACT, GALE_TRANSPORT_FRAMED);
}

static void
test_compact_buffered(void **state)
{
	(void)state;
	check_one(GALE_PROTO_COMPACT, GALE_TRANSPORT_BUFFERED);
}

static void
test_compact_ttheader(void **state)
{
	(void)state;
	check_one(GALE_PROTO_COMPACT, GALE_TRANSPORT_TTHEADER);
}

static void
test_compact_theader(void **state)
{
	(void)state;
	check_one(GALE_PROTO_COMPACT, GALE_TRANSPORT_THEADER);
}

/*
 * A TTHeader frame in Kitex's published layout, carrying a Binary CALL "echo" seqid 1 with an empty struct.
 *
 *   off  bytes                 field
 *    0   00 00 00 47           LENGTH = 71 bytes after this word
 *    4   10 00                 HEADER MAGIC 0x1000
 *    6   00 00                 FLAGS
 *    8   00 00 00 01           SEQUENCE NUMBER 1
 *   12   00 0b                 HEADER SIZE 11 (x4 = 44 header bytes, offsets 14..57)
 *   14   00                    PROTOCOL ID 0 (binary)
 *   15   00                    NUM TRANSFORMS 0
 *   16   10                    INFO_INTKEYVALUE
 *   17   00 02                   count 2
 *   19   00 09 00 04 "echo"      key 9 (TO_METHOD), len 4, value
 *   27   00 0c 00 04 "1000"      key 12 (RPC_TIMEOUT, ms), len 4, value
 *   35   01                    INFO_KEYVALUE
 *   36   00 01                   count 1
 *   38   00 03 "env" 00 04 "prod"  key len 3, key, value len 4, value
 *   49   11                    INFO_ACL_TOKEN
 *   50   00 03 "tok"             len 3, token
 *   55   00 00 00              padding to a multiple of 4
 *   58   80 01 00 01 00 00 00 04 "echo" 00 00 00 01 00   payload: strict binary CALL, seqid 1, STOP
 */
static const uint8_t kitex_vector[] = {
	0x00, 0x00, 0x00, 0x47, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x00, 0x00,
	0x10, 0x00, 0x02, 0x00, 0x09, 0x00, 0x04, 'e',  'c',  'h',  'o',  0x00, 0x0c, 0x00, 0x04, '1',
	'0',  '0',  '0',  0x01, 0x00, 0x01, 0x00, 0x03, 'e',  'n',  'v',  0x00, 0x04, 'p',  'r',  'o',
	'd',  0x11, 0x00, 0x03, 't',  'o',  'k',  0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x04, 'e',  'c',  'h',  'o',  0x00, 0x00, 0x00, 0x01, 0x00,
};

static void
test_ttheader_kitex_vector(void **state)
{
	static const struct gale_frame_intkv ikv[] = {
		{GALE_TTHEADER_TO_METHOD, {(const uint8_t *)"echo", 4}},
		{GALE_TTHEADER_RPC_TIMEOUT, {(const uint8_t *)"1000", 4}},
	};
	static const struct gale_frame_kv skv[] = {{{(const uint8_t *)"env", 3}, {(const uint8_t *)"prod", 4}}};
	struct gale_codec_seg seg = {kitex_vector, sizeof(kitex_vector)};
	struct gale_arena arena;
	struct gale_frame f;
	uint8_t buf[128];
	struct gale_codec_wseg ws = {buf, sizeof(buf), 0};
	struct gale_codec_writer w;
	uint8_t t, p, ns;

	(void)state;
	assert_int_equal(sizeof(kitex_vector), 75);
	assert_int_equal(gale_frame_detect(&seg, 1, &t, &p, &ns), 0);
	assert_int_equal(t, GALE_TRANSPORT_TTHEADER);
	assert_int_equal(p, GALE_PROTO_BINARY);
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	memset(&f, 0, sizeof(f));
	assert_int_equal(gale_frame_decode(&seg, 1, NULL, &arena, &f), 75);
	assert_int_equal(f.seqid, 1);
	assert_int_equal(f.payload_off, 58);
	assert_int_equal(f.payload_len, 17);
	assert_int_equal(f.n_intkv, 2);
	assert_int_equal(f.intkv[0].key, GALE_TTHEADER_TO_METHOD);
	assert_memory_equal(f.intkv[0].val.ptr, "echo", 4);
	assert_int_equal(f.n_strkv, 1);
	assert_memory_equal(f.strkv[0].key.ptr, "env", 3);
	assert_memory_equal(f.acl_token.ptr, "tok", 3);

	memset(&f, 0, sizeof(f));
	f.transport = GALE_TRANSPORT_TTHEADER;
	f.proto = GALE_PROTO_BINARY;
	f.seqid = 1;
	f.intkv = ikv;
	f.n_intkv = 2;
	f.strkv = skv;
	f.n_strkv = 1;
	f.acl_token.ptr = (const uint8_t *)"tok";
	f.acl_token.len = 3;
	gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
	assert_int_equal(gale_frame_encode_begin(&w, &f), 0);
	assert_int_equal(gale_binary_write_message_begin(&w, "echo", 4, GALE_MSG_CALL, 1), 0);
	assert_int_equal(gale_binary_write_field_stop(&w), 0);
	assert_int_equal(gale_frame_encode_end(&w, &f, NULL), 0);
	assert_int_equal(gale_codec_writer_offset(&w), sizeof(kitex_vector));
	assert_memory_equal(buf, kitex_vector, sizeof(kitex_vector));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_framed),
		cmocka_unit_test(test_binary_buffered),
		cmocka_unit_test(test_binary_ttheader),
		cmocka_unit_test(test_binary_theader),
		cmocka_unit_test(test_compact_framed),
		cmocka_unit_test(test_compact_buffered),
		cmocka_unit_test(test_compact_ttheader),
		cmocka_unit_test(test_compact_theader),
		cmocka_unit_test(test_ttheader_kitex_vector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
