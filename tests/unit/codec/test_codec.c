/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_codec: the segmented reader and writer, the arena, each protocol's primitives against hand-computed wire
 * bytes (from the Binary and Compact specifications), and TApplicationException round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <gale/appex.h>
#include <gale/arena.h>
#include <gale/binary.h>
#include <gale/codec.h>
#include <gale/compact.h>
#include <gale/proto.h>

#include "guard.h"

static void
test_arena(void **state)
{
	uint8_t mem[64];
	struct gale_arena a;
	uint8_t *p, *q;

	(void)state;
	gale_arena_init(&a, mem, sizeof(mem));
	p = gale_arena_alloc(&a, 3, 1);
	assert_ptr_equal(p, mem);
	q = gale_arena_alloc(&a, 8, 8);
	assert_non_null(q);
	assert_int_equal((uintptr_t)q % 8, 0);
	assert_null(gale_arena_alloc(&a, 64, 1));
	assert_true(a.used <= sizeof(mem));
	gale_arena_reset(&a);
	assert_int_equal(a.used, 0);
	assert_null(gale_arena_alloc(NULL, 1, 1));
}

/* Reads across many segments, including empty ones, and views that must be copied. */
static void
test_reader_segments(void **state)
{
	static const uint8_t a[] = {0x00, 0x00}, c[] = {0x01, 0x02, 0x00, 0x00, 0x00, 0x03, 'a'}, d[] = {'b', 'c'};
	struct gale_codec_seg segs[] = {{a, 2}, {d, 0}, {c, 7}, {d, 2}};
	uint8_t mem[16];
	struct gale_arena arena;
	struct gale_codec_reader r;
	struct gale_codec_bytes s;
	int32_t v;

	(void)state;
	gale_arena_init(&arena, mem, sizeof(mem));
	gale_codec_reader_init(&r, segs, 4, NULL, &arena);
	assert_int_equal(gale_binary_read_i32(&r, &v), 0);
	assert_int_equal(v, 0x0102);
	assert_int_equal(gale_codec_reader_offset(&r), 4);
	assert_int_equal(gale_binary_read_string(&r, &s), 0);
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.ptr, "abc", 3);
	assert_ptr_equal(s.ptr, mem); /* straddled: copied into the arena */
	assert_int_equal(gale_codec_reader_remaining(&r), 0);
	assert_int_equal(gale_binary_read_i32(&r, &v), GALE_CODEC_NEED_MORE);
	assert_int_equal(r.reason, GALE_CODEC_E_NEED_MORE);
}

/* Contiguous strings are zero-copy views into the input. */
static void
test_reader_view(void **state)
{
	static const uint8_t in[] = {0, 0, 0, 2, 'h', 'i'};
	struct gale_codec_seg seg = {in, sizeof(in)};
	struct gale_codec_reader r;
	struct gale_codec_bytes s;

	(void)state;
	gale_codec_reader_init(&r, &seg, 1, NULL, NULL);
	assert_int_equal(gale_binary_read_string(&r, &s), 0);
	assert_ptr_equal(s.ptr, in + 4);
}

/* A failed read leaves the reader where it was; after bound() running out is malformed. */
static void
test_reader_retry_and_bound(void **state)
{
	static const uint8_t in[] = {0x12, 0x34, 0x56};
	struct gale_codec_seg segs[] = {{in, 1}, {in + 1, 2}};
	struct gale_codec_reader r;
	int32_t v;
	int16_t h;

	(void)state;
	gale_codec_reader_init(&r, segs, 2, NULL, NULL);
	assert_int_equal(gale_binary_read_i32(&r, &v), GALE_CODEC_NEED_MORE);
	assert_int_equal(gale_codec_reader_offset(&r), 0);
	assert_int_equal(gale_binary_read_i16(&r, &h), 0);
	assert_int_equal(h, 0x1234);
	assert_int_equal(gale_codec_reader_bound(&r, 2), GALE_CODEC_NEED_MORE);
	assert_int_equal(gale_codec_reader_bound(&r, 1), 0);
	assert_int_equal(gale_binary_read_i16(&r, &h), GALE_CODEC_MALFORMED);
	assert_int_equal(r.reason, GALE_CODEC_E_PAST_END);
}

