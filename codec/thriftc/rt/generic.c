/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Generic (reflective) decoding and JSON output for gale-thriftc's descriptors; see <gale/thriftc.h>.
 *
 * The decoder walks the wire types, not a schema, so it reads any Thrift value; descriptors only name things
 * when printing. The protocol is a run-time argument: each primitive goes through a two-way branch to the
 * inline Binary or Compact call. That costs a predictable branch per value, which is fine here: generated code,
 * not this file, is the fast path.
 *
 * Struct fields are collected into an arena array that doubles when full (the old copy is abandoned in the
 * arena: at most as much again as the final array). Container element counts are checked by the codec against
 * the limits and the bytes left before the array is taken from the arena.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <gale/binary.h>
#include <gale/compact.h>
#include <gale/thriftc.h>

#define GALE__C(proto) ((proto) == GALE_PROTO_COMPACT)

const struct gale_tc_field_desc *
gale_tc_desc_field(const struct gale_tc_struct_desc *d, int16_t id)
{
	uint32_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < d->nfields; i++)
		if (d->fields[i].id == id)
			return &d->fields[i];
	return NULL;
}

static void *
gale__tc_arr(struct gale_codec_reader *r, size_t n, size_t size)
{
	return gale_arena_alloc(r->arena, n * size, _Alignof(struct gale_tc_value));
}

static int
gale__tc_read_container(int proto, struct gale_codec_reader *r, uint8_t t, struct gale_tc_value *out)
{
	uint8_t kt = GALE_T_STOP, et = GALE_T_STOP;
	uint32_t n, i, items;
	int rc;

	if (t == GALE_T_MAP)
		rc = GALE__C(proto) ? gale_compact_read_map_begin(r, &kt, &et, &n) :
				      gale_binary_read_map_begin(r, &kt, &et, &n);
	else
		rc = GALE__C(proto) ? gale_compact_read_list_begin(r, &et, &n) :
				      gale_binary_read_list_begin(r, &et, &n);
	if (rc != 0)
		return rc;
	items = t == GALE_T_MAP ? 2 * n : n;
	out->u.c.n = n;
	out->u.c.etype = et;
	out->u.c.ktype = kt;
	out->u.c.items = NULL;
	if (items > 0) {
		out->u.c.items = gale__tc_arr(r, items, sizeof(struct gale_tc_value));
		if (out->u.c.items == NULL)
			return gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
	}
	for (i = 0; i < n; i++) {
		if (t == GALE_T_MAP) {
			if ((rc = gale_tc_generic_read(proto, r, kt, &out->u.c.items[2 * i])) != 0 ||
			    (rc = gale_tc_generic_read(proto, r, et, &out->u.c.items[2 * i + 1])) != 0)
				return rc;
		} else if ((rc = gale_tc_generic_read(proto, r, et, &out->u.c.items[i])) != 0) {
			return rc;
		}
	}
	/* The *_end calls of both protocols only undo the depth count. */
	r->depth--;
	return 0;
}

static int
gale__tc_read_struct(int proto, struct gale_codec_reader *r, struct gale_tc_value *out)
{
	struct gale_tc_fvalue *f = NULL;
	uint32_t n = 0, cap = 0;
	int rc;

	rc = GALE__C(proto) ? gale_compact_read_struct_begin(r) : gale_binary_read_struct_begin(r);
	if (rc != 0)
		return rc;
	for (;;) {
		uint8_t ft;
		int16_t id;

		rc = GALE__C(proto) ? gale_compact_read_field_begin(r, &ft, &id) :
				      gale_binary_read_field_begin(r, &ft, &id);
		if (rc != 0)
			return rc;
		if (ft == GALE_T_STOP)
			break;
		if (n == cap) {
			uint32_t ncap = cap ? cap * 2 : 8;
			struct gale_tc_fvalue *nf = gale__tc_arr(r, ncap, sizeof(*nf));

			if (nf == NULL)
				return gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
			if (n > 0)
				memcpy(nf, f, n * sizeof(*nf));
			f = nf;
			cap = ncap;
		}
		f[n].id = id;
		if ((rc = gale_tc_generic_read(proto, r, ft, &f[n].v)) != 0)
			return rc;
		n++;
	}
	rc = GALE__C(proto) ? gale_compact_read_struct_end(r) : gale_binary_read_struct_end(r);
	out->u.st.fields = f;
	out->u.st.n = n;
	return rc;
}

