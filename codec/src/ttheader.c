/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ttheader.c: the variable header of Kitex's TTHeader (magic 0x1000), after the fixed 14 bytes of header.c.
 *
 *   offset 14  u8  PROTOCOL ID      0 binary, 2 compact (anything else: BAD_PROTOCOL)
 *   offset 15  u8  NUM TRANSFORMS   then that many u8 ids; gale supports none (BAD_TRANSFORM)
 *   then, until the header's end, info blocks, each starting with a u8 id:
 *     0x00 padding                  one byte, skipped
 *     0x01 string key/value         u16 count, count x (u16 key len, key, u16 value len, value)
 *     0x10 int key/value            u16 count, count x (u16 key, u16 value len, value)
 *     0x11 ACL token                u16 len, token
 *     anything else                 BAD_INFO (Kitex refuses it too: info blocks carry no length to skip by)
 *
 * Integer keys are Kitex's transmeta numbers (enum gale_ttheader_key): FROM_SERVICE 3, TO_SERVICE 6, TO_METHOD 9,
 * RPC_TIMEOUT 12 (milliseconds, decimal string), LOG_ID 2, FROM_METHOD 20, MSG_TYPE 22, ...
 *
 * Counts are checked against the bytes left in the header (4 bytes at least per entry) before the entry array is
 * taken from the arena. Encoding writes int key/values, then string key/values, then the ACL token, then zero
 * padding to a multiple of 4.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gale/codec.h>
#include <gale/frame.h>

#include "frame_priv.h"

static int
hfail(struct gale_frame *f, struct gale_codec_reader *r, int reason)
{
	(void)r;
	f->reason = (uint8_t)reason;
	return GALE_CODEC_MALFORMED;
}

static int
u16(struct gale_codec_reader *r, struct gale_frame *f, size_t hend, uint16_t *v)
{
	uint16_t x;
	int rc;

	if (gale_codec_reader_offset(r) + 2 > hend)
		return hfail(f, r, GALE_CODEC_E_BAD_HEADER);
	if ((rc = gale_codec_read_raw(r, &x, 2)) != 0)
		return gale_frame__fail(f, r, rc);
	*v = gale_codec_be16(x);
	return 0;
}

/* n bytes of header string: a view (keep) or skipped. */
static int
hstr(struct gale_codec_reader *r, struct gale_frame *f, size_t hend, size_t n, int keep,
     struct gale_codec_bytes *out)
{
	int rc;

	if (gale_codec_reader_offset(r) + n > hend)
		return hfail(f, r, GALE_CODEC_E_BAD_HEADER);
	rc = keep ? gale_codec_read_view(r, n, out) : gale_codec_skip_raw(r, n);
	return rc != 0 ? gale_frame__fail(f, r, rc) : 0;
}

/* A new array of n_old + n_add entries (elem bytes each) holding the old ones, from the arena. */
static void *
grow(struct gale_arena *a, const void *old, size_t n_old, size_t n_add, size_t elem)
{
	void *p = gale_arena_alloc(a, (n_old + n_add) * elem, 8);

	if (p != NULL && n_old != 0)
		memcpy(p, old, n_old * elem);
	return p;
}