static int
refill_from_pool(void *arg, struct gale_codec_wseg *seg)
{
	uint8_t **next = arg;

	seg->base = *next;
	seg->cap = 3;
	*next += 3;
	return 0;
}

/* Writer across 3-byte segments from a refill callback, with a reserved length that straddles two of them. */
static void
test_writer_refill_patch(void **state)
{
	uint8_t pool[64], *next = pool;
	struct gale_codec_wseg segs[16];
	struct gale_codec_writer w;
	struct gale_codec_mark m;
	static const uint8_t want[] = {0xaa, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 'o', 'k'};
	uint32_t be = gale_codec_be32(6);
	unsigned n, i;
	size_t off = 0;

	(void)state;
	gale_codec_writer_init(&w, segs, 0, 16, refill_from_pool, &next);
	assert_int_equal(gale_codec_write_u8(&w, 0xaa), 0);
	assert_int_equal(gale_codec_writer_reserve(&w, 4, &m), 0);
	assert_int_equal(gale_binary_write_string(&w, "ok", 2), 0);
	gale_codec_writer_patch(&w, &m, &be, 4);
	n = gale_codec_writer_finish(&w);
	assert_int_equal(gale_codec_writer_offset(&w), sizeof(want));
	for (i = 0; i < n; i++) {
		assert_true(segs[i].len <= 3);
		assert_memory_equal(segs[i].base, want + off, segs[i].len);
		off += segs[i].len;
	}
	assert_int_equal(off, sizeof(want));
}

static void
test_writer_no_space(void **state)
{
	uint8_t buf[4];
	struct gale_codec_wseg seg = {buf, sizeof(buf), 0};
	struct gale_codec_writer w;

	(void)state;
	gale_codec_writer_init(&w, &seg, 1, 1, NULL, NULL);
	assert_int_equal(gale_binary_write_i32(&w, 1), 0);
	assert_int_equal(gale_binary_write_i16(&w, 1), GALE_CODEC_MALFORMED);
	assert_int_equal(w.reason, GALE_CODEC_E_NO_SPACE);
}

/* Encodes with one call into a flat buffer and compares with the expected bytes. */
#define ENCODES(call, ...)                                                                                     \
	do {                                                                                                   \
		static const uint8_t want_[] = {__VA_ARGS__};                                                  \
		uint8_t buf_[64];                                                                              \
		struct gale_codec_wseg seg_ = {buf_, sizeof(buf_), 0};                                         \
		struct gale_codec_writer w_;                                                                   \
		gale_codec_writer_init(&w_, &seg_, 1, 1, NULL, NULL);                                          \
		{                                                                                              \
			struct gale_codec_writer *w = &w_;                                                     \
			assert_int_equal(call, 0);                                                             \
		}                                                                                              \
		assert_int_equal(gale_codec_writer_offset(&w_), sizeof(want_));                                \
		assert_memory_equal(buf_, want_, sizeof(want_));                                               \
	} while (0)