int
gale_tc_generic_read(int proto, struct gale_codec_reader *r, uint8_t ttype, struct gale_tc_value *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->ttype = ttype;
	switch (ttype) {
	case GALE_T_BOOL: {
		uint8_t b = 0;

		rc = GALE__C(proto) ? gale_compact_read_bool(r, &b) : gale_binary_read_bool(r, &b);
		out->u.i = b;
		return rc;
	}
	case GALE_T_BYTE: {
		int8_t v = 0;

		rc = GALE__C(proto) ? gale_compact_read_byte(r, &v) : gale_binary_read_byte(r, &v);
		out->u.i = v;
		return rc;
	}
	case GALE_T_I16: {
		int16_t v = 0;

		rc = GALE__C(proto) ? gale_compact_read_i16(r, &v) : gale_binary_read_i16(r, &v);
		out->u.i = v;
		return rc;
	}
	case GALE_T_I32: {
		int32_t v = 0;

		rc = GALE__C(proto) ? gale_compact_read_i32(r, &v) : gale_binary_read_i32(r, &v);
		out->u.i = v;
		return rc;
	}
	case GALE_T_I64:
		return GALE__C(proto) ? gale_compact_read_i64(r, &out->u.i) : gale_binary_read_i64(r, &out->u.i);
	case GALE_T_DOUBLE:
		return GALE__C(proto) ? gale_compact_read_double(r, &out->u.d) : gale_binary_read_double(r, &out->u.d);
	case GALE_T_STRING:
		return GALE__C(proto) ? gale_compact_read_string(r, &out->u.s) : gale_binary_read_string(r, &out->u.s);
	case GALE_T_UUID:
		return GALE__C(proto) ? gale_compact_read_uuid(r, out->u.uuid) : gale_binary_read_uuid(r, out->u.uuid);
	case GALE_T_LIST:
	case GALE_T_SET:
	case GALE_T_MAP:
		return gale__tc_read_container(proto, r, ttype, out);
	case GALE_T_STRUCT:
		return gale__tc_read_struct(proto, r, out);
	default:
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
	}
}

/* ---- JSON ---- */

static void
gale__tc_json_str(FILE *out, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	fputc('"', out);
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out); /* bytes >= 0x80 pass through: UTF-8 text stays text */
	}
	fputc('"', out);
}

static void
gale__tc_json_base64(FILE *out, const uint8_t *p, uint32_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t i;

	fputc('"', out);
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		fprintf(out, "%c%c%c%c", tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		fprintf(out, "%c%c==", tbl[v >> 18], tbl[(v >> 12) & 63]);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		fprintf(out, "%c%c%c=", tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63]);
	}
	fputc('"', out);
}

static bool
gale__tc_json_keyable(uint8_t t)
{
	return t == GALE_T_STRING || t == GALE_T_BYTE || t == GALE_T_I16 || t == GALE_T_I32 || t == GALE_T_I64 ||
	       t == GALE_T_BOOL;
}

static void gale__tc_json(FILE *out, const struct gale_tc_value *v, const struct gale_tc_type_desc *t, int depth);

static void
gale__tc_json_key(FILE *out, const struct gale_tc_value *k)
{
	if (k->ttype == GALE_T_STRING)
		gale__tc_json_str(out, k->u.s.ptr, k->u.s.len);
	else if (k->ttype == GALE_T_BOOL)
		fputs(k->u.i ? "\"true\"" : "\"false\"", out);
	else
		fprintf(out, "\"%" PRId64 "\"", k->u.i);
}

