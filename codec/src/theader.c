/* SPDX-License-Identifier: Apache-2.0 */
/*
 * theader.c: the variable header of Apache/fbthrift THeader (magic 0x0FFF), after the fixed 14 bytes of header.c.
 * Every number is an unsigned varint (as in the Compact protocol), every string a varint length and bytes:
 *
 *   varint PROTOCOL ID        0 binary, 2 compact (anything else: BAD_PROTOCOL)
 *   varint NUM TRANSFORMS     then that many varint ids (1 zlib, ...); gale applies none (BAD_TRANSFORM)
 *   info blocks until the header's end: varint type; type 1 (key/value) is varint count, then count x
 *   (string key, string value); any other type (including the zero padding) ends the info section, whose
 *   remaining bytes are skipped, as Apache's THeaderTransport does.
 *
 * This is byte for byte what python3-thrift's THeaderTransport writes: protocol id, transform count, one
 * key/value block when there are headers, zero padding to a multiple of 4.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gale/codec.h>
#include <gale/compact.h>
#include <gale/frame.h>

#include "frame_priv.h"

static int
hfail(struct gale_frame *f, int reason)
{
	f->reason = (uint8_t)reason;
	return GALE_CODEC_MALFORMED;
}

static int
hvarint(struct gale_codec_reader *r, struct gale_frame *f, size_t hend, uint32_t *v)
{
	int rc;

	if (gale_codec_reader_offset(r) >= hend)
		return hfail(f, GALE_CODEC_E_BAD_HEADER);
	if ((rc = gale_compact_read_varint32(r, v)) != 0)
		return gale_frame__fail(f, r, rc);
	if (gale_codec_reader_offset(r) > hend)
		return hfail(f, GALE_CODEC_E_BAD_HEADER);
	return 0;
}

static int
hstr(struct gale_codec_reader *r, struct gale_frame *f, size_t hend, int keep, struct gale_codec_bytes *out)
{
	uint32_t n = 0; /* set by the varint read; initialised for gcc -O3 -Wmaybe-uninitialized */
	int rc;

	if ((rc = hvarint(r, f, hend, &n)) != 0)
		return rc;
	if ((size_t)n > hend - gale_codec_reader_offset(r))
		return hfail(f, GALE_CODEC_E_BAD_HEADER);
	rc = keep ? gale_codec_read_view(r, n, out) : gale_codec_skip_raw(r, n);
	return rc != 0 ? gale_frame__fail(f, r, rc) : 0;
}

int
gale_frame__theader_info(struct gale_codec_reader *r, struct gale_frame *f, struct gale_arena *arena, size_t hend)
{
	uint32_t proto = 0, ntr = 0, id = 0, type = 0, count = 0, i; /* gcc -O3 false positives */
	int rc, keep = arena != NULL;

	if ((rc = hvarint(r, f, hend, &proto)) != 0)
		return rc;
	if (proto != GALE_PROTO_BINARY && proto != GALE_PROTO_COMPACT)
		return hfail(f, GALE_CODEC_E_BAD_PROTOCOL);
	f->proto = (uint8_t)proto;
	if ((rc = hvarint(r, f, hend, &ntr)) != 0)
		return rc;
	for (i = 0; i < ntr; i++) {
		if ((rc = hvarint(r, f, hend, &id)) != 0)
			return rc;
		if (f->n_transforms < GALE_FRAME_MAX_TRANSFORMS)
			f->transforms[f->n_transforms++] = (uint8_t)id;
	}
	if (ntr != 0)
		return hfail(f, GALE_CODEC_E_BAD_TRANSFORM);
	while (gale_codec_reader_offset(r) < hend) {
		struct gale_frame_kv *kv = NULL;

		if ((rc = hvarint(r, f, hend, &type)) != 0)
			return rc;
		if (type != GALE_THEADER_INFO_KV)
			break;
		if ((rc = hvarint(r, f, hend, &count)) != 0)
			return rc;
		if ((size_t)count * 2 > hend - gale_codec_reader_offset(r) || f->n_strkv + (size_t)count > UINT16_MAX)
			return hfail(f, GALE_CODEC_E_BAD_HEADER);
		if (keep && count != 0) {
			kv = gale_arena_alloc(arena, (f->n_strkv + (size_t)count) * sizeof(*kv), 8);
			if (kv == NULL)
				return hfail(f, GALE_CODEC_E_ARENA_FULL);
			if (f->n_strkv != 0)
				memcpy(kv, f->strkv, f->n_strkv * sizeof(*kv));
		}
		for (i = 0; i < count; i++) {
			struct gale_frame_kv e;

			if ((rc = hstr(r, f, hend, keep, &e.key)) != 0 || (rc = hstr(r, f, hend, keep, &e.val)) != 0)
				return rc;
			if (kv != NULL)
				kv[f->n_strkv + i] = e;
		}
		if (kv != NULL) {
			f->strkv = kv;
			f->n_strkv = (uint16_t)(f->n_strkv + count);
		}
	}
	return 0;
}

static size_t
vsize(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t
gale_frame__theader_size(const struct gale_frame *f)
{
	size_t n = vsize(f->proto) + vsize(0), i;

	if (f->n_strkv != 0) {
		n += vsize(GALE_THEADER_INFO_KV) + vsize(f->n_strkv);
		for (i = 0; i < f->n_strkv; i++) {
			n += vsize(f->strkv[i].key.len) + f->strkv[i].key.len;
			n += vsize(f->strkv[i].val.len) + f->strkv[i].val.len;
		}
	}
	return n;
}

int
gale_frame__theader_write(struct gale_codec_writer *w, const struct gale_frame *f)
{
	size_t i;
	int rc;

	if ((rc = gale_compact_write_varint32(w, f->proto)) != 0 || (rc = gale_compact_write_varint32(w, 0)) != 0)
		return rc;
	if (f->n_strkv == 0)
		return 0;
	if ((rc = gale_compact_write_varint32(w, GALE_THEADER_INFO_KV)) != 0 ||
	    (rc = gale_compact_write_varint32(w, f->n_strkv)) != 0)
		return rc;
	for (i = 0; i < f->n_strkv; i++) {
		const struct gale_frame_kv *e = &f->strkv[i];

		if ((rc = gale_compact_write_string(w, e->key.ptr, e->key.len)) != 0 ||
		    (rc = gale_compact_write_string(w, e->val.ptr, e->val.len)) != 0)
			return rc;
	}
	return 0;
}