static void
test_binary_wire(void **state)
{
	(void)state;
	ENCODES(gale_binary_write_i16(w, -2), 0xff, 0xfe);
	ENCODES(gale_binary_write_i32(w, 0x01020304), 0x01, 0x02, 0x03, 0x04);
	ENCODES(gale_binary_write_i64(w, -1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	ENCODES(gale_binary_write_double(w, 1.0), 0x3f, 0xf0, 0, 0, 0, 0, 0, 0);
	ENCODES(gale_binary_write_string(w, "ab", 2), 0, 0, 0, 2, 'a', 'b');
	ENCODES(gale_binary_write_field_begin(w, GALE_T_I32, 258), 8, 1, 2);
	ENCODES(gale_binary_write_map_begin(w, GALE_T_STRING, GALE_T_I64, 3), 11, 10, 0, 0, 0, 3);
	ENCODES(gale_binary_write_message_begin(w, "m", 1, GALE_MSG_CALL, 5), 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1,
		'm', 0, 0, 0, 5);
}

static void
test_compact_wire(void **state)
{
	(void)state;
	ENCODES(gale_compact_write_i32(w, -1), 0x01);
	ENCODES(gale_compact_write_i32(w, 1), 0x02);
	ENCODES(gale_compact_write_i32(w, 64), 0x80, 0x01);
	ENCODES(gale_compact_write_i32(w, INT32_MIN), 0xff, 0xff, 0xff, 0xff, 0x0f);
	ENCODES(gale_compact_write_i64(w, INT64_MIN), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	ENCODES(gale_compact_write_double(w, 1.0), 0, 0, 0, 0, 0, 0, 0xf0, 0x3f);
	ENCODES(gale_compact_write_list_begin(w, GALE_T_I32, 3), 0x35);
	ENCODES(gale_compact_write_list_begin(w, GALE_T_BOOL, 15), 0xf1, 15);
	ENCODES(gale_compact_write_map_begin(w, GALE_T_STRING, GALE_T_I64, 0), 0x00);
	ENCODES(gale_compact_write_map_begin(w, GALE_T_STRING, GALE_T_I64, 2), 0x02, 0x86);
	/* Field 1 (delta), then 20 (long form: type byte + zigzag i16), then a bool field carrying its value. */
	ENCODES((gale_compact_write_struct_begin(w) || gale_compact_write_field_begin(w, GALE_T_I32, 1) ||
		 gale_compact_write_i32(w, 0) || gale_compact_write_field_begin(w, GALE_T_I64, 20) ||
		 gale_compact_write_i64(w, 1) || gale_compact_write_field_begin(w, GALE_T_BOOL, 21) ||
		 gale_compact_write_bool(w, 1) || gale_compact_write_field_stop(w) || gale_compact_write_struct_end(w)),
		0x15, 0x00, 0x06, 40, 0x02, 0x11, 0x00);
	ENCODES(gale_compact_write_message_begin(w, "m", 1, GALE_MSG_REPLY, 300), 0x82, 0x41, 0xac, 0x02, 1, 'm');
}

/*
 * Envelopes with names of every length from 0 to 40 (the inline writers store short names in a few overlapping
 * moves), in both protocols: the name is read from against a guard page, the output buffer is exactly the
 * envelope's size and ends against one too, the bytes match the specification's layout, and they read back.
 */
static void
test_envelope_names(void **state)
{
	static const int32_t seqids[] = {7, 300, -1};
	struct gale_test_guard g;
	char src[40];
	size_t n, k;
	int pi;

	(void)state;
	assert_int_equal(gale_test_guard_init(&g, 2, 64), 0);
	for (n = 0; n < sizeof(src); n++)
		src[n] = (char)('a' + n % 26);
	for (pi = 0; pi < 2; pi++) {
		for (n = 0; n <= sizeof(src); n++) {
			for (k = 0; k < sizeof(seqids) / sizeof(seqids[0]); k++) {
				uint8_t want[64], *out;
				size_t len = 0;
				uint32_t u = (uint32_t)seqids[k];
				const char *name = (const char *)gale_test_guard_put(&g, 0, src, n);
				struct gale_codec_wseg ws;
				struct gale_codec_writer w;
				struct gale_codec_seg seg;
				struct gale_codec_reader r;
				struct gale_codec_bytes got;
				uint8_t type;
				int32_t seqid;

				if (pi == 0) {
					const uint8_t h[8] = {0x80, 0x01, 0x00, GALE_MSG_REPLY, 0, 0, 0, (uint8_t)n};

					memcpy(want, h, 8);
					memcpy(want + 8, src, n);
					want[8 + n] = (uint8_t)(u >> 24), want[9 + n] = (uint8_t)(u >> 16);
					want[10 + n] = (uint8_t)(u >> 8), want[11 + n] = (uint8_t)u;
					len = 12 + n;
				} else {
					want[len++] = 0x82;
					want[len++] = 0x01 | GALE_MSG_REPLY << 5;
					for (; u >= 0x80; u >>= 7)
						want[len++] = (uint8_t)(u | 0x80);
					want[len++] = (uint8_t)u;
					want[len++] = (uint8_t)n;
					memcpy(want + len, src, n);
					len += n;
				}
				out = (uint8_t *)(uintptr_t)gale_test_guard_put(&g, 1, want, len);
				memset(out, 0xee, len);
				ws.base = out;
				ws.cap = len;
				gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
				if (pi == 0)
					assert_int_equal(gale_binary_write_message_begin(&w, name, n, GALE_MSG_REPLY,
											 seqids[k]), 0);
				else
					assert_int_equal(gale_compact_write_message_begin(&w, name, n, GALE_MSG_REPLY,
											  seqids[k]), 0);
				assert_int_equal(gale_codec_writer_offset(&w), len);
				assert_memory_equal(out, want, len);
				seg.base = out;
				seg.len = len;
				gale_codec_reader_init(&r, &seg, 1, NULL, NULL);
				if (pi == 0)
					assert_int_equal(gale_binary_read_message_begin(&r, &got, &type, &seqid), 0);
				else
					assert_int_equal(gale_compact_read_message_begin(&r, &got, &type, &seqid), 0);
				assert_int_equal(got.len, n);
				assert_true(n == 0 || memcmp(got.ptr, src, n) == 0);
				assert_int_equal(type, GALE_MSG_REPLY);
				assert_int_equal(seqid, seqids[k]);
				assert_int_equal(gale_codec_reader_offset(&r), len);
			}
		}
	}
	gale_test_guard_fini(&g);
}

static void
test_compact_read_fields(void **state)
{
	static const uint8_t in[] = {0x15, 0x00, 0x06, 40, 0x02, 0x11, 0x12, 0x00};
	struct gale_codec_seg seg = {in, sizeof(in)};
	struct gale_codec_reader r;
	uint8_t t, b;
	int16_t id;
	int32_t i;
	int64_t l;

	(void)state;
	gale_codec_reader_init(&r, &seg, 1, NULL, NULL);
	assert_int_equal(gale_compact_read_struct_begin(&r), 0);
	assert_int_equal(gale_compact_read_field_begin(&r, &t, &id), 0);
	assert_int_equal(t, GALE_T_I32);
	assert_int_equal(id, 1);
	assert_int_equal(gale_compact_read_i32(&r, &i), 0);
	assert_int_equal(gale_compact_read_field_begin(&r, &t, &id), 0);
	assert_int_equal(t, GALE_T_I64);
	assert_int_equal(id, 20);
	assert_int_equal(gale_compact_read_i64(&r, &l), 0);
	assert_int_equal(l, 1);
	assert_int_equal(gale_compact_read_field_begin(&r, &t, &id), 0);
	assert_int_equal(t, GALE_T_BOOL);
	assert_int_equal(id, 21);
	assert_int_equal(gale_compact_read_bool(&r, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(gale_compact_read_field_begin(&r, &t, &id), 0);
	assert_int_equal(id, 22);
	assert_int_equal(gale_compact_read_bool(&r, &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(gale_compact_read_field_begin(&r, &t, &id), 0);
	assert_int_equal(t, GALE_T_STOP);
	assert_int_equal(gale_compact_read_struct_end(&r), 0);
	assert_int_equal(r.depth, 0);
}

static void
test_appex_roundtrip(void **state)
{
	int protos[] = {GALE_PROTO_BINARY, GALE_PROTO_COMPACT};
	unsigned i;

	(void)state;
	assert_string_equal(gale_appex_type_str(GALE_APPEX_UNKNOWN_METHOD), "unknown method");
	assert_string_equal(gale_appex_type_str(99), "unknown application exception type");
	assert_int_equal(gale_appex_type_from_reason(GALE_CODEC_E_BAD_TRANSFORM), GALE_APPEX_INVALID_TRANSFORM);
	assert_int_equal(gale_appex_type_from_reason(GALE_CODEC_E_NEG_LENGTH), GALE_APPEX_PROTOCOL_ERROR);
	for (i = 0; i < 2; i++) {
		const struct gale_proto_ops *ops = gale_proto_ops(protos[i]);
		uint8_t buf[128];
		struct gale_codec_wseg seg = {buf, sizeof(buf), 0};
		struct gale_codec_writer w;
		struct gale_codec_reader r;
		struct gale_codec_seg in;
		struct gale_appex ex = {{(const uint8_t *)"no such method", 14}, GALE_APPEX_UNKNOWN_METHOD}, got;
		struct gale_codec_bytes name;
		uint8_t type;
		int32_t seqid;

		gale_codec_writer_init(&w, &seg, 1, 1, NULL, NULL);
		assert_int_equal(gale_appex_write_message(&w, ops, "frob", 4, 77, &ex), 0);
		in.base = buf;
		in.len = gale_codec_writer_offset(&w);
		gale_codec_reader_init(&r, &in, 1, NULL, NULL);
		assert_int_equal(gale_codec_reader_bound(&r, in.len), 0);
		assert_int_equal(ops->read_message_begin(&r, &name, &type, &seqid), 0);
		assert_int_equal(type, GALE_MSG_EXCEPTION);
		assert_int_equal(seqid, 77);
		assert_int_equal(name.len, 4);
		assert_int_equal(gale_appex_read(&r, ops, &got), 0);
		assert_int_equal(got.type, GALE_APPEX_UNKNOWN_METHOD);
		assert_int_equal(got.message.len, 14);
		assert_memory_equal(got.message.ptr, "no such method", 14);
		assert_int_equal(gale_codec_reader_remaining(&r), 0);
	}
	assert_null(gale_proto_ops(5));
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(gale_codec_strerror(GALE_CODEC_E_VARINT), "varint longer than its type allows");
	assert_string_equal(gale_codec_strerror(-1), "unknown codec error");
	assert_string_equal(gale_codec_strerror(GALE_CODEC_E__COUNT), "unknown codec error");
}

/* The guard helper itself: the byte after a placed input is inaccessible (checked in a child). */
static void
test_guard_layout(void **state)
{
	struct gale_test_guard g;
	const struct gale_codec_seg *segs;
	static const uint8_t in[] = {1, 2, 3, 4, 5};
	size_t cuts[] = {2};

	(void)state;
	assert_int_equal(gale_test_guard_init(&g, 8, 16), 0);
	assert_int_equal(gale_test_guard_split(&g, in, 5, cuts, 1, &segs), 2);
	assert_int_equal(segs[0].len, 2);
	assert_int_equal(segs[1].len, 3);
	assert_int_equal(((uintptr_t)(segs[0].base + 2)) % 4096, 0);
	assert_int_equal(gale_test_guard_chain(&g, in, 5, 1, &segs), 5);
	assert_int_equal(segs[4].base[0], 5);
	gale_test_guard_fini(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_reader_segments),
		cmocka_unit_test(test_reader_view),
		cmocka_unit_test(test_reader_retry_and_bound),
		cmocka_unit_test(test_writer_refill_patch),
		cmocka_unit_test(test_writer_no_space),
		cmocka_unit_test(test_binary_wire),
		cmocka_unit_test(test_compact_wire),
		cmocka_unit_test(test_envelope_names),
		cmocka_unit_test(test_compact_read_fields),
		cmocka_unit_test(test_appex_roundtrip),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_guard_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
