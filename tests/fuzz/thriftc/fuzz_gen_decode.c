/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target on the decoders gale-thriftc generates (comprehensive.thrift) and on the generic decoder.
 * Input: byte 0 picks the protocol (bit 0) and the struct (the rest); byte 1 the segment size the input is cut
 * into (1..256; 0: one segment), the rest is the message. Invariants: decoding never crashes or reads out of
 * bounds; a value that decodes re-encodes, and decoding that again gives an equal value; decoding the input cut
 * into one-byte segments (so no whole-struct prediction can apply: the general path only) gives the same result
 * and the same value; the generic decoder accepts whatever the generated one accepts, and the JSON printer
 * handles whatever the generic decoder returns.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/thriftc.h>

#include "comprehensive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t arena_mem[1 << 20], arena_mem2[1 << 20], out[1 << 20];
static struct gale_codec_seg segs[4096], segs1[4096];
static uint8_t arena_mem1[1 << 20];

/* Cuts p into segments of segsz bytes in dst (4096 entries); one segment when segsz is 0 or too small. */
static unsigned
cut(struct gale_codec_seg *dst, const uint8_t *p, size_t n, unsigned segsz)
{
	unsigned k = 0;
	size_t off;

	if (segsz == 0 || n / segsz >= 4096 - 1) {
		dst[0].base = p;
		dst[0].len = n;
		return 1;
	}
	for (off = 0; off < n; off += segsz) {
		dst[k].base = p + off;
		dst[k].len = n - off < segsz ? n - off : segsz;
		k++;
	}
	if (k == 0) {
		dst[0].base = p;
		dst[0].len = 0;
		k = 1;
	}
	return k;
}

#define ROUNDTRIP(T)                                                                                            \
	do {                                                                                                    \
		struct T a, b;                                                                                  \
		int rc_ = T##_read(proto, &r, &a);                                                              \
                                                                                                                \
		if (nseg1 > 1) {                                                                                \
			gale_arena_init(&arena1, arena_mem1, sizeof(arena_mem1));                               \
			gale_codec_reader_init(&r1, segs1, nseg1, NULL, &arena1);                               \
			gale_codec_reader_bound(&r1, size - 2);                                                 \
			if (T##_read(proto, &r1, &b) != rc_ || (rc_ == 0 && !T##_equal(&a, &b)))                \
				abort(); /* the predicted paths agree with the general one */                  \
		}                                                                                               \
		if (rc_ != 0)                                                                                   \
			break;                                                                                  \
		ws.base = out;                                                                                  \
		ws.cap = sizeof(out);                                                                           \
		ws.len = 0;                                                                                     \
		gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);                                              \
		if (T##_write(proto, &w, &a) != 0)                                                              \
			abort(); /* anything decoded must encode */                                             \
		gale_codec_writer_finish(&w);                                                                   \
		seg.base = out;                                                                                 \
		seg.len = ws.len;                                                                               \
		gale_arena_init(&arena2, arena_mem2, sizeof(arena_mem2));                                       \
		gale_codec_reader_init(&r2, &seg, 1, NULL, &arena2);                                            \
		gale_codec_reader_bound(&r2, ws.len);                                                           \
		if (T##_read(proto, &r2, &b) != 0 || !T##_equal(&a, &b))                                        \
			abort(); /* and decode back to the same value */                                        \
		if (null != NULL)                                                                               \
			T##_print(null, &a);                                                                    \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct gale_codec_reader r, r1, r2;
	struct gale_codec_writer w;
	struct gale_codec_wseg ws;
	struct gale_codec_seg seg;
	struct gale_arena arena, arena1, arena2;
	struct gale_tc_value v;
	unsigned nseg, nseg1;
	int proto, which;

	if (size < 2)
		return 0;
	if (null == NULL)
		null = fopen("/dev/null", "w");
	proto = data[0] & 1 ? GALE_PROTO_COMPACT : GALE_PROTO_BINARY;
	which = (data[0] >> 1) % 6;
	nseg = cut(segs, data + 2, size - 2, data[1]);
	nseg1 = cut(segs1, data + 2, size - 2, 1);
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	gale_codec_reader_init(&r, segs, nseg, NULL, &arena);
	gale_codec_reader_bound(&r, size - 2);
	switch (which) {
	case 0: ROUNDTRIP(demo_Everything); break;
	case 1: ROUNDTRIP(demo_Value); break;
	case 2: ROUNDTRIP(demo_Recursive); break;
	case 3: ROUNDTRIP(demo_Store_get_result); break;
	case 4: ROUNDTRIP(demo_ByReference); break;
	default: ROUNDTRIP(demo_Legacy); break;
	}
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	gale_codec_reader_init(&r, segs, nseg, NULL, &arena);
	gale_codec_reader_bound(&r, size - 2);
	if (gale_tc_generic_read(proto, &r, GALE_T_STRUCT, &v) == 0 && null != NULL) {
		struct gale_tc_type_desc td = { GALE_T_STRUCT, 0, NULL, NULL, &demo_Everything_desc };

		gale_tc_generic_json(null, &v, &td);
	}
	return 0;
}
