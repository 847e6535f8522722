/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tv.c: the generic value tree of tv.h. It calls the protocol functions by name (gale_binary_* and
 * gale_compact_*), the way generated code does, so the tests exercise the inline fast paths and their slow paths.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <gale/binary.h>
#include <gale/compact.h>

#include "tv.h"

#define DISPATCH(proto, fn, ...)                                                                               \
	((proto) == GALE_PROTO_COMPACT ? gale_compact_##fn(__VA_ARGS__) : gale_binary_##fn(__VA_ARGS__))

static struct gale_test_tv *
kids(struct gale_codec_reader *r, struct gale_arena *a, size_t n)
{
	struct gale_test_tv *k = gale_arena_alloc(a, (n ? n : 1) * sizeof(*k), 8);

	if (k == NULL)
		gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
	else
		memset(k, 0, (n ? n : 1) * sizeof(*k));
	return k;
}

int
gale_test_tv_read(struct gale_codec_reader *r, int proto, struct gale_arena *a, uint8_t type, struct gale_test_tv *v)
{
	int rc;
	uint32_t i;

	v->type = type;
	switch (type) {
	case GALE_T_BOOL: {
		uint8_t b;

		if ((rc = DISPATCH(proto, read_bool, r, &b)) == 0)
			v->u.i = b;
		return rc;
	}
	case GALE_T_BYTE: {
		int8_t b;

		if ((rc = DISPATCH(proto, read_byte, r, &b)) == 0)
			v->u.i = b;
		return rc;
	}
	case GALE_T_I16: {
		int16_t x;

		if ((rc = DISPATCH(proto, read_i16, r, &x)) == 0)
			v->u.i = x;
		return rc;
	}
	case GALE_T_I32: {
		int32_t x;

		if ((rc = DISPATCH(proto, read_i32, r, &x)) == 0)
			v->u.i = x;
		return rc;
	}
	case GALE_T_I64:
		return DISPATCH(proto, read_i64, r, &v->u.i);
	case GALE_T_DOUBLE:
		return DISPATCH(proto, read_double, r, &v->u.d);
	case GALE_T_STRING:
		return DISPATCH(proto, read_string, r, &v->u.s);
	case GALE_T_UUID:
		return DISPATCH(proto, read_uuid, r, v->u.uuid);
	case GALE_T_STRUCT: {
		size_t cap = 8;
		struct gale_test_tv *k;

		if ((rc = DISPATCH(proto, read_struct_begin, r)) != 0)
			return rc;
		if ((k = kids(r, a, cap)) == NULL)
			return -1;
		v->n = 0;
		for (;;) {
			uint8_t ft;
			int16_t id;

			if ((rc = DISPATCH(proto, read_field_begin, r, &ft, &id)) != 0)
				return rc;
			if (ft == GALE_T_STOP)
				break;
			if (v->n == cap) {
				struct gale_test_tv *k2 = kids(r, a, cap * 2);

				if (k2 == NULL)
					return -1;
				memcpy(k2, k, cap * sizeof(*k));
				k = k2;
				cap *= 2;
			}
			k[v->n].id = id;
			if ((rc = gale_test_tv_read(r, proto, a, ft, &k[v->n])) != 0)
				return rc;
			v->n++;
		}
		v->kids = k;
		return DISPATCH(proto, read_struct_end, r);
	}
	case GALE_T_LIST:
	case GALE_T_SET:
		if (type == GALE_T_LIST)
			rc = DISPATCH(proto, read_list_begin, r, &v->t1, &v->n);
		else
			rc = DISPATCH(proto, read_set_begin, r, &v->t1, &v->n);
		if (rc != 0)
			return rc;
		if ((v->kids = kids(r, a, v->n)) == NULL)
			return -1;
		for (i = 0; i < v->n; i++) {
			if ((rc = gale_test_tv_read(r, proto, a, v->t1, &v->kids[i])) != 0)
				return rc;
		}
		return DISPATCH(proto, read_list_end, r);
	case GALE_T_MAP:
		if ((rc = DISPATCH(proto, read_map_begin, r, &v->t1, &v->t2, &v->n)) != 0)
			return rc;
		if ((v->kids = kids(r, a, (size_t)v->n * 2)) == NULL)
			return -1;
		for (i = 0; i < v->n; i++) {
			if ((rc = gale_test_tv_read(r, proto, a, v->t1, &v->kids[2 * i])) != 0 ||
			    (rc = gale_test_tv_read(r, proto, a, v->t2, &v->kids[2 * i + 1])) != 0)
				return rc;
		}
		return DISPATCH(proto, read_map_end, r);
	default:
		return gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);
	}
}