int
gale_frame__ttheader_info(struct gale_codec_reader *r, struct gale_frame *f, struct gale_arena *arena, size_t hend)
{
	uint8_t b[2], id;
	uint16_t count = 0, k = 0, len = 0; /* gcc -O3 false positives */
	size_t i;
	int rc, keep = arena != NULL;

	if (gale_codec_reader_offset(r) + 2 > hend)
		return hfail(f, r, GALE_CODEC_E_BAD_HEADER);
	if ((rc = gale_codec_read_raw(r, b, 2)) != 0)
		return gale_frame__fail(f, r, rc);
	if (b[0] != GALE_PROTO_BINARY && b[0] != GALE_PROTO_COMPACT)
		return hfail(f, r, GALE_CODEC_E_BAD_PROTOCOL);
	f->proto = b[0];
	if (b[1] != 0)
		return hfail(f, r, GALE_CODEC_E_BAD_TRANSFORM);
	while (gale_codec_reader_offset(r) < hend) {
		if ((rc = gale_codec_read_u8(r, &id)) != 0)
			return gale_frame__fail(f, r, rc);
		switch (id) {
		case GALE_TTHEADER_INFO_PADDING:
			break;
		case GALE_TTHEADER_INFO_KV: {
			struct gale_frame_kv *kv = NULL;

			if ((rc = u16(r, f, hend, &count)) != 0)
				return rc;
			if ((size_t)count * 4 > hend - gale_codec_reader_offset(r))
				return hfail(f, r, GALE_CODEC_E_BAD_HEADER);
			if (keep && count != 0) {
				kv = grow(arena, f->strkv, f->n_strkv, count, sizeof(*kv));
				if (kv == NULL)
					return hfail(f, r, GALE_CODEC_E_ARENA_FULL);
			}
			for (i = 0; i < count; i++) {
				struct gale_frame_kv e;

				if ((rc = u16(r, f, hend, &len)) != 0 || (rc = hstr(r, f, hend, len, keep, &e.key)) != 0 ||
				    (rc = u16(r, f, hend, &len)) != 0 || (rc = hstr(r, f, hend, len, keep, &e.val)) != 0)
					return rc;
				if (kv != NULL)
					kv[f->n_strkv + i] = e;
			}
			if (kv != NULL) {
				f->strkv = kv;
				f->n_strkv = (uint16_t)(f->n_strkv + count);
			}
			break;
		}
		case GALE_TTHEADER_INFO_INTKV: {
			struct gale_frame_intkv *ikv = NULL;

			if ((rc = u16(r, f, hend, &count)) != 0)
				return rc;
			if ((size_t)count * 4 > hend - gale_codec_reader_offset(r))
				return hfail(f, r, GALE_CODEC_E_BAD_HEADER);
			if (keep && count != 0) {
				ikv = grow(arena, f->intkv, f->n_intkv, count, sizeof(*ikv));
				if (ikv == NULL)
					return hfail(f, r, GALE_CODEC_E_ARENA_FULL);
			}
			for (i = 0; i < count; i++) {
				struct gale_frame_intkv e;

				if ((rc = u16(r, f, hend, &k)) != 0 || (rc = u16(r, f, hend, &len)) != 0 ||
				    (rc = hstr(r, f, hend, len, keep, &e.val)) != 0)
					return rc;
				e.key = k;
				if (ikv != NULL)
					ikv[f->n_intkv + i] = e;
			}
			if (ikv != NULL) {
				f->intkv = ikv;
				f->n_intkv = (uint16_t)(f->n_intkv + count);
			}
			break;
		}
		case GALE_TTHEADER_INFO_ACL_TOKEN:
			if ((rc = u16(r, f, hend, &len)) != 0 ||
			    (rc = hstr(r, f, hend, len, keep, &f->acl_token)) != 0)
				return rc;
			break;
		default:
			return hfail(f, r, GALE_CODEC_E_BAD_INFO);
		}
	}
	return 0;
}

size_t
gale_frame__ttheader_size(const struct gale_frame *f)
{
	size_t n = 2, i;

	if (f->n_intkv != 0) {
		n += 3;
		for (i = 0; i < f->n_intkv; i++) {
			if (f->intkv[i].val.len > UINT16_MAX)
				return 0;
			n += 4 + f->intkv[i].val.len;
		}
	}
	if (f->n_strkv != 0) {
		n += 3;
		for (i = 0; i < f->n_strkv; i++) {
			if (f->strkv[i].key.len > UINT16_MAX || f->strkv[i].val.len > UINT16_MAX)
				return 0;
			n += 4 + f->strkv[i].key.len + f->strkv[i].val.len;
		}
	}
	if (f->acl_token.len != 0) {
		if (f->acl_token.len > UINT16_MAX)
			return 0;
		n += 3 + f->acl_token.len;
	}
	return n;
}

static int
w16(struct gale_codec_writer *w, size_t v)
{
	uint16_t x = gale_codec_be16((uint16_t)v);

	return gale_codec_write_raw(w, &x, 2);
}

int
gale_frame__ttheader_write(struct gale_codec_writer *w, const struct gale_frame *f)
{
	uint8_t b[2] = {f->proto, 0};
	size_t i;
	int rc;

	if ((rc = gale_codec_write_raw(w, b, 2)) != 0)
		return rc;
	if (f->n_intkv != 0) {
		if ((rc = gale_codec_write_u8(w, GALE_TTHEADER_INFO_INTKV)) != 0 || (rc = w16(w, f->n_intkv)) != 0)
			return rc;
		for (i = 0; i < f->n_intkv; i++) {
			const struct gale_frame_intkv *e = &f->intkv[i];

			if ((rc = w16(w, e->key)) != 0 || (rc = w16(w, e->val.len)) != 0 ||
			    (rc = gale_codec_write_raw(w, e->val.ptr, e->val.len)) != 0)
				return rc;
		}
	}
	if (f->n_strkv != 0) {
		if ((rc = gale_codec_write_u8(w, GALE_TTHEADER_INFO_KV)) != 0 || (rc = w16(w, f->n_strkv)) != 0)
			return rc;
		for (i = 0; i < f->n_strkv; i++) {
			const struct gale_frame_kv *e = &f->strkv[i];

			if ((rc = w16(w, e->key.len)) != 0 || (rc = gale_codec_write_raw(w, e->key.ptr, e->key.len)) != 0 ||
			    (rc = w16(w, e->val.len)) != 0 || (rc = gale_codec_write_raw(w, e->val.ptr, e->val.len)) != 0)
				return rc;
		}
	}
	if (f->acl_token.len != 0) {
		if ((rc = gale_codec_write_u8(w, GALE_TTHEADER_INFO_ACL_TOKEN)) != 0 ||
		    (rc = w16(w, f->acl_token.len)) != 0 ||
		    (rc = gale_codec_write_raw(w, f->acl_token.ptr, f->acl_token.len)) != 0)
			return rc;
	}
	return 0;
}
