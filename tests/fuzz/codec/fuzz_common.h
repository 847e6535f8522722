/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_common.h: shared by the codec fuzz targets. Splits the input into segments (the split point comes from
 * the input so libFuzzer explores boundaries), decodes a message into a value tree, re-encodes it, decodes that
 * again and asserts the two trees print the same: decode -> encode -> decode is the identity on values. Any
 * invariant violation aborts, which libFuzzer reports as a crash.
 */
#ifndef GALE_FUZZ_COMMON_H
#define GALE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/binary.h>
#include <gale/codec.h>
#include <gale/compact.h>
#include <gale/frame.h>
#include <gale/proto.h>

#include "tv.h"

#define FUZZ_ASSERT(c)                                                                                         \
	do {                                                                                                   \
		if (!(c)) {                                                                                    \
			fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);      \
			abort();                                                                               \
		}                                                                                              \
	} while (0)

/* Heap copies of each piece so ASan sees every segment's end. */
struct fuzz_segs {
	struct gale_codec_seg seg[3];
	uint8_t *mem[3];
	unsigned n;
};

static inline void
fuzz_segs_make(struct fuzz_segs *s, const uint8_t *data, size_t size, size_t cut1, size_t cut2)
{
	size_t cuts[4] = {0, cut1 % (size + 1), 0, size};
	unsigned i;

	cuts[2] = cut2 % (size + 1);
	if (cuts[2] < cuts[1]) {
		size_t t = cuts[1];

		cuts[1] = cuts[2];
		cuts[2] = t;
	}
	s->n = 3;
	for (i = 0; i < 3; i++) {
		size_t len = cuts[i + 1] - cuts[i];

		s->mem[i] = malloc(len ? len : 1);
		FUZZ_ASSERT(s->mem[i] != NULL);
		if (len != 0)
			memcpy(s->mem[i], data + cuts[i], len);
		s->seg[i].base = s->mem[i];
		s->seg[i].len = len;
	}
}

static inline void
fuzz_segs_free(struct fuzz_segs *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		free(s->mem[i]);
}

#define FUZZ_ARENA (1u << 20)
#define FUZZ_DUMP (1u << 20)

/*
 * Decodes a message of `proto` from segs (final reader, small limits so the fuzzer can hit them); on success
 * re-encodes and re-decodes it and checks the values match. Returns the decode rc.
 */
static inline int
fuzz_roundtrip(const struct gale_codec_seg *segs, unsigned nseg, size_t total, int proto)
{
	static uint8_t arena1[FUZZ_ARENA], arena2[FUZZ_ARENA], out[FUZZ_ARENA];
	static char d1[FUZZ_DUMP], d2[FUZZ_DUMP];
	struct gale_codec_limits lim = {1u << 16, 1u << 12, 1u << 10, 32};
	struct gale_arena a1, a2;
	struct gale_codec_reader r, r2;
	struct gale_codec_writer w;
	struct gale_codec_wseg ws = {out, sizeof(out), 0};
	struct gale_codec_seg in2;
	struct gale_test_tv_msg m1, m2;
	size_t consumed, skipped;
	int rc;

	gale_arena_init(&a1, arena1, sizeof(arena1));
	gale_codec_reader_init(&r, segs, nseg, &lim, &a1);
	FUZZ_ASSERT(gale_codec_reader_bound(&r, total) == 0);
	rc = gale_test_tv_read_msg(&r, proto, &a1, &m1);
	FUZZ_ASSERT(rc == 0 || rc == GALE_CODEC_MALFORMED);
	FUZZ_ASSERT(rc == 0 || (r.reason != GALE_CODEC_E_OK && r.reason != GALE_CODEC_E_NEED_MORE));
	FUZZ_ASSERT(a1.used <= sizeof(arena1));
	/* A streaming skip of the same bytes must agree with the decoder on success and on where the message ends. */
	{
		struct gale_codec_reader rs;
		const struct gale_proto_ops *ops = gale_proto_ops(proto);
		int src;

		gale_codec_reader_init(&rs, segs, nseg, &lim, NULL);
		FUZZ_ASSERT(gale_codec_reader_bound(&rs, total) == 0);
		src = gale_proto_skip_message(ops, &rs);
		if (rc == 0) {
			FUZZ_ASSERT(src == 0);
			skipped = gale_codec_reader_offset(&rs);
			FUZZ_ASSERT(skipped == gale_codec_reader_offset(&r));
		}
	}
	if (rc != 0)
		return rc;
	consumed = gale_codec_reader_offset(&r);
	FUZZ_ASSERT(consumed <= total);
	gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
	FUZZ_ASSERT(gale_test_tv_write_msg(&w, proto, &m1) == 0);
	in2.base = out;
	in2.len = gale_codec_writer_offset(&w);
	gale_arena_init(&a2, arena2, sizeof(arena2));
	gale_codec_reader_init(&r2, &in2, 1, &lim, &a2);
	FUZZ_ASSERT(gale_codec_reader_bound(&r2, in2.len) == 0);
	FUZZ_ASSERT(gale_test_tv_read_msg(&r2, proto, &a2, &m2) == 0);
	FUZZ_ASSERT(gale_codec_reader_offset(&r2) == in2.len);
	gale_test_tv_dump_msg(&m1, d1, sizeof(d1));
	gale_test_tv_dump_msg(&m2, d2, sizeof(d2));
	FUZZ_ASSERT(strcmp(d1, d2) == 0);
	return 0;
}

#endif /* GALE_FUZZ_COMMON_H */