int
gale_test_tv_read_msg(struct gale_codec_reader *r, int proto, struct gale_arena *a, struct gale_test_tv_msg *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = DISPATCH(proto, read_message_begin, r, &m->name, &m->type, &m->seqid)) != 0)
		return rc;
	if ((rc = gale_test_tv_read(r, proto, a, GALE_T_STRUCT, &m->body)) != 0)
		return rc;
	return DISPATCH(proto, read_message_end, r);
}

int
gale_test_tv_write(struct gale_codec_writer *w, int proto, const struct gale_test_tv *v)
{
	uint32_t i;
	int rc;

	switch (v->type) {
	case GALE_T_BOOL:
		return DISPATCH(proto, write_bool, w, (uint8_t)v->u.i);
	case GALE_T_BYTE:
		return DISPATCH(proto, write_byte, w, (int8_t)v->u.i);
	case GALE_T_I16:
		return DISPATCH(proto, write_i16, w, (int16_t)v->u.i);
	case GALE_T_I32:
		return DISPATCH(proto, write_i32, w, (int32_t)v->u.i);
	case GALE_T_I64:
		return DISPATCH(proto, write_i64, w, v->u.i);
	case GALE_T_DOUBLE:
		return DISPATCH(proto, write_double, w, v->u.d);
	case GALE_T_STRING:
		return DISPATCH(proto, write_string, w, v->u.s.ptr, v->u.s.len);
	case GALE_T_UUID:
		return DISPATCH(proto, write_uuid, w, v->u.uuid);
	case GALE_T_STRUCT:
		if ((rc = DISPATCH(proto, write_struct_begin, w)) != 0)
			return rc;
		for (i = 0; i < v->n; i++) {
			if ((rc = DISPATCH(proto, write_field_begin, w, v->kids[i].type, v->kids[i].id)) != 0 ||
			    (rc = gale_test_tv_write(w, proto, &v->kids[i])) != 0 ||
			    (rc = DISPATCH(proto, write_field_end, w)) != 0)
				return rc;
		}
		if ((rc = DISPATCH(proto, write_field_stop, w)) != 0)
			return rc;
		return DISPATCH(proto, write_struct_end, w);
	case GALE_T_LIST:
	case GALE_T_SET:
		if (v->type == GALE_T_LIST)
			rc = DISPATCH(proto, write_list_begin, w, v->t1, v->n);
		else
			rc = DISPATCH(proto, write_set_begin, w, v->t1, v->n);
		if (rc != 0)
			return rc;
		for (i = 0; i < v->n; i++) {
			if ((rc = gale_test_tv_write(w, proto, &v->kids[i])) != 0)
				return rc;
		}
		return 0;
	case GALE_T_MAP:
		if ((rc = DISPATCH(proto, write_map_begin, w, v->t1, v->t2, v->n)) != 0)
			return rc;
		for (i = 0; i < 2 * v->n; i++) {
			if ((rc = gale_test_tv_write(w, proto, &v->kids[i])) != 0)
				return rc;
		}
		return 0;
	default:
		return gale_codec_writer_fail(w, GALE_CODEC_E_BAD_TYPE);
	}
}