static void
gale__tc_json(FILE *out, const struct gale_tc_value *v, const struct gale_tc_type_desc *t, int depth)
{
	uint32_t i;

	if (t != NULL && t->ttype != v->ttype)
		t = NULL; /* the wire disagrees with the schema: print what the wire says */
	if (depth > 200) {
		fputs("null", out);
		return;
	}
	switch (v->ttype) {
	case GALE_T_BOOL:
		fputs(v->u.i ? "true" : "false", out);
		break;
	case GALE_T_BYTE:
	case GALE_T_I16:
	case GALE_T_I32:
	case GALE_T_I64:
		fprintf(out, "%" PRId64, v->u.i);
		break;
	case GALE_T_DOUBLE:
		if (v->u.d != v->u.d || v->u.d - v->u.d != 0)
			fputs("null", out); /* NaN and infinities have no JSON form */
		else
			fprintf(out, "%.17g", v->u.d);
		break;
	case GALE_T_STRING:
		if (t != NULL && t->is_binary)
			gale__tc_json_base64(out, v->u.s.ptr, v->u.s.len);
		else
			gale__tc_json_str(out, v->u.s.ptr, v->u.s.len);
		break;
	case GALE_T_UUID:
		fputc('"', out);
		for (i = 0; i < 16; i++)
			fprintf(out, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", v->u.uuid[i]);
		fputc('"', out);
		break;
	case GALE_T_LIST:
	case GALE_T_SET:
		fputc('[', out);
		for (i = 0; i < v->u.c.n; i++) {
			if (i)
				fputc(',', out);
			gale__tc_json(out, &v->u.c.items[i], t ? t->elem : NULL, depth + 1);
		}
		fputc(']', out);
		break;
	case GALE_T_MAP:
		if (gale__tc_json_keyable(v->u.c.ktype) || v->u.c.n == 0) {
			fputc('{', out);
			for (i = 0; i < v->u.c.n; i++) {
				if (i)
					fputc(',', out);
				gale__tc_json_key(out, &v->u.c.items[2 * i]);
				fputc(':', out);
				gale__tc_json(out, &v->u.c.items[2 * i + 1], t ? t->elem : NULL, depth + 1);
			}
			fputc('}', out);
		} else {
			fputc('[', out);
			for (i = 0; i < v->u.c.n; i++) {
				if (i)
					fputc(',', out);
				fputc('[', out);
				gale__tc_json(out, &v->u.c.items[2 * i], t ? t->key : NULL, depth + 1);
				fputc(',', out);
				gale__tc_json(out, &v->u.c.items[2 * i + 1], t ? t->elem : NULL, depth + 1);
				fputc(']', out);
			}
			fputc(']', out);
		}
		break;
	case GALE_T_STRUCT:
		fputc('{', out);
		for (i = 0; i < v->u.st.n; i++) {
			const struct gale_tc_fvalue *f = &v->u.st.fields[i];
			const struct gale_tc_field_desc *fd = t ? gale_tc_desc_field(t->st, f->id) : NULL;

			if (i)
				fputc(',', out);
			if (fd != NULL)
				gale__tc_json_str(out, (const uint8_t *)fd->name, (uint32_t)strlen(fd->name));
			else
				fprintf(out, "\"%d\"", f->id);
			fputc(':', out);
			gale__tc_json(out, &f->v, fd ? fd->type : NULL, depth + 1);
		}
		fputc('}', out);
		break;
	default:
		fputs("null", out);
		break;
	}
}

int
gale_tc_generic_json(FILE *out, const struct gale_tc_value *v, const struct gale_tc_type_desc *t)
{
	gale__tc_json(out, v, t, 0);
	return ferror(out) ? -EIO : 0;
}
