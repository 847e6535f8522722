/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_theader / fuzz_ttheader: one header transport's decoder on arbitrary bytes (the transport forced, as on a
 * connection already detected). Built twice, with FUZZ_TRANSPORT set to GALE_TRANSPORT_THEADER or _TTHEADER.
 * Invariants: -2, -1 with a reason, or the frame's size; a decoded header re-encoded by gale (with the payload
 * bytes copied through) decodes again to the same flags, seqid, protocol, key/values and token.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

#ifndef FUZZ_TRANSPORT
#error "build with -DFUZZ_TRANSPORT=GALE_TRANSPORT_THEADER or GALE_TRANSPORT_TTHEADER"
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
bytes_eq(const struct gale_codec_bytes *a, const struct gale_codec_bytes *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t arena_mem[1 << 18], arena2_mem[1 << 18], out[1 << 18];
	struct gale_codec_limits lim = {1u << 16, 1u << 12, 1u << 10, 32};
	struct gale_arena arena, arena2;
	struct gale_frame f, g, e;
	struct fuzz_segs s;
	long rc;
	unsigned i;

	if (size < 2)
		return 0;
	fuzz_segs_make(&s, data + 2, size - 2, data[0], data[1]);
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	memset(&f, 0, sizeof(f));
	f.transport = FUZZ_TRANSPORT;
	rc = gale_frame_decode(s.seg, s.n, &lim, &arena, &f);
	FUZZ_ASSERT(rc == GALE_CODEC_NEED_MORE || rc == GALE_CODEC_MALFORMED || (rc > 0 && (size_t)rc <= size - 2));
	FUZZ_ASSERT(rc != GALE_CODEC_MALFORMED || f.reason != GALE_CODEC_E_OK);
	if (rc > 0) {
		struct gale_codec_wseg ws = {out, sizeof(out), 0};
		struct gale_codec_writer w;
		struct gale_codec_seg in;

		memset(&e, 0, sizeof(e));
		e.transport = f.transport;
		e.proto = f.proto;
		e.flags = f.flags;
		e.seqid = f.seqid;
		e.intkv = f.intkv;
		e.n_intkv = f.n_intkv;
		e.strkv = f.strkv;
		e.n_strkv = f.n_strkv;
		e.acl_token = f.acl_token;
		gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
		if (gale_frame_encode_begin(&w, &e) == 0) {
			FUZZ_ASSERT(gale_codec_write_raw(&w, data + 2 + f.payload_off, f.payload_len) == 0);
			FUZZ_ASSERT(gale_frame_encode_end(&w, &e, &lim) == 0 || w.reason == GALE_CODEC_E_FRAME_LIMIT);
			in.base = out;
			in.len = gale_codec_writer_offset(&w);
			gale_arena_init(&arena2, arena2_mem, sizeof(arena2_mem));
			memset(&g, 0, sizeof(g));
			g.transport = f.transport;
			if (w.reason == GALE_CODEC_E_OK) {
				FUZZ_ASSERT(gale_frame_decode(&in, 1, NULL, &arena2, &g) == (long)in.len);
				FUZZ_ASSERT(g.proto == f.proto && g.flags == f.flags && g.seqid == f.seqid);
				FUZZ_ASSERT(g.payload_len == f.payload_len);
				FUZZ_ASSERT(g.n_intkv == f.n_intkv && g.n_strkv == f.n_strkv);
				FUZZ_ASSERT(bytes_eq(&g.acl_token, &f.acl_token));
				for (i = 0; i < f.n_intkv; i++)
					FUZZ_ASSERT(g.intkv[i].key == f.intkv[i].key &&
						    bytes_eq(&g.intkv[i].val, &f.intkv[i].val));
				for (i = 0; i < f.n_strkv; i++)
					FUZZ_ASSERT(bytes_eq(&g.strkv[i].key, &f.strkv[i].key) &&
						    bytes_eq(&g.strkv[i].val, &f.strkv[i].val));
			}
		}
	}
	fuzz_segs_free(&s);
	return 0;
}