int
gale_test_tv_write_msg(struct gale_codec_writer *w, int proto, const struct gale_test_tv_msg *m)
{
	int rc;

	if ((rc = DISPATCH(proto, write_message_begin, w, (const char *)m->name.ptr, m->name.len, m->type,
			   m->seqid)) != 0)
		return rc;
	if ((rc = gale_test_tv_write(w, proto, &m->body)) != 0)
		return rc;
	return DISPATCH(proto, write_message_end, w);
}

struct out {
	char *buf;
	size_t cap, len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;

		memcpy(o->buf + o->len, s, k);
	}
	o->len += n;
}

static void
putf(struct out *o, const char *fmt, int64_t x)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), fmt, x);

	put(o, tmp, (size_t)n);
}

static void
puthex(struct out *o, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		char c[2] = {hex[p[i] >> 4], hex[p[i] & 15]};

		put(o, c, 2);
	}
}

static void
dump(struct out *o, const struct gale_test_tv *v)
{
	uint32_t i;
	uint64_t bits;

	switch (v->type) {
	case GALE_T_BOOL:
		put(o, v->u.i ? "T" : "F", 1);
		break;
	case GALE_T_BYTE:
		putf(o, "b%" PRId64, v->u.i);
		break;
	case GALE_T_I16:
		putf(o, "h%" PRId64, v->u.i);
		break;
	case GALE_T_I32:
		putf(o, "i%" PRId64, v->u.i);
		break;
	case GALE_T_I64:
		putf(o, "l%" PRId64, v->u.i);
		break;
	case GALE_T_DOUBLE:
		memcpy(&bits, &v->u.d, 8);
		putf(o, "d%016" PRIx64, (int64_t)bits);
		break;
	case GALE_T_STRING:
		put(o, "s", 1);
		puthex(o, v->u.s.ptr, v->u.s.len);
		break;
	case GALE_T_UUID:
		put(o, "u", 1);
		puthex(o, v->u.uuid, 16);
		break;
	case GALE_T_STRUCT:
		put(o, "{", 1);
		for (i = 0; i < v->n; i++) {
			putf(o, "%" PRId64 ":", v->kids[i].id);
			dump(o, &v->kids[i]);
			put(o, ",", 1);
		}
		put(o, "}", 1);
		break;
	case GALE_T_LIST:
	case GALE_T_SET:
		put(o, v->type == GALE_T_LIST ? "[" : "<", 1);
		putf(o, "%" PRId64 ":", v->t1);
		for (i = 0; i < v->n; i++) {
			dump(o, &v->kids[i]);
			put(o, ",", 1);
		}
		put(o, v->type == GALE_T_LIST ? "]" : ">", 1);
		break;
	case GALE_T_MAP:
		put(o, "(", 1);
		if (v->n != 0) {
			putf(o, "%" PRId64 ",", v->t1);
			putf(o, "%" PRId64 ":", v->t2);
		}
		for (i = 0; i < v->n; i++) {
			dump(o, &v->kids[2 * i]);
			put(o, "=", 1);
			dump(o, &v->kids[2 * i + 1]);
			put(o, ";", 1);
		}
		put(o, ")", 1);
		break;
	default:
		put(o, "?", 1);
	}
}

size_t
gale_test_tv_dump(const struct gale_test_tv *v, char *buf, size_t cap)
{
	struct out o = {buf, cap ? cap - 1 : 0, 0};

	dump(&o, v);
	if (cap != 0)
		buf[o.len < o.cap ? o.len : o.cap] = '\0';
	return o.len;
}

size_t
gale_test_tv_dump_msg(const struct gale_test_tv_msg *m, char *buf, size_t cap)
{
	struct out o = {buf, cap ? cap - 1 : 0, 0};

	put(&o, "m", 1);
	puthex(&o, m->name.ptr, m->name.len);
	putf(&o, " t%" PRId64, m->type);
	putf(&o, " q%" PRId64 " ", m->seqid);
	dump(&o, &m->body);
	if (cap != 0)
		buf[o.len < o.cap ? o.len : o.cap] = '\0';
	return o.len;
}
