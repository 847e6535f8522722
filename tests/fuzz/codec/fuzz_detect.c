/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_detect: transport and protocol detection and frame decoding on arbitrary bytes (what a server does with a
 * new connection's first bytes). Invariants: the result is -2, -1 with a reason, or the frame's size within the
 * input; a decoded frame's payload lies inside it and every shorter prefix of the frame says -2; the payload then
 * round-trips through the message decoder and encoder (fuzz_common.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t arena_mem[1 << 16];
	struct gale_codec_limits lim = {1u << 16, 1u << 12, 1u << 10, 32};
	struct gale_arena arena;
	struct gale_frame f;
	struct fuzz_segs s;
	long rc;

	if (size < 2)
		return 0;
	fuzz_segs_make(&s, data + 2, size - 2, data[0], data[1]);
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	memset(&f, 0, sizeof(f));
	rc = gale_frame_decode(s.seg, s.n, &lim, &arena, &f);
	FUZZ_ASSERT(rc == GALE_CODEC_NEED_MORE || rc == GALE_CODEC_MALFORMED || (rc > 0 && (size_t)rc <= size - 2));
	FUZZ_ASSERT(rc != GALE_CODEC_MALFORMED || f.reason != GALE_CODEC_E_OK);
	if (rc > 0) {
		struct gale_codec_seg pre;
		struct gale_frame f2;
		uint8_t *copy = malloc((size_t)rc);
		struct gale_codec_reader r;

		FUZZ_ASSERT(f.payload_off + f.payload_len == (size_t)rc);
		FUZZ_ASSERT(copy != NULL);
		memcpy(copy, data + 2, (size_t)rc);
		/* The frame minus its last byte is incomplete (the same transport, so no re-detection surprises). */
		pre.base = copy;
		pre.len = (size_t)rc - 1;
		memset(&f2, 0, sizeof(f2));
		f2.transport = f.transport;
		FUZZ_ASSERT(gale_frame_decode(&pre, 1, &lim, NULL, &f2) == GALE_CODEC_NEED_MORE);
		FUZZ_ASSERT(gale_frame_payload_reader(&f, s.seg, s.n, &lim, &arena, &r) == 0);
		free(copy);
		{
			/* Round-trip the payload alone. */
			uint8_t *p = malloc(f.payload_len ? f.payload_len : 1);
			struct gale_codec_seg ps;

			FUZZ_ASSERT(p != NULL);
			memcpy(p, data + 2 + f.payload_off, f.payload_len);
			ps.base = p;
			ps.len = f.payload_len;
			fuzz_roundtrip(&ps, 1, f.payload_len, f.proto);
			free(p);
		}
	}
	fuzz_segs_free(&s);
	return 0;
}
