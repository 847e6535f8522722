/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc C back end: one <name>.h and <name>.c per IDL file, against the codec API of <gale/codec.h>,
 * <gale/binary.h> and <gale/compact.h>.
 *
 * What is generated, per IDL file with C prefix P (namespace c or gale, else the file's base name):
 *   - enums as C enums (P_Enum_VALUE) and a P_Enum_name() lookup;
 *   - one struct per struct/union/exception: plain members, strings and binaries as `struct gale_codec_bytes`
 *     views, uuids as `struct gale_uuid`, enums as int32_t, lists/sets/maps as `struct gale_list_X` /
 *     `gale_set_X` / `gale_map_K_V` (pointer + count, arrays from the reader's arena), and an `isset_` bit
 *     array with one bit per field (P_S_F_field is the bit). A field of struct type is held by value, or by
 *     pointer when it is a `&` reference or closes a by-value cycle (a recursive struct);
 *   - per struct: _init (IDL defaults), _equal, _print (debug text), and _read_binary / _write_binary /
 *     _read_compact / _write_compact: straight-line code over the protocol's inline calls, a switch on the
 *     field id, unknown fields skipped, required fields checked after the STOP;
 *   - constants as `extern const` objects;
 *   - per service: P_Svc_fn_args / P_Svc_fn_result structs (like Apache's), a handler table the user fills
 *     (typed handlers), P_Svc_dispatch() that decodes the call, runs the handler and encodes the reply, and
 *     client stubs: P_Svc_fn_send() / P_Svc_fn_recv() on a writer / reader, and P_Svc_fn_call() / _call_async()
 *     through a channel of <gale/thriftc.h> that the runtime implements;
 *   - per struct a descriptor P_S_desc for the generic decoder and JSON printer of <gale/thriftc.h>.
 *
 * Optional fields are written only when their isset bit is on; required and default-requiredness fields are
 * always written (Apache C++'s rule). Unions are written field by field like optional fields.
 * Container helpers (equality, printing, reading, writing) are static functions of each .c, so two files may
 * use the same container type without a link clash; the container struct types themselves are guarded by
 * #ifndef so any set of generated headers can be included together.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "thriftc.h"

struct tc_gen {
	struct tc_ctx *ctx;
	struct tc_file *file;
	FILE *h;
	FILE *c;
	const char *prefix;
	struct tc_vec structs;    /**< struct defs of this file incl. synthesized args/results, in emit order */
	struct tc_vec containers; /**< distinct container types used in this file (struct tc_type *) */
	int nconst;               /**< counter for hoisted constant arrays */
};

static const char *const gale__tc_c_keywords[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
	"extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
	"short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
	"volatile", "while", "bool", "true", "false", "NULL", "errno", "stdin", "stdout", "stderr",
	"assert", "isset_",
};

static const char *
gale__tc_cid(struct tc_ctx *ctx, const char *name)
{
	size_t i;
	char *s;

	for (i = 0; i < sizeof(gale__tc_c_keywords) / sizeof(gale__tc_c_keywords[0]); i++)
		if (strcmp(name, gale__tc_c_keywords[i]) == 0)
			return gale__tc_sprintf(ctx, "%s_", name);
	s = gale__tc_strdup(ctx, name);
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '.')
			s[i] = '_';
	return s;
}

static const char *
gale__tc_prefix(struct tc_ctx *ctx, const struct tc_file *f)
{
	size_t i;

	for (i = 0; i < f->namespaces.n; i++) {
		const struct tc_namespace *ns = f->namespaces.v[i];

		if (strcmp(ns->scope, "gale") == 0)
			return gale__tc_cid(ctx, ns->name);
	}
	for (i = 0; i < f->namespaces.n; i++) {
		const struct tc_namespace *ns = f->namespaces.v[i];

		if (strcmp(ns->scope, "c") == 0)
			return gale__tc_cid(ctx, ns->name);
	}
	return gale__tc_cid(ctx, f->name);
}

static const char *
gale__tc_dname(struct tc_ctx *ctx, const struct tc_def *d)
{
	return gale__tc_sprintf(ctx, "%s_%s", gale__tc_prefix(ctx, d->file), d->name);
}

static struct tc_type *
gale__tc_tt(struct tc_type *t)
{
	return gale__tc_true_type(t);
}

static bool
gale__tc_is_container(struct tc_type *t)
{
	t = gale__tc_tt(t);
	return t->kind == T_LIST || t->kind == T_SET || t->kind == T_MAP;
}

/* A name fragment for a type, for container type names: list<map<string,i32>> -> list_map_string_i32. */
static const char *
gale__tc_mangle(struct tc_ctx *ctx, struct tc_type *t)
{
	t = gale__tc_tt(t);
	switch (t->kind) {
	case T_LIST:
		return gale__tc_sprintf(ctx, "list_%s", gale__tc_mangle(ctx, t->elem));
	case T_SET:
		return gale__tc_sprintf(ctx, "set_%s", gale__tc_mangle(ctx, t->elem));
	case T_MAP:
		return gale__tc_sprintf(ctx, "map_%s_%s", gale__tc_mangle(ctx, t->key), gale__tc_mangle(ctx, t->elem));
	case T_NAMED:
		if (t->def->kind == D_ENUM)
			return "i32";
		return gale__tc_dname(ctx, t->def);
	default:
		return gale__tc_type_name(ctx, t);
	}
}

/* The C type that holds a value of t. */
static const char *
gale__tc_ctype(struct tc_ctx *ctx, struct tc_type *t)
{
	t = gale__tc_tt(t);
	switch (t->kind) {
	case T_BOOL: return "bool";
	case T_I8: return "int8_t";
	case T_I16: return "int16_t";
	case T_I32: return "int32_t";
	case T_I64: return "int64_t";
	case T_DOUBLE: return "double";
	case T_STRING:
	case T_BINARY: return "struct gale_codec_bytes";
	case T_UUID: return "struct gale_uuid";
	case T_LIST:
	case T_SET:
	case T_MAP: return gale__tc_sprintf(ctx, "struct gale_%s", gale__tc_mangle(ctx, t));
	case T_NAMED:
		if (t->def->kind == D_ENUM)
			return "int32_t";
		return gale__tc_sprintf(ctx, "struct %s", gale__tc_dname(ctx, t->def));
	default:
		return "void";
	}
}

static const char *
gale__tc_ttype(struct tc_type *t)
{
	t = gale__tc_tt(t);
	switch (t->kind) {
	case T_BOOL: return "GALE_T_BOOL";
	case T_I8: return "GALE_T_BYTE";
	case T_I16: return "GALE_T_I16";
	case T_I32: return "GALE_T_I32";
	case T_I64: return "GALE_T_I64";
	case T_DOUBLE: return "GALE_T_DOUBLE";
	case T_STRING:
	case T_BINARY: return "GALE_T_STRING";
	case T_UUID: return "GALE_T_UUID";
	case T_LIST: return "GALE_T_LIST";
	case T_SET: return "GALE_T_SET";
	case T_MAP: return "GALE_T_MAP";
	case T_NAMED: return t->def->kind == D_ENUM ? "GALE_T_I32" : "GALE_T_STRUCT";
	default: return "GALE_T_VOID";
	}
}

static void
gale__tc_put_doc(FILE *out, const char *indent, const char *doc)
{
	const char *p;

	if (doc == NULL || doc[0] == '\0')
		return;
	fprintf(out, "%s/**\n%s *", indent, indent);
	for (p = doc; *p != '\0'; p++) {
		if (*p == '\n') {
			fprintf(out, "\n%s *", indent);
			if (p[1] != '\n' && p[1] != '\0')
				fputc(' ', out);
		} else {
			if (p == doc)
				fputc(' ', out);
			/* Keep the comment closed: a star-slash in the IDL doc would end it early. */
			if (*p == '*' && p[1] == '/')
				fputs("* ", out);
			else
				fputc(*p, out);
		}
	}
	fprintf(out, "\n%s */\n", indent);
}

/* C string literal for bytes s[0..n). */
static const char *
gale__tc_cstr(struct tc_ctx *ctx, const char *s, size_t n)
{
	char *out = gale__tc_alloc(ctx, n * 4 + 3);
	size_t i, o = 0;
	bool hex_prev = false;

	out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (ch == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (ch < 0x20 || ch >= 0x7f || (hex_prev && ((ch >= '0' && ch <= '9') ||
								    (ch >= 'a' && ch <= 'f') ||
								    (ch >= 'A' && ch <= 'F')))) {
			o += (size_t)sprintf(out + o, "\\%03o", ch);
			hex_prev = false;
			continue;
		} else {
			out[o++] = (char)ch;
		}
		hex_prev = false;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* ---- field layout ---- */

static bool
gale__tc_field_opt(const struct tc_def *d, const struct tc_field *f)
{
	return d->kind == D_UNION || f->req == REQ_OPTIONAL;
}

/* Marks struct fields that must be pointers: `&` references, and fields that close a by-value cycle. */
static void
gale__tc_mark_cycles(struct tc_def *d)
{
	size_t i;

	d->mark = 1; /* on the stack */
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		struct tc_type *t = gale__tc_tt(f->type);

		if (f->reference)
			f->by_pointer = true;
		if (f->by_pointer || t->kind != T_NAMED || t->def->kind == D_ENUM)
			continue;
		if (t->def->mark == 1)
			f->by_pointer = true;
		else if (t->def->mark != 2)
			gale__tc_mark_cycles(t->def);
	}
	d->mark = 2;
}

/* ---- containers ---- */

static void
gale__tc_note_type(struct tc_gen *g, struct tc_type *t)
{
	size_t i;
	const char *m;

	t = gale__tc_tt(t);
	if (!gale__tc_is_container(t))
		return;
	if (t->key != NULL)
		gale__tc_note_type(g, t->key);
	gale__tc_note_type(g, t->elem);
	m = gale__tc_mangle(g->ctx, t);
	for (i = 0; i < g->containers.n; i++)
		if (strcmp(gale__tc_mangle(g->ctx, g->containers.v[i]), m) == 0)
			return;
	gale__tc_vec_push(g->ctx, &g->containers, t);
}

static void
gale__tc_emit_container_type(struct tc_gen *g, struct tc_type *t)
{
	const char *m = gale__tc_mangle(g->ctx, t);
	FILE *h = g->h;

	fprintf(h, "#ifndef GALE_HAVE_%s\n#define GALE_HAVE_%s\n", m, m);
	fprintf(h, "/** %s: arrays live in the decoding arena (or are static, for constants). */\n",
		gale__tc_type_name(g->ctx, t));
	fprintf(h, "struct gale_%s {\n", m);
	if (t->kind == T_MAP) {
		fprintf(h, "\t%s *k; /**< keys */\n", gale__tc_ctype(g->ctx, t->key));
		fprintf(h, "\t%s *v; /**< values, v[i] belongs to k[i] */\n", gale__tc_ctype(g->ctx, t->elem));
	} else {
		fprintf(h, "\t%s *v; /**< elements */\n", gale__tc_ctype(g->ctx, t->elem));
	}
	fprintf(h, "\tuint32_t n; /**< count */\n};\n#endif\n\n");
}

/* ---- per-type code fragments ---- */

/* Statement(s) reading one value of t into *(ptr) with protocol pr; on failure return the code. */
static void
gale__tc_read_stmt(struct tc_gen *g, FILE *o, const char *ind, struct tc_type *t, const char *ptr, const char *pr)
{
	struct tc_type *tt = gale__tc_tt(t);

	switch (tt->kind) {
	case T_BOOL:
		fprintf(o, "%s{\n%s\tuint8_t b_;\n\n%s\tGALE__TRY(gale_%s_read_bool(r, &b_));\n%s\t*(%s) = b_ != 0;\n%s}\n",
			ind, ind, ind, pr, ind, ptr, ind);
		break;
	case T_I8:
		fprintf(o, "%sGALE__TRY(gale_%s_read_byte(r, %s));\n", ind, pr, ptr);
		break;
	case T_I16:
	case T_I32:
	case T_I64:
	case T_DOUBLE:
		fprintf(o, "%sGALE__TRY(gale_%s_read_%s(r, %s));\n", ind, pr, gale__tc_type_name(g->ctx, tt), ptr);
		break;
	case T_STRING:
	case T_BINARY:
		fprintf(o, "%sGALE__TRY(gale_%s_read_string(r, %s));\n", ind, pr, ptr);
		break;
	case T_UUID:
		fprintf(o, "%sGALE__TRY(gale_%s_read_uuid(r, (%s)->b));\n", ind, pr, ptr);
		break;
	case T_LIST:
	case T_SET:
	case T_MAP:
		fprintf(o, "%sGALE__TRY(gale__read_%s_%s(r, %s));\n", ind, pr, gale__tc_mangle(g->ctx, tt), ptr);
		break;
	case T_NAMED:
		if (tt->def->kind == D_ENUM)
			fprintf(o, "%sGALE__TRY(gale_%s_read_i32(r, %s));\n", ind, pr, ptr);
		else
			fprintf(o, "%sGALE__TRY(%s_read_%s(r, %s));\n", ind, gale__tc_dname(g->ctx, tt->def), pr, ptr);
		break;
	default:
		break;
	}
}

/* Statement writing the value `val` of type t with protocol pr. */
static void
gale__tc_write_stmt(struct tc_gen *g, FILE *o, const char *ind, struct tc_type *t, const char *val, const char *pr)
{
	struct tc_type *tt = gale__tc_tt(t);

	switch (tt->kind) {
	case T_BOOL:
		fprintf(o, "%sGALE__TRY(gale_%s_write_bool(w, %s));\n", ind, pr, val);
		break;
	case T_I8:
		fprintf(o, "%sGALE__TRY(gale_%s_write_byte(w, %s));\n", ind, pr, val);
		break;
	case T_I16:
	case T_I32:
	case T_I64:
	case T_DOUBLE:
		fprintf(o, "%sGALE__TRY(gale_%s_write_%s(w, %s));\n", ind, pr, gale__tc_type_name(g->ctx, tt), val);
		break;
	case T_STRING:
	case T_BINARY:
		if (strcmp(pr, "binary") == 0)
			fprintf(o, "%sGALE__TRY(gale__put_string(w, &(%s)));\n", ind, val);
		else
			fprintf(o, "%sGALE__TRY(gale__cput_string(w, &(%s)));\n", ind, val);
		break;
	case T_UUID:
		fprintf(o, "%sGALE__TRY(gale_%s_write_uuid(w, (%s).b));\n", ind, pr, val);
		break;
	case T_LIST:
	case T_SET:
	case T_MAP:
		fprintf(o, "%sGALE__TRY(gale__write_%s_%s(w, &(%s)));\n", ind, pr, gale__tc_mangle(g->ctx, tt), val);
		break;
	case T_NAMED:
		if (tt->def->kind == D_ENUM)
			fprintf(o, "%sGALE__TRY(gale_%s_write_i32(w, %s));\n", ind, pr, val);
		else
			fprintf(o, "%sGALE__TRY(%s_write_%s(w, &(%s)));\n", ind, gale__tc_dname(g->ctx, tt->def), pr,
				val);
		break;
	default:
		break;
	}
}

/* Expression: values a and b (lvalues of type t) are equal. */
static const char *
gale__tc_eq_expr(struct tc_gen *g, struct tc_type *t, const char *a, const char *b)
{
	struct tc_ctx *ctx = g->ctx;
	struct tc_type *tt = gale__tc_tt(t);

	switch (tt->kind) {
	case T_STRING:
	case T_BINARY:
		return gale__tc_sprintf(ctx, "gale__bytes_equal(&(%s), &(%s))", a, b);
	case T_UUID:
		return gale__tc_sprintf(ctx, "memcmp((%s).b, (%s).b, 16) == 0", a, b);
	case T_DOUBLE:
		return gale__tc_sprintf(ctx, "gale__double_equal(%s, %s)", a, b);
	case T_LIST:
	case T_SET:
	case T_MAP:
		return gale__tc_sprintf(ctx, "gale__equal_%s(&(%s), &(%s))", gale__tc_mangle(ctx, tt), a, b);
	case T_NAMED:
		if (tt->def->kind != D_ENUM)
			return gale__tc_sprintf(ctx, "%s_equal(&(%s), &(%s))", gale__tc_dname(ctx, tt->def), a, b);
		return gale__tc_sprintf(ctx, "(%s) == (%s)", a, b);
	default:
		return gale__tc_sprintf(ctx, "(%s) == (%s)", a, b);
	}
}

static void
gale__tc_print_stmt(struct tc_gen *g, FILE *o, const char *ind, struct tc_type *t, const char *v)
{
	struct tc_ctx *ctx = g->ctx;
	struct tc_type *tt = gale__tc_tt(t);

	switch (tt->kind) {
	case T_BOOL:
		fprintf(o, "%sfputs((%s) ? \"true\" : \"false\", out);\n", ind, v);
		break;
	case T_I8:
	case T_I16:
	case T_I32:
		fprintf(o, "%sfprintf(out, \"%%d\", (int)(%s));\n", ind, v);
		break;
	case T_I64:
		fprintf(o, "%sfprintf(out, \"%%lld\", (long long)(%s));\n", ind, v);
		break;
	case T_DOUBLE:
		fprintf(o, "%sfprintf(out, \"%%.17g\", %s);\n", ind, v);
		break;
	case T_STRING:
	case T_BINARY:
		fprintf(o, "%sgale__print_bytes(out, &(%s));\n", ind, v);
		break;
	case T_UUID:
		fprintf(o, "%sgale__print_uuid(out, &(%s));\n", ind, v);
		break;
	case T_LIST:
	case T_SET:
	case T_MAP:
		fprintf(o, "%sgale__print_%s(out, &(%s));\n", ind, gale__tc_mangle(ctx, tt), v);
		break;
	case T_NAMED:
		if (tt->def->kind == D_ENUM)
			fprintf(o, "%sgale__print_enum(out, %s_name(%s), %s);\n", ind,
				gale__tc_dname(ctx, tt->def), v, v);
		else
			fprintf(o, "%s%s_print(out, &(%s));\n", ind, gale__tc_dname(ctx, tt->def), v);
		break;
	default:
		break;
	}
}

/* ---- constants ---- */

static struct tc_cval *
gale__tc_resolve_cval(struct tc_ctx *ctx, struct tc_cval *v)
{
	int guard = 0;

	while (v->kind == CV_IDENT && guard++ < 64) {
		if (v->ref != NULL) {
			v = v->ref->value;
		} else if (v->ref_ev != NULL) {
			struct tc_cval *n = gale__tc_alloc(ctx, sizeof(*n));

			n->kind = CV_INT;
			n->i = v->ref_ev->value;
			return n;
		} else {
			break;
		}
	}
	return v;
}

static const char *
gale__tc_int_lit(struct tc_ctx *ctx, int64_t v, enum tc_tkind k)
{
	if (k == T_I64) {
		if (v == INT64_MIN)
			return "(-9223372036854775807LL - 1)";
		return gale__tc_sprintf(ctx, "%lldLL", (long long)v);
	}
	if (v == INT32_MIN)
		return "(-2147483647 - 1)";
	return gale__tc_sprintf(ctx, "%lld", (long long)v);
}

static int
gale__tc_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static const char *gale__tc_const_init(struct tc_gen *g, struct tc_type *t, struct tc_cval *v);

/* Hoists the elements of a list/set/map constant into static arrays; returns the initializer. */
static const char *
gale__tc_const_container(struct tc_gen *g, struct tc_type *tt, struct tc_cval *v)
{
	struct tc_ctx *ctx = g->ctx;
	size_t i, n = tt->kind == T_MAP ? v->items.n / 2 : v->items.n;
	const char *kname = NULL, *vname;
	char *body;

	if (n == 0)
		return tt->kind == T_MAP ? "{ NULL, NULL, 0 }" : "{ NULL, 0 }";
	if (tt->kind == T_MAP) {
		const char **ki = gale__tc_alloc(ctx, n * sizeof(*ki));
		const char **vi = gale__tc_alloc(ctx, n * sizeof(*vi));

		for (i = 0; i < n; i++) {
			ki[i] = gale__tc_const_init(g, tt->key, v->items.v[2 * i]);
			vi[i] = gale__tc_const_init(g, tt->elem, v->items.v[2 * i + 1]);
		}
		kname = gale__tc_sprintf(ctx, "gale__c%d", g->nconst++);
		vname = gale__tc_sprintf(ctx, "gale__c%d", g->nconst++);
		fprintf(g->c, "static %s %s[%zu] = {\n", gale__tc_ctype(ctx, tt->key), kname, n);
		for (i = 0; i < n; i++)
			fprintf(g->c, "\t%s,\n", ki[i]);
		fprintf(g->c, "};\nstatic %s %s[%zu] = {\n", gale__tc_ctype(ctx, tt->elem), vname, n);
		for (i = 0; i < n; i++)
			fprintf(g->c, "\t%s,\n", vi[i]);
		fprintf(g->c, "};\n\n");
		return gale__tc_sprintf(ctx, "{ %s, %s, %zu }", kname, vname, n);
	}
	{
		const char **ei = gale__tc_alloc(ctx, n * sizeof(*ei));

		for (i = 0; i < n; i++)
			ei[i] = gale__tc_const_init(g, tt->elem, v->items.v[i]);
		vname = gale__tc_sprintf(ctx, "gale__c%d", g->nconst++);
		fprintf(g->c, "static %s %s[%zu] = {\n", gale__tc_ctype(ctx, tt->elem), vname, n);
		for (i = 0; i < n; i++)
			fprintf(g->c, "\t%s,\n", ei[i]);
		fprintf(g->c, "};\n\n");
	}
	body = gale__tc_sprintf(ctx, "{ %s, %zu }", vname, n);
	return body;
}

/* A C initializer (constant expression) for value v of type t; hoists arrays into g->c first. */
static const char *
gale__tc_const_init(struct tc_gen *g, struct tc_type *t, struct tc_cval *v)
{
	struct tc_ctx *ctx = g->ctx;
	struct tc_type *tt = gale__tc_tt(t);

	v = gale__tc_resolve_cval(ctx, v);
	switch (tt->kind) {
	case T_BOOL:
		return v->i ? "true" : "false";
	case T_I8:
	case T_I16:
	case T_I32:
	case T_I64:
		return gale__tc_int_lit(ctx, v->i, tt->kind);
	case T_DOUBLE:
		if (v->kind == CV_INT)
			return gale__tc_sprintf(ctx, "%lld.0", (long long)v->i);
		return gale__tc_sprintf(ctx, "%.17g", v->d);
	case T_STRING:
	case T_BINARY:
		return gale__tc_sprintf(ctx, "{ (const uint8_t *)%s, %zu }", gale__tc_cstr(ctx, v->s, v->slen),
					v->slen);
	case T_UUID: {
		const char *s = v->s[0] == '{' ? v->s + 1 : v->s;
		char *out = gale__tc_strdup(ctx, "{ {");
		int i = 0;

		for (; *s != '\0' && *s != '}' && i < 16; s++) {
			if (*s == '-')
				continue;
			out = gale__tc_sprintf(ctx, "%s%s0x%x", out, i ? ", " : " ",
					       gale__tc_hexval(s[0]) * 16 + gale__tc_hexval(s[1]));
			s++;
			i++;
		}
		return gale__tc_sprintf(ctx, "%s } }", out);
	}
	case T_LIST:
	case T_SET:
	case T_MAP:
		return gale__tc_const_container(g, tt, v);
	case T_NAMED:
		if (tt->def->kind == D_ENUM)
			return gale__tc_int_lit(ctx, v->i, T_I32);
		{
			struct tc_def *sd = tt->def;
			char *out = gale__tc_strdup(ctx, "{");
			uint32_t bits[32] = { 0 };
			size_t i, j;
			bool any = false;

			for (i = 0; i + 1 < v->items.n; i += 2) {
				struct tc_cval *k = v->items.v[i];

				for (j = 0; j < sd->fields.n; j++) {
					struct tc_field *f = sd->fields.v[j];

					if (strcmp(f->name, k->s) != 0 || f->by_pointer)
						continue;
					out = gale__tc_sprintf(ctx, "%s%s .%s = %s", out, any ? "," : "",
							       gale__tc_cid(ctx, f->name),
							       gale__tc_const_init(g, f->type, v->items.v[i + 1]));
					if (j < 32 * 32)
						bits[j / 32] |= 1u << (j % 32);
					any = true;
				}
			}
			out = gale__tc_sprintf(ctx, "%s%s .isset_ = {", out, any ? "," : "");
			for (i = 0; i < (sd->fields.n + 31) / 32 || i == 0; i++)
				out = gale__tc_sprintf(ctx, "%s%s 0x%xu", out, i ? "," : "", bits[i]);
			return gale__tc_sprintf(ctx, "%s } }", out);
		}
	default:
		return "0";
	}
}

/* ---- structs ---- */

static void
gale__tc_emit_struct_decl(struct tc_gen *g, struct tc_def *d)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	FILE *h = g->h;
	size_t i;

	gale__tc_put_doc(h, "", d->doc);
	fprintf(h, "/* %s %s (%s:%u) */\n",
		d->kind == D_UNION ? "union" : d->kind == D_EXCEPTION ? "exception" : "struct", d->name,
		d->file->name, d->loc.line);
	if (d->fields.n > 0) {
		fprintf(h, "enum {\n");
		for (i = 0; i < d->fields.n; i++) {
			struct tc_field *f = d->fields.v[i];

			fprintf(h, "\t%s_F_%s = %zu, /**< isset bit of field %d */\n", n, gale__tc_cid(ctx, f->name), i,
				f->id);
		}
		fprintf(h, "};\n");
	}
	fprintf(h, "struct %s {\n", n);
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		static const char *const req[] = { "", "required ", "optional " };

		gale__tc_put_doc(h, "\t", f->doc);
		fprintf(h, "\t%s %s%s; /**< %d: %s%s */\n", gale__tc_ctype(ctx, f->type), f->by_pointer ? "*" : "",
			gale__tc_cid(ctx, f->name), f->id, req[f->req], gale__tc_type_name(ctx, f->type));
	}
	fprintf(h, "\tuint32_t isset_[%zu]; /**< one bit per field, GALE_ISSET(s, %s_F_x) */\n",
		d->fields.n ? (d->fields.n + 31) / 32 : 1, n);
	fprintf(h, "};\n\n");
	fprintf(h, "/** Zeroes *s and applies the IDL defaults. */\nvoid %s_init(struct %s *s);\n", n, n);
	fprintf(h, "/** Field-by-field equality (isset bits of optional fields included). */\n"
		   "bool %s_equal(const struct %s *a, const struct %s *b);\n", n, n, n);
	fprintf(h, "/** Debug text, Thrift-like: Name(field=value, ...). */\nvoid %s_print(FILE *out, const struct %s *s);\n",
		n, n);
	fprintf(h, "/** Decoders: 0, GALE_CODEC_NEED_MORE or GALE_CODEC_MALFORMED (reason in r->reason). */\n");
	fprintf(h, "int %s_read_binary(struct gale_codec_reader *r, struct %s *s);\n", n, n);
	fprintf(h, "int %s_read_compact(struct gale_codec_reader *r, struct %s *s);\n", n, n);
	fprintf(h, "/** Encoders: 0 or -1 (reason in w->reason). */\n");
	fprintf(h, "int %s_write_binary(struct gale_codec_writer *w, const struct %s *s);\n", n, n);
	fprintf(h, "int %s_write_compact(struct gale_codec_writer *w, const struct %s *s);\n", n, n);
	fprintf(h, "/** Either protocol, chosen at run time (GALE_PROTO_BINARY or GALE_PROTO_COMPACT). */\n");
	fprintf(h, "int %s_read(int proto, struct gale_codec_reader *r, struct %s *s);\n", n, n);
	fprintf(h, "int %s_write(int proto, struct gale_codec_writer *w, const struct %s *s);\n", n, n);
	fprintf(h, "/** Type descriptor, for the generic path of <gale/thriftc.h>. */\n"
		   "extern const struct gale_tc_struct_desc %s_desc;\n\n", n);
}

static void
gale__tc_emit_struct_init(struct tc_gen *g, struct tc_def *d)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	FILE *c = g->c;
	size_t i, ndflt = 0;

	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		const char *init;

		if (f->dflt == NULL || f->by_pointer)
			continue;
		init = gale__tc_const_init(g, f->type, f->dflt);
		fprintf(c, "static const %s gale__default_%s_%s = %s;\n", gale__tc_ctype(ctx, f->type), n,
			gale__tc_cid(ctx, f->name), init);
		ndflt++;
	}
	if (ndflt > 0)
		fputc('\n', c);
	fprintf(c, "void\n%s_init(struct %s *s)\n{\n\tmemset(s, 0, sizeof(*s));\n", n, n);
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];

		if (f->dflt == NULL || f->by_pointer)
			continue;
		fprintf(c, "\ts->%s = gale__default_%s_%s;\n", gale__tc_cid(ctx, f->name), n, gale__tc_cid(ctx, f->name));
	}
	fprintf(c, "}\n\n");
}

static void
gale__tc_emit_struct_equal(struct tc_gen *g, struct tc_def *d)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	FILE *c = g->c;
	size_t i;

	fprintf(c, "bool\n%s_equal(const struct %s *a, const struct %s *b)\n{\n", n, n, n);
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		const char *fn = gale__tc_cid(ctx, f->name);
		const char *bit = gale__tc_sprintf(ctx, "%s_F_%s", n, fn);

		if (f->by_pointer) {
			fprintf(c, "\tif ((a->%s == NULL) != (b->%s == NULL))\n\t\treturn false;\n", fn, fn);
			fprintf(c, "\tif (a->%s != NULL && !(%s))\n\t\treturn false;\n", fn,
				gale__tc_eq_expr(g, f->type, gale__tc_sprintf(ctx, "*a->%s", fn),
						 gale__tc_sprintf(ctx, "*b->%s", fn)));
		} else if (gale__tc_field_opt(d, f)) {
			fprintf(c, "\tif (GALE_ISSET(a, %s) != GALE_ISSET(b, %s))\n\t\treturn false;\n", bit, bit);
			fprintf(c, "\tif (GALE_ISSET(a, %s) && !(%s))\n\t\treturn false;\n", bit,
				gale__tc_eq_expr(g, f->type, gale__tc_sprintf(ctx, "a->%s", fn),
						 gale__tc_sprintf(ctx, "b->%s", fn)));
		} else {
			fprintf(c, "\tif (!(%s))\n\t\treturn false;\n",
				gale__tc_eq_expr(g, f->type, gale__tc_sprintf(ctx, "a->%s", fn),
						 gale__tc_sprintf(ctx, "b->%s", fn)));
		}
	}
	if (d->fields.n == 0)
		fprintf(c, "\t(void)a;\n\t(void)b;\n");
	fprintf(c, "\treturn true;\n}\n\n");
}

static void
gale__tc_emit_struct_print(struct tc_gen *g, struct tc_def *d)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	FILE *c = g->c;
	size_t i;

	fprintf(c, "void\n%s_print(FILE *out, const struct %s *s)\n{\n", n, n);
	fprintf(c, "\tconst char *sep = \"\";\n\n\tfputs(\"%s(\", out);\n", d->name);
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		const char *fn = gale__tc_cid(ctx, f->name);
		const char *ind = "\t\t";

		if (f->by_pointer)
			fprintf(c, "\tif (s->%s != NULL) {\n", fn);
		else if (gale__tc_field_opt(d, f))
			fprintf(c, "\tif (GALE_ISSET(s, %s_F_%s)) {\n", n, fn);
		else
			fprintf(c, "\t{\n");
		fprintf(c, "%sfprintf(out, \"%%s%s=\", sep);\n", ind, f->name);
		gale__tc_print_stmt(g, c, ind, f->type,
				    gale__tc_sprintf(ctx, f->by_pointer ? "*s->%s" : "s->%s", fn));
		fprintf(c, "%ssep = \", \";\n\t}\n", ind);
	}
	fprintf(c, "\t(void)sep;\n\t(void)s;\n\tfputc(')', out);\n}\n\n");
}

/*
 * Header prediction (as in TCP input processing): a writer almost always sends the fields in IDL order, so the
 * decoder first expects exactly that, comparing each field header with its constant bytes and reading the value
 * with no switch; at the first header that differs (an unset optional field, an unknown field, another order,
 * STOP) it drops into the general loop, which handles anything. perf showed the loop's indirect jump on the
 * field id as the hot spot of decoding bench.thrift's Item; the gain is within this shared machine's noise
 * (then codec/thriftc/bench, now perf/codec/run), the code stays because it also makes the common path
 * straight-line.
 */
static int gale__tc_ctype_nibble(struct tc_type *t);

static void
gale__tc_emit_predicted(struct tc_gen *g, struct tc_def *d, const char *pr)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	FILE *c = g->c;
	bool binary = strcmp(pr, "binary") == 0;
	int32_t prev = 0;
	size_t i;

	size_t npred;

	if (d->kind == D_UNION || d->fields.n == 0)
		return;
	for (npred = 0; npred < d->fields.n; npred++) {
		struct tc_field *f = d->fields.v[npred];
		int delta = f->id - prev;

		if (f->by_pointer || (!binary && (delta < 1 || delta > 15)))
			break;
		prev = f->id;
	}
	if (npred == 0)
		return;
	prev = 0;
	fprintf(c, "\t/* Fields in IDL order first; anything else continues in the loop. */\n");
	for (i = 0; i < npred; i++) {
		struct tc_field *f = d->fields.v[i];
		struct tc_type *tt = gale__tc_tt(f->type);
		const char *fn = gale__tc_cid(ctx, f->name);
		int delta = f->id - prev;

		if (f->by_pointer || (!binary && (delta < 1 || delta > 15)))
			break;
		if (binary) {
			fprintf(c, "\tif (r->end - r->cur < 3 || gale__hdr3(r->cur) != (((uint32_t)%s << 16) | %uu))\n"
				   "\t\tgoto fields;\n\tr->cur += 3;\n", gale__tc_ttype(f->type), (unsigned)(uint16_t)f->id);
		} else if (tt->kind == T_BOOL) {
			fprintf(c, "\tif (r->cur >= r->end || (r->cur[0] != 0x%02x && r->cur[0] != 0x%02x))\n"
				   "\t\tgoto fields;\n", delta << 4 | 1, delta << 4 | 2);
			fprintf(c, "\ts->%s = *r->cur++ == 0x%02x;\n\tr->last_fid = %d;\n", fn, delta << 4 | 1, f->id);
			fprintf(c, "\tGALE_SET(s, %s_F_%s);\n", n, fn);
			prev = f->id;
			continue;
		} else {
			fprintf(c, "\tif (r->cur >= r->end || r->cur[0] != 0x%02x)\n\t\tgoto fields;\n"
				   "\tr->cur++;\n\tr->last_fid = %d;\n", delta << 4 | gale__tc_ctype_nibble(tt), f->id);
		}
		gale__tc_read_stmt(g, c, "\t", f->type, gale__tc_sprintf(ctx, "&s->%s", fn), pr);
		fprintf(c, "\tGALE_SET(s, %s_F_%s);\n", n, fn);
		prev = f->id;
	}
	fprintf(c, "fields:\n");
}

/*
 * Whole-struct prediction for a leaf struct (every field a number, bool, enum, uuid, string or binary): when the
 * struct's fields arrive in IDL order, all present, followed by STOP, inside the current segment, they are read
 * through a local cursor and stored once each, the isset words set at once, and the reader's cursor written back
 * once; the reader's depth and the compact field-id stack are only checked, not touched, since a leaf returns them
 * as it found them. Anything else (a missing or unknown field, another order, a segment boundary, a long varint,
 * a limit) leaves the reader untouched and takes the general path, which starts over with _init(). Stores, not
 * instructions, bound a small message's round trip next to its payload's copy (perf/codec, echo-1KiB: ~0.4 ns
 * per store on this host); see perf/RESULTS.md for the measured effect.
 */
static int gale__tc_fixed_size(struct tc_type *t);
static int gale__tc_cmax(struct tc_type *t);

/*
 * A leaf struct: every field a number, bool, enum, uuid, string or binary, none by reference, and for compact
 * every field id 1..15 above the previous one (constant one-byte headers). With `write`, also every field always
 * written (no optional one); then *total is the most bytes the struct takes besides its strings' bytes, *dyn the
 * C expression adding those.
 */
static bool
gale__tc_leaf(struct tc_ctx *ctx, struct tc_def *d, bool binary, bool write, int *total, const char **dyn)
{
	int32_t prev = 0;
	size_t i;

	*total = 1;
	*dyn = "";
	if (d->kind == D_UNION || d->fields.n == 0)
		return false;
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		enum tc_tkind k = gale__tc_tt(f->type)->kind;
		bool str = k == T_STRING || k == T_BINARY;
		int sz = str ? 4 : gale__tc_fixed_size(f->type);

		if (f->by_pointer || sz == 0 || (write && gale__tc_field_opt(d, f)))
			return false;
		if (!binary && (f->id - prev < 1 || f->id - prev > 15))
			return false;
		if (binary) {
			*total += 3 + sz;
		} else {
			int mx = gale__tc_cmax(f->type);

			*total += 1 + (mx >= 1000 ? 0 : mx);
		}
		if (str)
			*dyn = gale__tc_sprintf(ctx, "%s + s->%s.len", *dyn, gale__tc_cid(ctx, f->name));
		prev = f->id;
	}
	return true;
}

static void
gale__tc_emit_leaf_read(struct tc_gen *g, struct tc_def *d, bool binary)
{
	struct tc_ctx *ctx = g->ctx;
	FILE *c = g->c;
	int32_t prev = 0;
	size_t i;

	fprintf(c, "\t/* Whole struct predicted (see gale-thriftc's leaf prediction); else the general path. */\n");
	fprintf(c, "\tif (GALE_CODEC_LIKELY(r->depth < r->limits.max_depth)) {\n"
		   "\t\tconst uint8_t *p = r->cur, *e = r->end;\n\t\tuint64_t v_;\n\n\t\t(void)v_;\n");
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		struct tc_type *tt = gale__tc_tt(f->type);
		const char *v = gale__tc_sprintf(ctx, "s->%s", gale__tc_cid(ctx, f->name));
		int sz = gale__tc_fixed_size(f->type);
		int hdr = binary ? 0 : (f->id - prev) << 4; /* compact: 1..15 (gale__tc_leaf) */

		prev = f->id;
		if (binary) {
			int need = tt->kind == T_STRING || tt->kind == T_BINARY ? 7 : 3 + sz;

			fprintf(c, "\t\tif (e - p < %d || gale__hdr4(p) != (((uint32_t)%s << 16) | %uu)) /* %d: %s */\n"
				   "\t\t\tgoto slow;\n", need, gale__tc_ttype(f->type), (unsigned)(uint16_t)f->id, f->id,
				f->name);
			switch (tt->kind) {
			case T_BOOL: fprintf(c, "\t\t%s = p[3] != 0;\n", v); break;
			case T_I8: fprintf(c, "\t\t%s = (int8_t)p[3];\n", v); break;
			case T_I16: fprintf(c, "\t\t%s = (int16_t)gale__get16(p + 3);\n", v); break;
			case T_I32:
			case T_NAMED: fprintf(c, "\t\t%s = (int32_t)gale__get32(p + 3);\n", v); break;
			case T_I64: fprintf(c, "\t\t%s = (int64_t)gale__get64(p + 3);\n", v); break;
			case T_DOUBLE: fprintf(c, "\t\tv_ = gale__get64(p + 3);\n\t\tmemcpy(&%s, &v_, 8);\n", v); break;
			case T_UUID: fprintf(c, "\t\tmemcpy(%s.b, p + 3, 16);\n", v); break;
			default: /* string, binary */
				fprintf(c, "\t\tv_ = gale__get32(p + 3);\n"
					   "\t\tif (v_ > r->limits.max_string || v_ > INT32_MAX || (uint64_t)(e - p - 7) < v_)\n"
					   "\t\t\tgoto slow;\n"
					   "\t\tgale_codec__set_bytes(&%s, p + 7, (uint32_t)v_);\n"
					   "\t\tp += v_;\n", v);
				sz = 4;
				break;
			}
			fprintf(c, "\t\tp += %d;\n", 3 + sz);
			continue;
		}
		if (tt->kind == T_BOOL) {
			fprintf(c, "\t\tif (p >= e || (*p != 0x%02x && *p != 0x%02x)) /* %d: %s */\n\t\t\tgoto slow;\n"
				   "\t\t%s = *p++ == 0x%02x;\n", hdr | 1, hdr | 2, f->id, f->name, v, hdr | 1);
			continue;
		}
		fprintf(c, "\t\tif (p >= e || *p != 0x%02x) /* %d: %s */\n\t\t\tgoto slow;\n\t\tp++;\n",
			hdr | gale__tc_ctype_nibble(tt), f->id, f->name);
		switch (tt->kind) {
		case T_I8:
			fprintf(c, "\t\tif (p >= e)\n\t\t\tgoto slow;\n\t\t%s = (int8_t)*p++;\n", v);
			break;
		case T_I16:
		case T_I32:
		case T_NAMED:
			fprintf(c, "\t\tif (!gale__cget_varint(&p, e, 5, &v_))\n\t\t\tgoto slow;\n"
				   "\t\t%s = (%s)(((uint32_t)v_ >> 1) ^ -((uint32_t)v_ & 1));\n", v,
				tt->kind == T_I16 ? "int16_t" : "int32_t");
			break;
		case T_I64:
			fprintf(c, "\t\tif (!gale__cget_varint(&p, e, 10, &v_))\n\t\t\tgoto slow;\n"
				   "\t\t%s = gale_compact_unzigzag64(v_);\n", v);
			break;
		case T_DOUBLE:
			fprintf(c, "\t\tif (e - p < 8)\n\t\t\tgoto slow;\n\t\tmemcpy(&v_, p, 8);\n"
				   "\t\tv_ = gale_codec_le64(v_);\n\t\tmemcpy(&%s, &v_, 8);\n\t\tp += 8;\n", v);
			break;
		case T_UUID:
			fprintf(c, "\t\tif (e - p < 16)\n\t\t\tgoto slow;\n\t\tmemcpy(%s.b, p, 16);\n\t\tp += 16;\n", v);
			break;
		default: /* string, binary */
			fprintf(c, "\t\tif (!gale__cget_varint(&p, e, 5, &v_) || (uint32_t)v_ > r->limits.max_string ||\n"
				   "\t\t    (uint32_t)v_ > INT32_MAX || (uint64_t)(e - p) < (uint32_t)v_)\n\t\t\tgoto slow;\n"
				   "\t\tgale_codec__set_bytes(&%s, p, (uint32_t)v_);\n"
				   "\t\tp += (uint32_t)v_;\n", v);
			break;
		}
	}
	fprintf(c, "\t\tif (p >= e || *p != 0) /* STOP */\n\t\t\tgoto slow;\n");
	for (i = 0; i < (d->fields.n + 31) / 32; i++) {
		size_t nb = d->fields.n - i * 32 >= 32 ? 32 : d->fields.n - i * 32;

		fprintf(c, "\t\ts->isset_[%zu] = 0x%xu;\n", i, nb == 32 ? 0xffffffffu : (1u << nb) - 1);
	}
	fprintf(c, "\t\tr->cur = p + 1;\n\t\treturn 0;\n\t}\nslow:\n");
}

static void
gale__tc_emit_struct_read(struct tc_gen *g, struct tc_def *d, const char *pr)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	FILE *c = g->c;
	size_t i;

	int total;
	const char *dyn;
	bool leaf = gale__tc_leaf(ctx, d, strcmp(pr, "binary") == 0, false, &total, &dyn);

	/* A leaf struct's general path is a function of its own, so the predicted path saves no registers. */
	if (leaf)
		fprintf(c, "static GALE_CODEC_NOINLINE int\n%s_read_%s_slow(struct gale_codec_reader *r, struct %s *s)\n{\n",
			n, pr, n);
	else
		fprintf(c, "int\n%s_read_%s(struct gale_codec_reader *r, struct %s *s)\n{\n", n, pr, n);
	fprintf(c, "\tuint8_t type;\n\tint16_t id;\n\n");
	fprintf(c, "\t%s_init(s);\n", n);
	fprintf(c, "\tGALE__TRY(gale_%s_read_struct_begin(r));\n", pr);
	gale__tc_emit_predicted(g, d, pr);
	fprintf(c, "\tfor (;;) {\n");
	fprintf(c, "\t\tGALE__TRY(gale_%s_read_field_begin(r, &type, &id));\n", pr);
	fprintf(c, "\t\tif (type == GALE_T_STOP)\n\t\t\tbreak;\n");
	if (d->fields.n > 0) {
		fprintf(c, "\t\tswitch (id) {\n");
		for (i = 0; i < d->fields.n; i++) {
			struct tc_field *f = d->fields.v[i];
			const char *fn = gale__tc_cid(ctx, f->name);

			fprintf(c, "\t\tcase %d: /* %s */\n", f->id, f->name);
			fprintf(c, "\t\t\tif (type != %s)\n\t\t\t\tgoto skip;\n", gale__tc_ttype(f->type));
			if (f->by_pointer) {
				const char *ct = gale__tc_ctype(ctx, f->type);

				fprintf(c, "\t\t\ts->%s = gale_arena_alloc(r->arena, sizeof(%s), _Alignof(%s));\n", fn, ct,
					ct);
				fprintf(c, "\t\t\tif (s->%s == NULL)\n\t\t\t\treturn gale_codec_reader_fail(r, "
					   "GALE_CODEC_E_ARENA_FULL);\n", fn);
				gale__tc_read_stmt(g, c, "\t\t\t", f->type, gale__tc_sprintf(ctx, "s->%s", fn), pr);
			} else {
				gale__tc_read_stmt(g, c, "\t\t\t", f->type, gale__tc_sprintf(ctx, "&s->%s", fn), pr);
			}
			fprintf(c, "\t\t\tGALE_SET(s, %s_F_%s);\n\t\t\tbreak;\n", n, fn);
		}
		fprintf(c, "\t\tdefault:\n\t\tskip:\n");
		fprintf(c, "\t\t\tGALE__TRY(gale_%s_skip(r, type));\n\t\t\tbreak;\n\t\t}\n", pr);
	} else {
		fprintf(c, "\t\t(void)id;\n\t\tGALE__TRY(gale_%s_skip(r, type));\n", pr);
	}
	fprintf(c, "\t\tGALE__TRY(gale_%s_read_field_end(r));\n\t}\n", pr);
	fprintf(c, "\tGALE__TRY(gale_%s_read_struct_end(r));\n", pr);
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];

		if (f->req == REQ_REQUIRED && d->kind != D_UNION)
			fprintf(c, "\tif (!GALE_ISSET(s, %s_F_%s)) /* required */\n"
				   "\t\treturn gale_codec_reader_fail(r, GALE_CODEC_E_BAD_STATE);\n",
				n, gale__tc_cid(ctx, f->name));
	}
	fprintf(c, "\treturn 0;\n}\n\n");
	if (leaf) {
		fprintf(c, "int\n%s_read_%s(struct gale_codec_reader *r, struct %s *s)\n{\n", n, pr, n);
		gale__tc_emit_leaf_read(g, d, strcmp(pr, "binary") == 0);
		fprintf(c, "\treturn %s_read_%s_slow(r, s);\n}\n\n", n, pr);
	}
}

/* Binary wire size of a fixed-size value of t, or 0 when its size depends on the value. */
static int
gale__tc_fixed_size(struct tc_type *t)
{
	t = gale__tc_tt(t);
	switch (t->kind) {
	case T_BOOL:
	case T_I8: return 1;
	case T_I16: return 2;
	case T_I32: return 4;
	case T_I64:
	case T_DOUBLE: return 8;
	case T_UUID: return 16;
	case T_NAMED: return t->def->kind == D_ENUM ? 4 : 0;
	default: return 0;
	}
}

/* A statement storing value val of fixed-size type t at p (binary), advancing p. */
static void
gale__tc_put_stmt(struct tc_gen *g, FILE *c, const char *ind, struct tc_type *t, const char *val)
{
	struct tc_type *tt = gale__tc_tt(t);

	(void)g;
	switch (tt->kind) {
	case T_BOOL:
		fprintf(c, "%s*p++ = (%s) ? 1 : 0;\n", ind, val);
		break;
	case T_I8:
		fprintf(c, "%s*p++ = (uint8_t)(%s);\n", ind, val);
		break;
	case T_I16:
		fprintf(c, "%sp = gale__put16(p, (uint16_t)(%s));\n", ind, val);
		break;
	case T_I32:
	case T_NAMED:
		fprintf(c, "%sp = gale__put32(p, (uint32_t)(%s));\n", ind, val);
		break;
	case T_I64:
		fprintf(c, "%sp = gale__put64(p, (uint64_t)(%s));\n", ind, val);
		break;
	case T_DOUBLE:
		fprintf(c, "%sp = gale__putd(p, %s);\n", ind, val);
		break;
	case T_UUID:
		fprintf(c, "%smemcpy(p, (%s).b, 16);\n%sp += 16;\n", ind, val, ind);
		break;
	default:
		break;
	}
}

/*
 * Binary only: a run of consecutive always-written fixed-size fields (ids, flags, numbers) is written with one
 * bounds check and stores through a local pointer, instead of two checked calls per field that reload the
 * writer's cursor after every store (a uint8_t store may alias it). Falls back to the calls near a segment end.
 * Measured on the Order of the then codec/thriftc/bench (now perf/codec's cart), with direct stores also for
 * field, list and map headers, fixed-size list elements and short strings: Binary encode 1094 ns -> 350 ns.
 */
static size_t
gale__tc_emit_fixed_run(struct tc_gen *g, struct tc_def *d, size_t start)
{
	struct tc_ctx *ctx = g->ctx;
	FILE *c = g->c;
	size_t i, end = start;
	int total = 0;
	const char *dyn = "";

	while (end < d->fields.n) {
		struct tc_field *f = d->fields.v[end];
		enum tc_tkind k = gale__tc_tt(f->type)->kind;
		int sz = k == T_STRING || k == T_BINARY ? 4 : gale__tc_fixed_size(f->type);

		if (sz == 0 || f->by_pointer || gale__tc_field_opt(d, f))
			break;
		if (k == T_STRING || k == T_BINARY)
			dyn = gale__tc_sprintf(ctx, "%s + s->%s.len", dyn, gale__tc_cid(ctx, f->name));
		total += 3 + sz;
		end++;
	}
	if (end - start < 1)
		return start;
	fprintf(c, "\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= (size_t)%d%s)) {\n\t\tuint8_t *p = w->cur;\n\n",
		total + (end == d->fields.n), dyn);
	for (i = start; i < end; i++) {
		struct tc_field *f = d->fields.v[i];
		enum tc_tkind k = gale__tc_tt(f->type)->kind;
		const char *v = gale__tc_sprintf(ctx, "s->%s", gale__tc_cid(ctx, f->name));

		fprintf(c, "\t\tp = gale__put_field4(p, %s, %d);\n", gale__tc_ttype(f->type), f->id);
		if (k == T_STRING || k == T_BINARY)
			fprintf(c, "\t\tp = gale__copy_bytes(gale__put32(p, %s.len), &%s);\n", v, v);
		else
			gale__tc_put_stmt(g, c, "\t\t", f->type, v);
	}
	if (end == d->fields.n)
		fprintf(c, "\t\t*p++ = GALE_T_STOP;\n");
	fprintf(c, "\t\tw->cur = p;\n\t} else {\n");
	for (i = start; i < end; i++) {
		struct tc_field *f = d->fields.v[i];

		fprintf(c, "\t\tGALE__TRY(gale_binary_write_field_begin(w, %s, %d));\n", gale__tc_ttype(f->type), f->id);
		gale__tc_write_stmt(g, c, "\t\t", f->type,
				    gale__tc_sprintf(ctx, "s->%s", gale__tc_cid(ctx, f->name)), "binary");
	}
	if (end == d->fields.n)
		fprintf(c, "\t\tGALE__TRY(gale_binary_write_field_stop(w));\n");
	fprintf(c, "\t}\n");
	return end;
}

/* Compact type nibble of t. */
static int
gale__tc_ctype_nibble(struct tc_type *t)
{
	t = gale__tc_tt(t);
	switch (t->kind) {
	case T_BOOL: return 1;
	case T_I8: return 3;
	case T_I16: return 4;
	case T_I32: return 5;
	case T_I64: return 6;
	case T_DOUBLE: return 7;
	case T_STRING:
	case T_BINARY: return 8;
	case T_LIST: return 9;
	case T_SET: return 10;
	case T_MAP: return 11;
	case T_UUID: return 13;
	case T_NAMED: return t->def->kind == D_ENUM ? 5 : 12;
	default: return 0;
	}
}

/* Compact: most bytes a value of t takes after its field header (strings: plus their length), 0 if not here. */
static int
gale__tc_cmax(struct tc_type *t)
{
	t = gale__tc_tt(t);
	switch (t->kind) {
	case T_BOOL: return 0 + 1000; /* in the header; 1000 marks "known" */
	case T_I8: return 1;
	case T_I16: return 3;
	case T_I32: return 5;
	case T_I64: return 10;
	case T_DOUBLE: return 8;
	case T_UUID: return 16;
	case T_STRING:
	case T_BINARY: return 5;
	case T_NAMED: return t->def->kind == D_ENUM ? 5 : 0;
	default: return 0;
	}
}

/*
 * Compact: a run of always-written scalar and string fields whose previous field id is known here (the struct's
 * start, or an always-written field) has constant header bytes, so it is written behind one bounds check with
 * the writer's last field id set once at the end. *last is that known id, or INT32_MIN when an optional field
 * came before. Returns the index after the run (start when there is none).
 */
static size_t
gale__tc_emit_compact_run(struct tc_gen *g, struct tc_def *d, size_t start, int32_t *last)
{
	struct tc_ctx *ctx = g->ctx;
	FILE *c = g->c;
	size_t i, end = start;
	int total = 0;
	int32_t prev = *last;
	const char *dyn = "";

	while (end < d->fields.n && prev != INT32_MIN) {
		struct tc_field *f = d->fields.v[end];
		int mx = gale__tc_cmax(f->type);
		int delta = f->id - prev;

		if (mx == 0 || f->by_pointer || gale__tc_field_opt(d, f) || delta < 1 || delta > 15)
			break;
		total += 1 + (mx >= 1000 ? 0 : mx);
		if (gale__tc_tt(f->type)->kind == T_STRING || gale__tc_tt(f->type)->kind == T_BINARY)
			dyn = gale__tc_sprintf(ctx, "%s + s->%s.len", dyn, gale__tc_cid(ctx, f->name));
		prev = f->id;
		end++;
	}
	if (end == start)
		return start;
	fprintf(c, "\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= (size_t)%d%s)) {\n\t\tuint8_t *p = w->cur;\n\n",
		total + (end == d->fields.n), dyn);
	prev = *last;
	for (i = start; i < end; i++) {
		struct tc_field *f = d->fields.v[i];
		struct tc_type *tt = gale__tc_tt(f->type);
		const char *v = gale__tc_sprintf(ctx, "s->%s", gale__tc_cid(ctx, f->name));
		int hdr = (f->id - prev) << 4;

		prev = f->id;
		switch (tt->kind) {
		case T_BOOL:
			fprintf(c, "\t\t*p++ = %s ? 0x%02x : 0x%02x; /* %d: %s */\n", v, hdr | 1, hdr | 2, f->id, f->name);
			continue;
		case T_STRING:
		case T_BINARY:
			break; /* the header goes with the length (gale__cput_len) */
		default:
			fprintf(c, "\t\t*p++ = 0x%02x; /* %d: %s */\n", hdr | gale__tc_ctype_nibble(tt), f->id, f->name);
			break;
		}
		switch (tt->kind) {
		case T_I8:
			fprintf(c, "\t\t*p++ = (uint8_t)%s;\n", v);
			break;
		case T_I16:
		case T_I32:
		case T_NAMED:
			fprintf(c, "\t\tp = gale__put_varint(p, gale_compact_zigzag32(%s));\n", v);
			break;
		case T_I64:
			fprintf(c, "\t\tp = gale__put_varint(p, gale_compact_zigzag64(%s));\n", v);
			break;
		case T_DOUBLE:
			fprintf(c, "\t\tp = gale__put_le64(p, %s);\n", v);
			break;
		case T_UUID:
			fprintf(c, "\t\tmemcpy(p, %s.b, 16);\n\t\tp += 16;\n", v);
			break;
		case T_STRING:
		case T_BINARY:
			fprintf(c, "\t\tp = gale__copy_bytes(gale__cput_len(p, 0x%02x, %s.len), &%s); /* %d: %s */\n",
				hdr | 8, v, v, f->id, f->name);
			break;
		default:
			break;
		}
	}
	if (end == d->fields.n)
		fprintf(c, "\t\t*p++ = GALE_CT_STOP;\n");
	fprintf(c, "\t\tw->cur = p;\n\t\tw->last_fid = %d;\n\t} else {\n", prev);
	for (i = start; i < end; i++) {
		struct tc_field *f = d->fields.v[i];

		fprintf(c, "\t\tGALE__TRY(gale_compact_write_field_begin(w, %s, %d));\n", gale__tc_ttype(f->type),
			f->id);
		gale__tc_write_stmt(g, c, "\t\t", f->type,
				    gale__tc_sprintf(ctx, "s->%s", gale__tc_cid(ctx, f->name)), "compact");
	}
	if (end == d->fields.n)
		fprintf(c, "\t\tGALE__TRY(gale_compact_write_field_stop(w));\n");
	fprintf(c, "\t}\n");
	*last = prev;
	return end;
}

/*
 * Whole-struct write: when every field is always written and fits the runs above (binary: fixed-size or string;
 * compact: known one-byte headers), the public writer is one bounds check for the whole struct and stores through
 * a local cursor; the compact writer's field-id stack is not touched (a struct written whole does not need it),
 * and a trailing string's bytes are copied last, after the STOP and the cursor are stored, so nothing is live
 * across the copy and the function saves no registers. Anything else (near a segment end) calls the general
 * writer, kept as a separate function. Measured with the leaf decoders, see gale__tc_emit_leaf_read().
 */
static void
gale__tc_emit_whole_write(struct tc_gen *g, struct tc_def *d, bool binary, int total, const char *dyn)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	const char *pr = binary ? "binary" : "compact";
	FILE *c = g->c;
	int32_t prev = 0;
	size_t i;

	fprintf(c, "int\n%s_write_%s(struct gale_codec_writer *w, const struct %s *s)\n{\n", n, pr, n);
	fprintf(c, "\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= (size_t)%d%s%s)) {\n\t\tuint8_t *p = w->cur;\n\n",
		total, dyn, binary ? "" : " && w->depth < GALE_CODEC_DEPTH_CAP");
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		struct tc_type *tt = gale__tc_tt(f->type);
		const char *v = gale__tc_sprintf(ctx, "s->%s", gale__tc_cid(ctx, f->name));
		bool str = tt->kind == T_STRING || tt->kind == T_BINARY;
		bool last = i + 1 == d->fields.n;
		int hdr = binary ? 0 : (f->id - prev) << 4; /* compact: 1..15 (gale__tc_leaf) */

		prev = f->id;
		if (binary && (str || gale__tc_fixed_size(f->type) == 4)) {
			/* Header and length (or i32) in one store; the payload, the next field or the STOP follows. */
			/* A trailing string's view is read once (the stores through p may alias it). */
			if (str && last)
				fprintf(c, "\t\tconst struct gale_codec_bytes t_ = %s;\n", v);
			fprintf(c, "\t\t%s = gale__put_field32(p, %s, %d, (uint32_t)%s%s);\n", str && last ? "uint8_t *q" : "p",
				gale__tc_ttype(f->type), f->id, str && last ? "t_" : v, str ? ".len" : "");
			if (!str) {
				if (last)
					fprintf(c, "\t\t*p++ = GALE_T_STOP;\n\t\tw->cur = p;\n\t\treturn 0;\n\t}\n");
				continue;
			}
			if (last) {
				fprintf(c, "\n\t\tp = q + t_.len;\n\t\t*p++ = GALE_T_STOP;\n\t\tw->cur = p;\n"
					   "\t\t(void)gale__copy_bytes(q, &t_);\n\t\treturn 0;\n\t}\n");
				break;
			}
			fprintf(c, "\t\tp = gale__copy_bytes(p, &%s);\n", v);
			continue;
		} else if (binary) {
			fprintf(c, "\t\tp = gale__put_field4(p, %s, %d);\n", gale__tc_ttype(f->type), f->id);
		} else if (tt->kind == T_BOOL) {
			fprintf(c, "\t\t*p++ = %s ? 0x%02x : 0x%02x; /* %d: %s */\n", v, hdr | 1, hdr | 2, f->id, f->name);
			continue;
		} else if (!str) {
			fprintf(c, "\t\t*p++ = 0x%02x; /* %d: %s */\n", hdr | gale__tc_ctype_nibble(tt), f->id, f->name);
		}
		if (str && last) { /* compact */
			fprintf(c, "\t\t{\n\t\t\tconst struct gale_codec_bytes t_ = %s;\n"
				   "\t\t\tuint8_t *q = gale__cput_len(p, 0x%02x, t_.len); /* %d: %s */\n\n"
				   "\t\t\tp = q + t_.len;\n\t\t\t*p++ = GALE_CT_STOP;\n\t\t\tw->cur = p;\n"
				   "\t\t\t(void)gale__copy_bytes(q, &t_);\n\t\t\treturn 0;\n\t\t}\n\t}\n",
				v, hdr | 8, f->id, f->name);
			break;
		}
		if (str) {
			fprintf(c, "\t\tp = gale__copy_bytes(gale__cput_len(p, 0x%02x, %s.len), &%s); /* %d: %s */\n",
				hdr | 8, v, v, f->id, f->name);
		} else if (binary) {
			gale__tc_put_stmt(g, c, "\t\t", f->type, v);
		} else {
			switch (tt->kind) {
			case T_I8: fprintf(c, "\t\t*p++ = (uint8_t)%s;\n", v); break;
			case T_I16:
			case T_I32:
			case T_NAMED: fprintf(c, "\t\tp = gale__put_varint(p, gale_compact_zigzag32(%s));\n", v); break;
			case T_I64: fprintf(c, "\t\tp = gale__put_varint(p, gale_compact_zigzag64(%s));\n", v); break;
			case T_DOUBLE: fprintf(c, "\t\tp = gale__put_le64(p, %s);\n", v); break;
			case T_UUID: fprintf(c, "\t\tmemcpy(p, %s.b, 16);\n\t\tp += 16;\n", v); break;
			default: break;
			}
		}
		if (last)
			fprintf(c, "\t\t*p++ = %s;\n\t\tw->cur = p;\n\t\treturn 0;\n\t}\n",
				binary ? "GALE_T_STOP" : "GALE_CT_STOP");
	}
	fprintf(c, "\treturn %s_write_%s_slow(w, s);\n}\n\n", n, pr);
}

static void
gale__tc_emit_struct_write(struct tc_gen *g, struct tc_def *d, const char *pr)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	FILE *c = g->c;
	size_t i;

	int32_t clast = 0, prev_known;
	bool stop_done = false;
	int total;
	const char *dyn;
	bool whole = gale__tc_leaf(ctx, d, strcmp(pr, "binary") == 0, true, &total, &dyn);

	if (whole)
		fprintf(c, "static GALE_CODEC_NOINLINE int\n%s_write_%s_slow(struct gale_codec_writer *w, const struct %s *s)\n{\n",
			n, pr, n);
	else
		fprintf(c, "int\n%s_write_%s(struct gale_codec_writer *w, const struct %s *s)\n{\n", n, pr, n);
	if (d->fields.n == 0)
		fprintf(c, "\t(void)s;\n");
	fprintf(c, "\tGALE__TRY(gale_%s_write_struct_begin(w));\n", pr);
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		const char *fn = gale__tc_cid(ctx, f->name);
		const char *ind = "\t";
		size_t next;

		/* A run that reaches the last field also writes the STOP behind its one check. */
		if (strcmp(pr, "binary") == 0 && (next = gale__tc_emit_fixed_run(g, d, i)) != i) {
			i = next - 1;
			stop_done = next == d->fields.n;
			continue;
		}
		if (strcmp(pr, "compact") == 0 && (next = gale__tc_emit_compact_run(g, d, i, &clast)) != i) {
			i = next - 1;
			stop_done = next == d->fields.n;
			continue;
		}
		/* Known previous id for compact runs: this field's when always written, else unknown. */
		prev_known = clast;
		clast = f->by_pointer || gale__tc_field_opt(d, f) ? INT32_MIN : f->id;

		if (f->by_pointer) {
			fprintf(c, "\tif (s->%s != NULL) {\n", fn);
			ind = "\t\t";
		} else if (gale__tc_field_opt(d, f)) {
			fprintf(c, "\tif (GALE_ISSET(s, %s_F_%s)) {\n", n, fn);
			ind = "\t\t";
		}
		if (strcmp(pr, "binary") == 0)
			fprintf(c, "%sGALE__TRY(gale__field(w, %s, %d));\n", ind, gale__tc_ttype(f->type), f->id);
		else if (prev_known != INT32_MIN && f->id - prev_known > 0 && f->id - prev_known <= 15 &&
			 gale__tc_tt(f->type)->kind != T_BOOL)
			/* The previous field id is known here, so is the one-byte header. */
			fprintf(c, "%sGALE__TRY(gale__cfield(w, %s, 0x%02x, %d));\n", ind, gale__tc_ttype(f->type),
				(f->id - prev_known) << 4 | gale__tc_ctype_nibble(gale__tc_tt(f->type)), f->id);
		else
			fprintf(c, "%sGALE__TRY(gale_%s_write_field_begin(w, %s, %d));\n", ind, pr,
				gale__tc_ttype(f->type), f->id);
		gale__tc_write_stmt(g, c, ind, f->type, gale__tc_sprintf(ctx, f->by_pointer ? "*s->%s" : "s->%s", fn),
				    pr);
		fprintf(c, "%sGALE__TRY(gale_%s_write_field_end(w));\n", ind, pr);
		if (ind[1] == '\t')
			fprintf(c, "\t}\n");
	}
	if (!stop_done)
		fprintf(c, "\tGALE__TRY(gale_%s_write_field_stop(w));\n", pr);
	fprintf(c, "\treturn gale_%s_write_struct_end(w);\n}\n\n", pr);
	if (whole)
		gale__tc_emit_whole_write(g, d, strcmp(pr, "binary") == 0, total, dyn);
}

static void
gale__tc_emit_struct_proto(struct tc_gen *g, struct tc_def *d)
{
	const char *n = gale__tc_dname(g->ctx, d);

	fprintf(g->c, "int\n%s_read(int proto, struct gale_codec_reader *r, struct %s *s)\n{\n"
		      "\treturn proto == GALE_PROTO_COMPACT ? %s_read_compact(r, s) : %s_read_binary(r, s);\n}\n\n",
		n, n, n, n);
	fprintf(g->c, "int\n%s_write(int proto, struct gale_codec_writer *w, const struct %s *s)\n{\n"
		      "\treturn proto == GALE_PROTO_COMPACT ? %s_write_compact(w, s) : %s_write_binary(w, s);\n}\n\n",
		n, n, n, n);
}

/*
 * Bound of one container element for the one-check writers below: its largest encoding apart from string
 * bytes (*fixed) and whether it is a string or binary (*str, whose length then adds to the bound). Returns 0
 * for element types those writers leave to the checked calls (bool, uuid, structs, containers).
 */
static int
gale__tc_simple_elem(struct tc_type *t, int p, int *fixed, int *str)
{
	struct tc_type *tt = gale__tc_tt(t);

	*str = 0;
	switch (tt->kind) {
	case T_STRING:
	case T_BINARY:
		*str = 1;
		*fixed = p == 0 ? 4 : 5;
		return 1;
	case T_I8:
		*fixed = 1;
		return 1;
	case T_I16:
		*fixed = p == 0 ? 2 : 5;
		return 1;
	case T_I32:
		*fixed = p == 0 ? 4 : 5;
		return 1;
	case T_I64:
		*fixed = p == 0 ? 8 : 10;
		return 1;
	case T_DOUBLE:
		*fixed = 8;
		return 1;
	case T_NAMED:
		*fixed = p == 0 ? 4 : 5;
		return tt->def->kind == D_ENUM;
	default:
		return 0;
	}
}

/* A statement storing element val (a simple type, see above) at p in protocol p_ (0 binary, 1 compact). */
static void
gale__tc_simple_put(struct tc_gen *g, FILE *c, const char *ind, struct tc_type *t, int p_, const char *val)
{
	struct tc_type *tt = gale__tc_tt(t);

	if (tt->kind == T_STRING || tt->kind == T_BINARY) {
		fprintf(c, "%sp = gale__copy_bytes(gale__put%s(p, %s.len), &%s);\n", ind, p_ == 0 ? "32" : "_varint",
			val, val);
		return;
	}
	if (p_ == 0) {
		gale__tc_put_stmt(g, c, ind, t, val);
		return;
	}
	switch (tt->kind) {
	case T_I8:
		fprintf(c, "%s*p++ = (uint8_t)(%s);\n", ind, val);
		break;
	case T_I64:
		fprintf(c, "%sp = gale__put_varint(p, gale_compact_zigzag64(%s));\n", ind, val);
		break;
	case T_DOUBLE:
		fprintf(c, "%sp = gale__put_le64(p, %s);\n", ind, val);
		break;
	default:
		fprintf(c, "%sp = gale__put_varint(p, gale_compact_zigzag32(%s));\n", ind, val);
		break;
	}
}

/*
 * Lists and sets of strings, and maps whose keys and values are strings or numbers: the bound of the whole
 * container (a pass over the lengths), one check, and stores through a local pointer, instead of a checked call
 * per element that stores and reloads the writer's cursor. Near a segment end the checked calls follow.
 * Measured on perf/codec's cart (ten lists of three strings, a map<string,string> of five), Compact encode,
 * with strings of up to 32 bytes copied inline (gale__copy_bytes) and compact field headers known at generation
 * time (gale__cfield): callgrind 5121 -> 4507 instructions per message, perf/codec/run 374 -> 323 ns (3.0x ->
 * 3.5x Apache C++); request (a map<string,string> of two), Binary encode: 30.2 -> 25.6 ns.
 */
static void
gale__tc_emit_onecheck_writer(struct tc_gen *g, FILE *c, struct tc_type *t, int p, const char *pr, const char *kind)
{
	int kfixed = 0, kstr = 0, vfixed = 0, vstr = 0;

	if (!gale__tc_simple_elem(t->elem, p, &vfixed, &vstr))
		return;
	if (t->kind == T_MAP && !gale__tc_simple_elem(t->key, p, &kfixed, &kstr))
		return;
	if (t->kind != T_MAP && !vstr)
		return; /* lists of numbers have their own fast paths above */
	fprintf(c, "\t{\n\t\tsize_t need = (size_t)v->n * %d;\n\n", kfixed + vfixed);
	if (kstr || vstr)
		fprintf(c, "\t\tfor (i = 0; i < v->n; i++)\n\t\t\tneed += %s%s%s;\n",
			kstr ? "(size_t)v->k[i].len" : "", kstr && vstr ? " + " : "",
			vstr ? "(size_t)v->v[i].len" : "");
	fprintf(c, "\t\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= need)) {\n"
		   "\t\t\tuint8_t *p = w->cur;\n\n\t\t\tfor (i = 0; i < v->n; i++) {\n");
	if (t->kind == T_MAP)
		gale__tc_simple_put(g, c, "\t\t\t\t", t->key, p, "v->k[i]");
	gale__tc_simple_put(g, c, "\t\t\t\t", t->elem, p, "v->v[i]");
	fprintf(c, "\t\t\t}\n\t\t\tw->cur = p;\n\t\t\treturn gale_%s_write_%s_end(w);\n\t\t}\n\t}\n", pr, kind);
}

/* ---- container helpers (static, in the .c) ---- */

static void
gale__tc_emit_container_protos(struct tc_gen *g, struct tc_type *t)
{
	const char *m = gale__tc_mangle(g->ctx, t);
	FILE *c = g->c;

	fprintf(c, "static bool __attribute__((unused))\ngale__equal_%s(const struct gale_%s *a, const struct gale_%s *b);\n", m, m, m);
	fprintf(c, "static void __attribute__((unused))\ngale__print_%s(FILE *out, const struct gale_%s *v);\n", m, m);
	fprintf(c, "static int __attribute__((unused))\ngale__read_binary_%s(struct gale_codec_reader *r, struct gale_%s *v);\n", m, m);
	fprintf(c, "static int __attribute__((unused))\ngale__read_compact_%s(struct gale_codec_reader *r, struct gale_%s *v);\n", m, m);
	fprintf(c, "static int __attribute__((unused))\ngale__write_binary_%s(struct gale_codec_writer *w, const struct gale_%s *v);\n", m, m);
	fprintf(c, "static int __attribute__((unused))\ngale__write_compact_%s(struct gale_codec_writer *w, const struct gale_%s *v);\n", m,
		m);
}

static void
gale__tc_emit_container_helpers(struct tc_gen *g, struct tc_type *t)
{
	struct tc_ctx *ctx = g->ctx;
	const char *m = gale__tc_mangle(ctx, t);
	const char *kind = t->kind == T_LIST ? "list" : t->kind == T_SET ? "set" : "map";
	static const char *const protos[] = { "binary", "compact" };
	FILE *c = g->c;
	size_t p;

	/* equality: element by element, in order (sets and maps as sequences, as they travel on the wire) */
	fprintf(c, "static bool\ngale__equal_%s(const struct gale_%s *a, const struct gale_%s *b)\n{\n", m, m, m);
	fprintf(c, "\tuint32_t i;\n\n\tif (a->n != b->n)\n\t\treturn false;\n\tfor (i = 0; i < a->n; i++) {\n");
	if (t->kind == T_MAP)
		fprintf(c, "\t\tif (!(%s))\n\t\t\treturn false;\n", gale__tc_eq_expr(g, t->key, "a->k[i]", "b->k[i]"));
	fprintf(c, "\t\tif (!(%s))\n\t\t\treturn false;\n\t}\n\treturn true;\n}\n\n",
		gale__tc_eq_expr(g, t->elem, "a->v[i]", "b->v[i]"));

	fprintf(c, "static void\ngale__print_%s(FILE *out, const struct gale_%s *v)\n{\n\tuint32_t i;\n\n", m, m);
	fprintf(c, "\tfputc('%c', out);\n\tfor (i = 0; i < v->n; i++) {\n\t\tif (i > 0)\n\t\t\tfputs(\", \", out);\n",
		t->kind == T_MAP ? '{' : '[');
	if (t->kind == T_MAP) {
		gale__tc_print_stmt(g, c, "\t\t", t->key, "v->k[i]");
		fprintf(c, "\t\tfputs(\": \", out);\n");
	}
	gale__tc_print_stmt(g, c, "\t\t", t->elem, "v->v[i]");
	fprintf(c, "\t}\n\tfputc('%c', out);\n}\n\n", t->kind == T_MAP ? '}' : ']');

	for (p = 0; p < 2; p++) {
		const char *pr = protos[p];

		fprintf(c, "static int\ngale__read_%s_%s(struct gale_codec_reader *r, struct gale_%s *v)\n{\n", pr, m, m);
		if (t->kind == T_MAP) {
			fprintf(c, "\tuint8_t kt, vt;\n\tuint32_t n, i;\n\n");
			fprintf(c, "\tGALE__TRY(gale_%s_read_map_begin(r, &kt, &vt, &n));\n", pr);
			fprintf(c, "\tif (n > 0 && (kt != %s || vt != %s))\n"
				   "\t\treturn gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);\n",
				gale__tc_ttype(t->key), gale__tc_ttype(t->elem));
			fprintf(c, "\tv->n = 0;\n\tv->k = NULL;\n\tv->v = NULL;\n\tif (n > 0) {\n");
			fprintf(c, "\t\tv->k = gale_arena_alloc(r->arena, (size_t)n * sizeof(*v->k), _Alignof(%s));\n",
				gale__tc_ctype(ctx, t->key));
			fprintf(c, "\t\tv->v = gale_arena_alloc(r->arena, (size_t)n * sizeof(*v->v), _Alignof(%s));\n",
				gale__tc_ctype(ctx, t->elem));
			fprintf(c, "\t\tif (v->k == NULL || v->v == NULL)\n"
				   "\t\t\treturn gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);\n\t}\n");
			fprintf(c, "\tfor (i = 0; i < n; i++) {\n");
			gale__tc_read_stmt(g, c, "\t\t", t->key, "&v->k[i]", pr);
			gale__tc_read_stmt(g, c, "\t\t", t->elem, "&v->v[i]", pr);
		} else {
			fprintf(c, "\tuint8_t et;\n\tuint32_t n, i;\n\n");
			fprintf(c, "\tGALE__TRY(gale_%s_read_%s_begin(r, &et, &n));\n", pr, kind);
			fprintf(c, "\tif (n > 0 && et != %s)\n\t\treturn gale_codec_reader_fail(r, GALE_CODEC_E_BAD_TYPE);\n",
				gale__tc_ttype(t->elem));
			fprintf(c, "\tv->n = 0;\n\tv->v = NULL;\n\tif (n > 0) {\n");
			fprintf(c, "\t\tv->v = gale_arena_alloc(r->arena, (size_t)n * sizeof(*v->v), _Alignof(%s));\n",
				gale__tc_ctype(ctx, t->elem));
			fprintf(c, "\t\tif (v->v == NULL)\n\t\t\treturn gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);\n"
				   "\t}\n");
			fprintf(c, "\tfor (i = 0; i < n; i++) {\n");
			gale__tc_read_stmt(g, c, "\t\t", t->elem, "&v->v[i]", pr);
		}
		fprintf(c, "\t}\n\tv->n = n;\n\treturn gale_%s_read_%s_end(r);\n}\n\n", pr, kind);

		fprintf(c, "static int\ngale__write_%s_%s(struct gale_codec_writer *w, const struct gale_%s *v)\n{\n"
			   "\tuint32_t i;\n\n", pr, m, m);
		if (t->kind == T_MAP && p == 0)
			fprintf(c, "\tGALE__TRY(gale__map_begin(w, %s, %s, v->n));\n", gale__tc_ttype(t->key),
				gale__tc_ttype(t->elem));
		else if (t->kind == T_MAP)
			fprintf(c, "\tGALE__TRY(gale__cmap_begin(w, %s, %s, 0x%02x, v->n));\n", gale__tc_ttype(t->key),
				gale__tc_ttype(t->elem),
				gale__tc_ctype_nibble(t->key) << 4 | gale__tc_ctype_nibble(t->elem));
		else if (p == 0)
			fprintf(c, "\tGALE__TRY(gale__list_begin(w, %s, v->n));\n", gale__tc_ttype(t->elem));
		else if (t->kind != T_MAP)
			fprintf(c, "\tGALE__TRY(gale__clist_begin(w, %s, %d, v->n));\n", gale__tc_ttype(t->elem),
				gale__tc_ctype_nibble(t->elem));
		else
			fprintf(c, "\tGALE__TRY(gale_%s_write_%s_begin(w, %s, v->n));\n", pr, kind,
				gale__tc_ttype(t->elem));
		if (p == 0 && t->kind != T_MAP && gale__tc_fixed_size(t->elem) > 0) {
			/* Fixed-size elements: one bounds check for the lot when they fit in the segment. */
			fprintf(c, "\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= (size_t)v->n * %d)) {\n"
				   "\t\tuint8_t *p = w->cur;\n\n\t\tfor (i = 0; i < v->n; i++) {\n",
				gale__tc_fixed_size(t->elem));
			gale__tc_put_stmt(g, c, "\t\t\t", t->elem, "v->v[i]");
			fprintf(c, "\t\t}\n\t\tw->cur = p;\n\t\treturn gale_binary_write_%s_end(w);\n\t}\n", kind);
		}
		if (p == 1 && t->kind != T_MAP) {
			struct tc_type *et = gale__tc_tt(t->elem);
			const char *put = NULL;

			if (et->kind == T_I64)
				put = "p = gale__put_varint(p, gale_compact_zigzag64(v->v[i]));";
			else if (et->kind == T_I32 || et->kind == T_I16 || (et->kind == T_NAMED && et->def->kind == D_ENUM))
				put = "p = gale__put_varint(p, gale_compact_zigzag32(v->v[i]));";
			else if (et->kind == T_DOUBLE)
				put = "p = gale__put_le64(p, v->v[i]);";
			else if (et->kind == T_I8)
				put = "*p++ = (uint8_t)v->v[i];";
			if (put != NULL)
				fprintf(c, "\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= (size_t)v->n * 10)) {\n"
					   "\t\tuint8_t *p = w->cur;\n\n\t\tfor (i = 0; i < v->n; i++)\n\t\t\t%s\n"
					   "\t\tw->cur = p;\n\t\treturn gale_compact_write_%s_end(w);\n\t}\n", put, kind);
		}
		gale__tc_emit_onecheck_writer(g, c, t, p, pr, kind);
		fprintf(c, "\tfor (i = 0; i < v->n; i++) {\n");
		if (t->kind == T_MAP)
			gale__tc_write_stmt(g, c, "\t\t", t->key, "v->k[i]", pr);
		gale__tc_write_stmt(g, c, "\t\t", t->elem, "v->v[i]", pr);
		fprintf(c, "\t}\n\treturn gale_%s_write_%s_end(w);\n}\n\n", pr, kind);
	}
}

/* ---- descriptors ---- */

/* Returns an expression for a `const struct gale_tc_type_desc *` describing t, emitting it first if new. */
static const char *
gale__tc_type_desc(struct tc_gen *g, struct tc_type *t, struct tc_vec *seen)
{
	struct tc_ctx *ctx = g->ctx;
	struct tc_type *tt = gale__tc_tt(t);
	const char *key = gale__tc_sprintf(ctx, "%s%s", gale__tc_mangle(ctx, tt), tt->kind == T_BINARY ? "_bin" : "");
	const char *k = "NULL", *e = "NULL", *st = "NULL", *name;
	size_t i;

	for (i = 0; i + 1 < seen->n; i += 2)
		if (strcmp(seen->v[i], key) == 0)
			return seen->v[i + 1];
	if (tt->key != NULL)
		k = gale__tc_type_desc(g, tt->key, seen);
	if (tt->elem != NULL)
		e = gale__tc_type_desc(g, tt->elem, seen);
	if (tt->kind == T_NAMED && tt->def->kind != D_ENUM)
		st = gale__tc_sprintf(ctx, "&%s_desc", gale__tc_dname(ctx, tt->def));
	name = gale__tc_sprintf(ctx, "gale__td%d", g->nconst++);
	fprintf(g->c, "static const struct gale_tc_type_desc %s = { %s, %d, %s, %s, %s }; /* %s */\n", name,
		gale__tc_ttype(tt), tt->kind == T_BINARY, k, e, st, gale__tc_type_name(ctx, t));
	name = gale__tc_sprintf(ctx, "&%s", name);
	gale__tc_vec_push(ctx, seen, (void *)(uintptr_t)key);
	gale__tc_vec_push(ctx, seen, (void *)(uintptr_t)name);
	return name;
}

static void
gale__tc_emit_struct_desc(struct tc_gen *g, struct tc_def *d, struct tc_vec *seen)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, d);
	const char **types = gale__tc_alloc(ctx, (d->fields.n + 1) * sizeof(*types));
	size_t i;

	for (i = 0; i < d->fields.n; i++)
		types[i] = gale__tc_type_desc(g, ((struct tc_field *)d->fields.v[i])->type, seen);
	if (d->fields.n > 0) {
		fprintf(g->c, "static const struct gale_tc_field_desc gale__fields_%s[%zu] = {\n", n, d->fields.n);
		for (i = 0; i < d->fields.n; i++) {
			struct tc_field *f = d->fields.v[i];

			fprintf(g->c, "\t{ %d, %d, \"%s\", %s },\n", f->id, (int)f->req, f->name, types[i]);
		}
		fprintf(g->c, "};\n");
	}
	fprintf(g->c, "const struct gale_tc_struct_desc %s_desc = { \"%s\", %d, %d, %zu, %s };\n\n", n, d->name,
		d->kind == D_UNION, d->kind == D_EXCEPTION, d->fields.n,
		d->fields.n > 0 ? gale__tc_sprintf(ctx, "gale__fields_%s", n) : "NULL");
}

/* ---- services ---- */

static struct tc_def *
gale__tc_synth(struct tc_gen *g, struct tc_def *svc, struct tc_func *fn, bool result)
{
	struct tc_ctx *ctx = g->ctx;
	struct tc_def *d = gale__tc_alloc(ctx, sizeof(*d));
	size_t i;

	d->kind = D_STRUCT;
	d->file = svc->file;
	d->loc = fn->loc;
	d->name = gale__tc_sprintf(ctx, "%s_%s_%s", svc->name, fn->name, result ? "result" : "args");
	d->doc = gale__tc_sprintf(ctx, "%s of %s.%s.", result ? "Result" : "Arguments", svc->name, fn->name);
	if (!result) {
		for (i = 0; i < fn->args.n; i++)
			gale__tc_vec_push(ctx, &d->fields, fn->args.v[i]);
		return d;
	}
	if (fn->ret->kind != T_VOID) {
		struct tc_field *s = gale__tc_alloc(ctx, sizeof(*s));

		s->id = 0;
		s->req = REQ_OPTIONAL;
		s->type = fn->ret;
		s->name = "success";
		gale__tc_vec_push(ctx, &d->fields, s);
	}
	for (i = 0; i < fn->throws.n; i++) {
		struct tc_field *t = gale__tc_alloc(ctx, sizeof(*t));

		*t = *(struct tc_field *)fn->throws.v[i];
		t->req = REQ_OPTIONAL;
		gale__tc_vec_push(ctx, &d->fields, t);
	}
	return d;
}

static void
gale__tc_emit_service(struct tc_gen *g, struct tc_def *svc)
{
	struct tc_ctx *ctx = g->ctx;
	const char *n = gale__tc_dname(ctx, svc);
	FILE *h = g->h, *c = g->c;
	size_t i;

	gale__tc_put_doc(h, "", svc->doc);
	fprintf(h, "/*\n * service %s%s%s: the handlers a server implements. Each returns 0 with the result filled\n"
		   " * (success and its isset bit, or one exception field), or a negative errno, which the runtime\n"
		   " * answers with a TApplicationException. Strings in args are views valid for the call.\n */\n",
		svc->name, svc->base ? " extends " : "", svc->base ? svc->base->name : "");
	fprintf(h, "struct %s_handlers {\n", n);
	if (svc->base != NULL)
		fprintf(h, "\tconst struct %s_handlers *base; /**< handlers of %s, for inherited methods */\n",
			gale__tc_dname(ctx, svc->base), svc->base->name);
	for (i = 0; i < svc->funcs.n; i++) {
		struct tc_func *fn = svc->funcs.v[i];

		gale__tc_put_doc(h, "\t", fn->doc);
		if (fn->oneway)
			fprintf(h, "\tint (*%s)(void *user, const struct %s_%s_args *args); /**< oneway */\n",
				gale__tc_cid(ctx, fn->name), n, fn->name);
		else
			fprintf(h, "\tint (*%s)(void *user, const struct %s_%s_args *args, struct %s_%s_result *result);\n",
				gale__tc_cid(ctx, fn->name), n, fn->name, n, fn->name);
	}
	if (svc->funcs.n == 0 && svc->base == NULL)
		fprintf(h, "\tint unused_; /**< a service without functions */\n");
	fprintf(h, "};\n\n");
	fprintf(h, "/** Method table entry of %s. */\nstruct %s_method {\n\tconst char *name;\n\tuint8_t oneway;\n};\n",
		svc->name, n);
	fprintf(h, "/** Every method of %s itself (not inherited), in IDL order. */\n", svc->name);
	fprintf(h, "extern const struct %s_method %s_methods[%zu];\n\n", n, n, svc->funcs.n ? svc->funcs.n : 1);
	fprintf(h, "/**\n * Server side: decodes the arguments of method `name` (the envelope is already read), runs its\n"
		   " * handler and writes the reply envelope and result. Returns 0, -ENOENT for an unknown method or\n"
		   " * one without a handler (nothing written), a codec error (-1/-2) from decoding or encoding, or the\n"
		   " * handler's negative errno.\n */\n");
	fprintf(h, "int %s_dispatch(const struct %s_handlers *h, void *user, int proto, const char *name,\n"
		   "\tsize_t name_len, int32_t seqid, struct gale_codec_reader *r, struct gale_codec_writer *w);\n\n",
		n, n);
	for (i = 0; i < svc->funcs.n; i++) {
		struct tc_func *fn = svc->funcs.v[i];

		fprintf(h, "/** Client: writes the call envelope and arguments of %s.%s. */\n", svc->name, fn->name);
		fprintf(h, "int %s_%s_send(int proto, struct gale_codec_writer *w, int32_t seqid,\n"
			   "\tconst struct %s_%s_args *args);\n", n, fn->name, n, fn->name);
		if (!fn->oneway) {
			fprintf(h, "/**\n * Client: reads the reply of %s.%s. Returns 0 (result filled), -EREMOTEIO when the\n"
				   " * server answered with a TApplicationException (read it with <gale/appex.h>), -EBADMSG for\n"
				   " * a reply to another method, or a codec error.\n */\n", svc->name, fn->name);
			fprintf(h, "int %s_%s_recv(int proto, struct gale_codec_reader *r, struct %s_%s_result *result);\n",
				n, fn->name, n, fn->name);
		}
		if (fn->oneway) {
			fprintf(h, "/** Client through a channel (<gale/thriftc.h>): oneway, returns once sent. */\n");
			fprintf(h, "int %s_%s_call(const struct gale_tc_channel *ch, const struct %s_%s_args *args);\n", n,
				fn->name, n, fn->name);
			fprintf(h, "int %s_%s_call_async(const struct gale_tc_channel *ch, const struct %s_%s_args *args,\n"
				   "\tgale_tc_done_cb_t done, void *arg);\n", n, fn->name, n, fn->name);
		} else {
			fprintf(h, "/** Client through a channel (<gale/thriftc.h>): synchronous, and with a callback. */\n");
			fprintf(h, "int %s_%s_call(const struct gale_tc_channel *ch, const struct %s_%s_args *args,\n"
				   "\tstruct %s_%s_result *result);\n", n, fn->name, n, fn->name, n, fn->name);
			fprintf(h, "int %s_%s_call_async(const struct gale_tc_channel *ch, const struct %s_%s_args *args,\n"
				   "\tstruct %s_%s_result *result, gale_tc_done_cb_t done, void *arg);\n", n, fn->name, n,
				fn->name, n, fn->name);
		}
	}
	fputc('\n', h);

	fprintf(c, "const struct %s_method %s_methods[%zu] = {\n", n, n, svc->funcs.n ? svc->funcs.n : 1);
	for (i = 0; i < svc->funcs.n; i++) {
		struct tc_func *fn = svc->funcs.v[i];

		fprintf(c, "\t{ \"%s\", %d },\n", fn->name, fn->oneway);
	}
	if (svc->funcs.n == 0)
		fprintf(c, "\t{ NULL, 0 },\n");
	fprintf(c, "};\n\n");

	fprintf(c, "int\n%s_dispatch(const struct %s_handlers *h, void *user, int proto, const char *name,\n"
		   "\tsize_t name_len, int32_t seqid, struct gale_codec_reader *r, struct gale_codec_writer *w)\n{\n", n,
		n);
	for (i = 0; i < svc->funcs.n; i++) {
		struct tc_func *fn = svc->funcs.v[i];
		const char *fc = gale__tc_cid(ctx, fn->name);

		fprintf(c, "\tif (name_len == %zu && memcmp(name, \"%s\", %zu) == 0) {\n", strlen(fn->name), fn->name,
			strlen(fn->name));
		fprintf(c, "\t\tstruct %s_%s_args args;\n", n, fn->name);
		if (!fn->oneway)
			fprintf(c, "\t\tstruct %s_%s_result result;\n", n, fn->name);
		if (!fn->oneway)
			fprintf(c, "\t\tint rc;\n");
		fprintf(c, "\n\t\tif (h->%s == NULL)\n\t\t\treturn -ENOENT;\n", fc);
		fprintf(c, "\t\tGALE__TRY(%s_%s_args_read(proto, r, &args));\n", n, fn->name);
		if (fn->oneway) {
			fprintf(c, "\t\t(void)seqid;\n\t\t(void)w;\n\t\treturn h->%s(user, &args);\n\t}\n", fc);
			continue;
		}
		fprintf(c, "\t\t%s_%s_result_init(&result);\n", n, fn->name);
		fprintf(c, "\t\tif ((rc = h->%s(user, &args, &result)) != 0)\n\t\t\treturn rc;\n", fc);
		fprintf(c, "\t\tif (proto == GALE_PROTO_COMPACT)\n"
			   "\t\t\tGALE__TRY(gale_compact_write_message_begin(w, name, name_len, GALE_MSG_REPLY, seqid));\n"
			   "\t\telse\n"
			   "\t\t\tGALE__TRY(gale_binary_write_message_begin(w, name, name_len, GALE_MSG_REPLY, seqid));\n");
		fprintf(c, "\t\treturn %s_%s_result_write(proto, w, &result);\n\t}\n", n, fn->name);
	}
	if (svc->base != NULL)
		fprintf(c, "\tif (h->base != NULL)\n\t\treturn %s_dispatch(h->base, user, proto, name, name_len, seqid, r, w);\n",
			gale__tc_dname(ctx, svc->base));
	fprintf(c, "\t(void)h;\n\t(void)user;\n\t(void)proto;\n\t(void)name;\n\t(void)name_len;\n\t(void)seqid;\n"
		   "\t(void)r;\n\t(void)w;\n\treturn -ENOENT;\n}\n\n");

	for (i = 0; i < svc->funcs.n; i++) {
		struct tc_func *fn = svc->funcs.v[i];
		size_t nl = strlen(fn->name);

		fprintf(c, "int\n%s_%s_send(int proto, struct gale_codec_writer *w, int32_t seqid,\n"
			   "\tconst struct %s_%s_args *args)\n{\n", n, fn->name, n, fn->name);
		fprintf(c, "\tif (proto == GALE_PROTO_COMPACT)\n"
			   "\t\tGALE__TRY(gale_compact_write_message_begin(w, \"%s\", %zu, %s, seqid));\n"
			   "\telse\n\t\tGALE__TRY(gale_binary_write_message_begin(w, \"%s\", %zu, %s, seqid));\n",
			fn->name, nl, fn->oneway ? "GALE_MSG_ONEWAY" : "GALE_MSG_CALL", fn->name, nl,
			fn->oneway ? "GALE_MSG_ONEWAY" : "GALE_MSG_CALL");
		fprintf(c, "\treturn %s_%s_args_write(proto, w, args);\n}\n\n", n, fn->name);
		if (fn->oneway)
			continue;
		fprintf(c, "int\n%s_%s_recv(int proto, struct gale_codec_reader *r, struct %s_%s_result *result)\n{\n"
			   "\tstruct gale_codec_bytes name;\n\tuint8_t type;\n\tint32_t seqid;\n\n", n, fn->name, n,
			fn->name);
		fprintf(c, "\tif (proto == GALE_PROTO_COMPACT)\n"
			   "\t\tGALE__TRY(gale_compact_read_message_begin(r, &name, &type, &seqid));\n"
			   "\telse\n\t\tGALE__TRY(gale_binary_read_message_begin(r, &name, &type, &seqid));\n");
		fprintf(c, "\t(void)seqid;\n\tif (type == GALE_MSG_EXCEPTION)\n\t\treturn -EREMOTEIO;\n");
		fprintf(c, "\tif (type != GALE_MSG_REPLY || name.len != %zu || memcmp(name.ptr, \"%s\", %zu) != 0)\n"
			   "\t\treturn -EBADMSG;\n", nl, fn->name, nl);
		fprintf(c, "\treturn %s_%s_result_read(proto, r, result);\n}\n\n", n, fn->name);
	}
	for (i = 0; i < svc->funcs.n; i++) {
		struct tc_func *fn = svc->funcs.v[i];
		const char *fq = gale__tc_sprintf(ctx, "%s_%s", n, fn->name);

		fprintf(c, "static int\ngale__wargs_%s(int proto, struct gale_codec_writer *w, const void *args)\n{\n"
			   "\treturn %s_args_write(proto, w, args);\n}\n\n", fq, fq);
		if (!fn->oneway)
			fprintf(c, "static int\ngale__rres_%s(int proto, struct gale_codec_reader *r, void *result)\n{\n"
				   "\treturn %s_result_read(proto, r, result);\n}\n\n", fq, fq);
		fprintf(c, "static void\ngale__call_%s(struct gale_tc_call *call, const struct %s_args *args, %s)\n{\n",
			fq, fq, fn->oneway ? "void *result" : gale__tc_sprintf(ctx, "struct %s_result *result", fq));
		fprintf(c, "\tcall->method = \"%s\";\n\tcall->method_len = %zu;\n\tcall->oneway = %d;\n", fn->name,
			strlen(fn->name), fn->oneway);
		fprintf(c, "\tcall->write_args = gale__wargs_%s;\n\tcall->read_result = %s;\n", fq,
			fn->oneway ? "NULL" : gale__tc_sprintf(ctx, "gale__rres_%s", fq));
		fprintf(c, "\tcall->args = args;\n\tcall->result = result;\n}\n\n");
		if (fn->oneway) {
			fprintf(c, "int\n%s_call(const struct gale_tc_channel *ch, const struct %s_args *args)\n{\n"
				   "\tstruct gale_tc_call call;\n\n\tgale__call_%s(&call, args, NULL);\n"
				   "\treturn ch->ops->call(ch->chan, &call);\n}\n\n", fq, fq, fq);
			fprintf(c, "int\n%s_call_async(const struct gale_tc_channel *ch, const struct %s_args *args,\n"
				   "\tgale_tc_done_cb_t done, void *arg)\n{\n"
				   "\tstruct gale_tc_call call;\n\n\tgale__call_%s(&call, args, NULL);\n"
				   "\treturn ch->ops->call_async(ch->chan, &call, done, arg);\n}\n\n", fq, fq, fq);
		} else {
			fprintf(c, "int\n%s_call(const struct gale_tc_channel *ch, const struct %s_args *args,\n"
				   "\tstruct %s_result *result)\n{\n"
				   "\tstruct gale_tc_call call;\n\n\tgale__call_%s(&call, args, result);\n"
				   "\treturn ch->ops->call(ch->chan, &call);\n}\n\n", fq, fq, fq, fq);
			fprintf(c, "int\n%s_call_async(const struct gale_tc_channel *ch, const struct %s_args *args,\n"
				   "\tstruct %s_result *result, gale_tc_done_cb_t done, void *arg)\n{\n"
				   "\tstruct gale_tc_call call;\n\n\tgale__call_%s(&call, args, result);\n"
				   "\treturn ch->ops->call_async(ch->chan, &call, done, arg);\n}\n\n", fq, fq, fq, fq);
		}
	}
}

/* ---- files ---- */

static const char *
gale__tc_guard(struct tc_ctx *ctx, const char *prefix, const char *name)
{
	char *s = gale__tc_sprintf(ctx, "GALE_GEN_%s_%s_H", prefix, name);
	char *p;

	for (p = s; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	}
	return s;
}

/* Orders the struct defs so a struct held by value comes after the structs it holds. */
static void
gale__tc_order_structs(struct tc_gen *g, struct tc_def *d)
{
	size_t i;

	if (d->mark == 3)
		return;
	d->mark = 3;
	for (i = 0; i < d->fields.n; i++) {
		struct tc_field *f = d->fields.v[i];
		struct tc_type *t = gale__tc_tt(f->type);

		if (!f->by_pointer && t->kind == T_NAMED && t->def->kind != D_ENUM && t->def->file == g->file)
			gale__tc_order_structs(g, t->def);
	}
	gale__tc_vec_push(g->ctx, &g->structs, d);
}

int
gale__tc_gen_c(struct tc_ctx *ctx, struct tc_file *f, const char *outdir, const char *options)
{
	struct tc_gen g = { 0 };
	struct tc_vec all = { 0 }, seen = { 0 };
	char *hpath, *cpath;
	size_t i, j, k;
	int rc = 0;

	(void)options;
	g.ctx = ctx;
	g.file = f;
	g.prefix = gale__tc_prefix(ctx, f);
	hpath = gale__tc_sprintf(ctx, "%s/%s.h", outdir, f->name);
	cpath = gale__tc_sprintf(ctx, "%s/%s.c", outdir, f->name);
	g.h = fopen(hpath, "w");
	g.c = fopen(cpath, "w");
	if (g.h == NULL || g.c == NULL) {
		fprintf(stderr, "gale-thriftc: cannot write %s: %s\n", g.h == NULL ? hpath : cpath, strerror(errno));
		if (g.h)
			fclose(g.h);
		if (g.c)
			fclose(g.c);
		return -errno;
	}

	/* Struct-like defs of this file, then the synthesized args/results of its services. */
	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];

		if (d->kind == D_STRUCT || d->kind == D_UNION || d->kind == D_EXCEPTION)
			gale__tc_vec_push(ctx, &all, d);
		if (d->kind == D_SERVICE)
			for (j = 0; j < d->funcs.n; j++) {
				gale__tc_vec_push(ctx, &all, gale__tc_synth(&g, d, d->funcs.v[j], false));
				gale__tc_vec_push(ctx, &all, gale__tc_synth(&g, d, d->funcs.v[j], true));
			}
	}
	/* Pointer fields: every struct of every file, so cross-file cycles are seen the same way. */
	for (k = 0; k < ctx->files.n; k++) {
		struct tc_file *ff = ctx->files.v[k];

		for (i = 0; i < ff->defs.n; i++)
			((struct tc_def *)ff->defs.v[i])->mark = 0;
	}
	for (i = 0; i < all.n; i++)
		((struct tc_def *)all.v[i])->mark = 0;
	for (k = 0; k < ctx->files.n; k++) {
		struct tc_file *ff = ctx->files.v[k];

		for (i = 0; i < ff->defs.n; i++) {
			struct tc_def *d = ff->defs.v[i];

			if ((d->kind == D_STRUCT || d->kind == D_UNION || d->kind == D_EXCEPTION) && d->mark == 0)
				gale__tc_mark_cycles(d);
		}
	}
	for (i = 0; i < all.n; i++)
		if (((struct tc_def *)all.v[i])->mark == 0)
			gale__tc_mark_cycles(all.v[i]);
	for (i = 0; i < all.n; i++)
		gale__tc_order_structs(&g, all.v[i]);
	for (i = 0; i < g.structs.n; i++) {
		struct tc_def *d = g.structs.v[i];

		for (j = 0; j < d->fields.n; j++)
			gale__tc_note_type(&g, ((struct tc_field *)d->fields.v[j])->type);
	}
	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];

		if (d->kind == D_CONST)
			gale__tc_note_type(&g, d->type);
	}

	/* header */
	fprintf(g.h, "/* Generated by gale-thriftc %s from %s.thrift. Do not edit: edit the IDL and regenerate. */\n",
		GALE_THRIFTC_VERSION, f->name);
	gale__tc_put_doc(g.h, "", f->doc);
	fprintf(g.h, "#ifndef %s\n#define %s\n\n", gale__tc_guard(ctx, g.prefix, f->name),
		gale__tc_guard(ctx, g.prefix, f->name));
	fprintf(g.h, "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n\n");
	fprintf(g.h, "#include <gale/arena.h>\n#include <gale/codec.h>\n#include <gale/thriftc.h>\n\n");
	for (i = 0; i < f->includes.n; i++) {
		struct tc_include *inc = f->includes.v[i];

		fprintf(g.h, "#include \"%s.h\"\n", inc->file->name);
	}
	if (f->includes.n > 0)
		fputc('\n', g.h);
	fprintf(g.h, "#ifndef GALE_ISSET\n"
		     "/** A uuid, 16 bytes in wire order. */\nstruct gale_uuid {\n\tuint8_t b[16];\n};\n"
		     "/* isset bits of generated structs: one per field, named <Struct>_F_<field>. */\n"
		     "#define GALE_ISSET(s, bit) ((((s)->isset_[(bit) >> 5]) >> ((bit) & 31)) & 1u)\n"
		     "#define GALE_SET(s, bit) ((s)->isset_[(bit) >> 5] |= 1u << ((bit) & 31))\n"
		     "#define GALE_UNSET(s, bit) ((s)->isset_[(bit) >> 5] &= ~(1u << ((bit) & 31)))\n"
		     "#endif\n\n");
	fprintf(g.h, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");

	/* enums and typedefs */
	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];
		const char *n = gale__tc_dname(ctx, d);

		if (d->kind == D_TYPEDEF) {
			fprintf(g.h, "/* typedef %s %s: used as its underlying type */\n",
				gale__tc_type_name(ctx, d->type), d->name);
			continue;
		}
		if (d->kind != D_ENUM)
			continue;
		gale__tc_put_doc(g.h, "", d->doc);
		fprintf(g.h, "enum %s {\n", n);
		for (j = 0; j < d->vals.n; j++) {
			struct tc_enum_val *ev = d->vals.v[j];

			gale__tc_put_doc(g.h, "\t", ev->doc);
			fprintf(g.h, "\t%s_%s = %s,\n", n, ev->name, gale__tc_int_lit(ctx, ev->value, T_I32));
		}
		if (d->vals.n == 0)
			fprintf(g.h, "\t%s_NONE_ = 0, /**< the IDL enum is empty */\n", n);
		fprintf(g.h, "};\n/** Name of a value of %s, or NULL. */\nconst char *%s_name(int32_t v);\n\n", d->name, n);
	}

	/* forward declarations, container types, structs */
	for (i = 0; i < g.structs.n; i++)
		fprintf(g.h, "struct %s;\n", gale__tc_dname(ctx, g.structs.v[i]));
	fputc('\n', g.h);
	for (i = 0; i < g.containers.n; i++)
		gale__tc_emit_container_type(&g, g.containers.v[i]);
	for (i = 0; i < g.structs.n; i++)
		gale__tc_emit_struct_decl(&g, g.structs.v[i]);

	/* .c prologue */
	fprintf(g.c, "/* Generated by gale-thriftc %s from %s.thrift. Do not edit: edit the IDL and regenerate. */\n",
		GALE_THRIFTC_VERSION, f->name);
	fprintf(g.c, "#include <errno.h>\n#include <string.h>\n\n#include <gale/binary.h>\n#include <gale/compact.h>\n\n");
	fprintf(g.c, "#include \"%s.h\"\n\n", f->name);
	fprintf(g.c, "/* Returns the code of a failed codec call. */\n"
		     "#define GALE__TRY(e)                    \\\n"
		     "\tdo {                            \\\n"
		     "\t\tint gale_rc_ = (e);     \\\n"
		     "\t\tif (gale_rc_ != 0)      \\\n"
		     "\t\t\treturn gale_rc_; \\\n"
		     "\t} while (0)\n\n");
	fprintf(g.c, "static bool __attribute__((unused))\ngale__bytes_equal(const struct gale_codec_bytes *a, "
		     "const struct gale_codec_bytes *b)\n{\n"
		     "\treturn a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);\n}\n\n");
	fprintf(g.c, "/* An empty value may have a NULL ptr; the writer copies from it, so give it a valid one. */\n"
		     "static inline const void * __attribute__((unused))\ngale__bytes_ptr(const struct gale_codec_bytes *b)\n{\n"
		     "\treturn b->ptr != NULL ? (const void *)b->ptr : (const void *)\"\";\n}\n\n");
	fprintf(g.c, "/* Binary stores behind one bounds check (see the fixed-size runs in the writers). */\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put16(uint8_t *p, uint16_t v)\n{\n"
		     "\tv = gale_codec_be16(v);\n\tmemcpy(p, &v, 2);\n\treturn p + 2;\n}\n\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put32(uint8_t *p, uint32_t v)\n{\n"
		     "\tv = gale_codec_be32(v);\n\tmemcpy(p, &v, 4);\n\treturn p + 4;\n}\n\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put64(uint8_t *p, uint64_t v)\n{\n"
		     "\tv = gale_codec_be64(v);\n\tmemcpy(p, &v, 8);\n\treturn p + 8;\n}\n\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__putd(uint8_t *p, double d)\n{\n"
		     "\tuint64_t v;\n\n\tmemcpy(&v, &d, 8);\n\treturn gale__put64(p, v);\n}\n\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put_field(uint8_t *p, uint8_t type, int16_t id)\n{\n"
		     "\tp[0] = type;\n\treturn gale__put16(p + 1, (uint16_t)id);\n}\n\n"
		     "/* A binary field header as one 4-byte store whose last byte the value then overwrites (the caller\n"
		     " * checked room for the value): one store instead of two. */\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put_field4(uint8_t *p, uint8_t type, int16_t id)\n{\n"
		     "\tuint32_t v = gale_codec_be32((uint32_t)type << 24 | (uint32_t)(uint16_t)id << 8);\n\n"
		     "\tmemcpy(p, &v, 4);\n\treturn p + 3;\n}\n\n"
		     "/* A binary field header and a 4-byte value (an i32, a string's length) as one 8-byte store whose last\n"
		     " * byte what follows overwrites (the caller checked room for it). */\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put_field32(uint8_t *p, uint8_t type, int16_t id, "
		     "uint32_t x)\n{\n"
		     "\tuint64_t v = gale_codec_be64((uint64_t)type << 56 | (uint64_t)(uint16_t)id << 40 | (uint64_t)x << 8);\n\n"
		     "\tmemcpy(p, &v, 8);\n\treturn p + 7;\n}\n\n"
		     "/* A binary field header: one 3-byte store sequence (no stack round trip). */\n"
		     "static inline int __attribute__((unused))\ngale__field(struct gale_codec_writer *w, uint8_t type, int16_t id)\n{\n"
		     "\tif (GALE_CODEC_LIKELY(w->end - w->cur >= 3)) {\n"
		     "\t\tw->cur = gale__put_field(w->cur, type, id);\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_binary_write_field_begin(w, type, id);\n}\n\n"
		     "/* Binary list/set and map headers, stored directly (same bytes as the codec's calls). */\n"
		     "static inline int __attribute__((unused))\ngale__list_begin(struct gale_codec_writer *w, uint8_t et, uint32_t n)\n{\n"
		     "\tif (GALE_CODEC_LIKELY(w->end - w->cur >= 5 && n <= INT32_MAX)) {\n"
		     "\t\tw->cur[0] = et;\n\t\tw->cur = gale__put32(w->cur + 1, n);\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_binary_write_list_begin(w, et, n);\n}\n\n"
		     "static inline int __attribute__((unused))\ngale__map_begin(struct gale_codec_writer *w, uint8_t kt, uint8_t vt, uint32_t n)\n{\n"
		     "\tif (GALE_CODEC_LIKELY(w->end - w->cur >= 6 && n <= INT32_MAX)) {\n"
		     "\t\tw->cur[0] = kt;\n\t\tw->cur[1] = vt;\n\t\tw->cur = gale__put32(w->cur + 2, n);\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_binary_write_map_begin(w, kt, vt, n);\n}\n\n"
		     "/* Copies a string's bytes to p: up to 32 with fixed-size moves, not a call to memcpy. The view is read\n"
		     " * once into locals (the stores through p may alias it, which made the compiler reload it). */\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__copy_bytes(uint8_t *p, const struct gale_codec_bytes *b)\n{\n"
		     "\tconst uint8_t *s = b->ptr;\n\tuint32_t n = b->len;\n\n"
		     "\tif (n <= 16 && n >= 8) {\n"
		     "\t\tuint64_t x, y;\n\n"
		     "\t\tmemcpy(&x, s, 8);\n\t\tmemcpy(&y, s + n - 8, 8);\n"
		     "\t\tmemcpy(p, &x, 8);\n\t\tmemcpy(p + n - 8, &y, 8);\n"
		     "\t} else if (n < 8 && n >= 4) {\n"
		     "\t\tuint32_t x, y;\n\n"
		     "\t\tmemcpy(&x, s, 4);\n\t\tmemcpy(&y, s + n - 4, 4);\n"
		     "\t\tmemcpy(p, &x, 4);\n\t\tmemcpy(p + n - 4, &y, 4);\n"
		     "\t} else if (n < 4) {\n"
		     "\t\tif (n != 0) {\n\t\t\tuint8_t x = s[0], y = s[n / 2], z = s[n - 1];\n\n"
		     "\t\t\tp[0] = x;\n\t\t\tp[n / 2] = y;\n\t\t\tp[n - 1] = z;\n\t\t}\n"
		     "\t} else if (n <= 32) {\n"
		     "\t\tstruct {\n\t\t\tuint64_t a, b;\n\t\t} x, y;\n\n"
		     "\t\tmemcpy(&x, s, 16);\n\t\tmemcpy(&y, s + n - 16, 16);\n"
		     "\t\tmemcpy(p, &x, 16);\n\t\tmemcpy(p + n - 16, &y, 16);\n"
		     "\t} else {\n\t\tmemcpy(p, s, n);\n\t}\n"
		     "\treturn p + n;\n}\n\n"
		     "/* A binary string: length and bytes behind one check when they fit in the segment. */\n"
		     "static inline int __attribute__((unused))\ngale__put_string(struct gale_codec_writer *w, "
		     "const struct gale_codec_bytes *b)\n{\n"
		     "\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= (size_t)b->len + 4)) {\n"
		     "\t\tw->cur = gale__copy_bytes(gale__put32(w->cur, b->len), b);\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_binary_write_string(w, gale__bytes_ptr(b), b->len);\n}\n\n"
		     "/* Big-endian loads for the whole-struct decoders (the caller has checked the bytes are there). */\n"
		     "static inline uint16_t __attribute__((unused))\ngale__get16(const uint8_t *p)\n{\n"
		     "\tuint16_t v;\n\n\tmemcpy(&v, p, 2);\n\treturn gale_codec_be16(v);\n}\n\n"
		     "static inline uint32_t __attribute__((unused))\ngale__get32(const uint8_t *p)\n{\n"
		     "\tuint32_t v;\n\n\tmemcpy(&v, p, 4);\n\treturn gale_codec_be32(v);\n}\n\n"
		     "static inline uint64_t __attribute__((unused))\ngale__get64(const uint8_t *p)\n{\n"
		     "\tuint64_t v;\n\n\tmemcpy(&v, p, 8);\n\treturn gale_codec_be64(v);\n}\n\n"
		     "/* Compact: an unsigned varint of at most max bytes, all before e; 0 when not (the caller falls back). */\n"
		     "static inline int __attribute__((unused))\ngale__cget_varint(const uint8_t **pp, const uint8_t *e, "
		     "unsigned max, uint64_t *v)\n{\n"
		     "\tconst uint8_t *p = *pp;\n\tuint64_t x = 0;\n\tunsigned i;\n\n"
		     "\tif (e - p >= 2 && p[0] < 0x80) { /* one byte: lengths, small numbers */\n"
		     "\t\t*pp = p + 1;\n\t\t*v = p[0];\n\t\treturn 1;\n\t}\n"
		     "\tif (e - p >= 2 && p[1] < 0x80) {\n"
		     "\t\t*pp = p + 2;\n\t\t*v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;\n\t\treturn 1;\n\t}\n"
		     "\tfor (i = 0; i < max && p + i < e; i++) {\n"
		     "\t\tx |= (uint64_t)(p[i] & 0x7f) << (7 * i);\n"
		     "\t\tif (p[i] < 0x80) {\n\t\t\t*pp = p + i + 1;\n\t\t\t*v = x;\n\t\t\treturn 1;\n\t\t}\n\t}\n"
		     "\treturn 0;\n}\n\n"
		     "/* The first three bytes at p as one number, from one 4-byte load: a binary field header (type, id)\n"
		     " * whose value has at least one byte (the caller checked 4 are there). */\n"
		     "static inline uint32_t __attribute__((unused))\ngale__hdr4(const uint8_t *p)\n{\n"
		     "\tuint32_t v;\n\n\tmemcpy(&v, p, 4);\n\treturn gale_codec_be32(v) >> 8;\n}\n\n"
		     "/* The first three bytes at p as one number: a binary field header (type, id). */\n"
		     "static inline uint32_t __attribute__((unused))\ngale__hdr3(const uint8_t *p)\n{\n"
		     "\treturn (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];\n}\n\n"
		     "/* Compact: an unsigned varint at p (the caller has checked there is room for 10 bytes). */\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put_varint(uint8_t *p, uint64_t v)\n{\n"
		     "\twhile (v >= 0x80) {\n\t\t*p++ = (uint8_t)(v | 0x80);\n\t\tv >>= 7;\n\t}\n"
		     "\t*p++ = (uint8_t)v;\n\treturn p;\n}\n\n"
		     "/* A compact string's field header byte and length: below 16384, the header and the length's one or\n"
		     " * two bytes in one 4-byte store whose extra bytes what follows overwrites (the caller checked room for\n"
		     " * the header and 5 length bytes). */\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__cput_len(uint8_t *p, uint8_t hdr, uint32_t n)\n{\n"
		     "\tuint32_t v;\n\n"
		     "\tif (n >= 16384) {\n\t\t*p = hdr;\n\t\treturn gale__put_varint(p + 1, n);\n\t}\n"
		     "\tv = (uint32_t)hdr << 24 | (n < 128 ? n << 16 : ((n & 0x7f) | 0x80) << 16 | (n >> 7) << 8);\n"
		     "\tv = gale_codec_be32(v);\n\tmemcpy(p, &v, 4);\n\treturn p + (n < 128 ? 2 : 3);\n}\n\n"
		     "static inline uint8_t * __attribute__((unused))\ngale__put_le64(uint8_t *p, double d)\n{\n"
		     "\tuint64_t v;\n\n\tmemcpy(&v, &d, 8);\n\tv = gale_codec_le64(v);\n\tmemcpy(p, &v, 8);\n\treturn p + 8;\n}\n\n"
		     "/* A compact string: varint length and bytes behind one check. */\n"
		     "static inline int __attribute__((unused))\ngale__cput_string(struct gale_codec_writer *w, "
		     "const struct gale_codec_bytes *b)\n{\n"
		     "\tif (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= (size_t)b->len + 5)) {\n"
		     "\t\tw->cur = gale__copy_bytes(gale__put_varint(w->cur, b->len), b);\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_compact_write_string(w, gale__bytes_ptr(b), b->len);\n}\n\n"
		     "/* A compact list/set header for fewer than 15 elements is one byte. */\n"
		     "static inline int __attribute__((unused))\ngale__clist_begin(struct gale_codec_writer *w, uint8_t et, uint8_t ct, uint32_t n)\n{\n"
		     "\tif (GALE_CODEC_LIKELY(n < 15 && w->cur < w->end)) {\n"
		     "\t\t*w->cur++ = (uint8_t)(n << 4 | ct);\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_compact_write_list_begin(w, et, n);\n}\n\n"
		     "/* A compact field header known at generation time (the previous field id is). */\n"
		     "static inline int __attribute__((unused))\ngale__cfield(struct gale_codec_writer *w, uint8_t type, "
		     "uint8_t hdr, int16_t id)\n{\n"
		     "\tif (GALE_CODEC_LIKELY(w->cur < w->end)) {\n"
		     "\t\t*w->cur++ = hdr;\n\t\tw->last_fid = id;\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_compact_write_field_begin(w, type, id);\n}\n\n"
		     "/* A compact map header: varint count and, when not empty, the key/value type byte. */\n"
		     "static inline int __attribute__((unused))\ngale__cmap_begin(struct gale_codec_writer *w, uint8_t kt, uint8_t vt, uint8_t kv, uint32_t n)\n{\n"
		     "\tif (GALE_CODEC_LIKELY(n > 0 && n < 128 && w->end - w->cur >= 2)) {\n"
		     "\t\tw->cur[0] = (uint8_t)n;\n\t\tw->cur[1] = kv;\n\t\tw->cur += 2;\n\t\treturn 0;\n\t}\n"
		     "\treturn gale_compact_write_map_begin(w, kt, vt, n);\n}\n\n");
	fprintf(g.c, "/* Doubles are equal when == says so, and NaNs equal each other (a decoded NaN is a value). */\n"
		     "static inline bool __attribute__((unused))\ngale__double_equal(double a, double b)\n{\n"
		     "\treturn a == b || (a != a && b != b);\n}\n\n");
	fprintf(g.c, "static void __attribute__((unused))\ngale__print_bytes(FILE *out, const struct gale_codec_bytes *b)\n{\n"
		     "\tuint32_t i;\n\n\tfputc('\"', out);\n\tfor (i = 0; i < b->len; i++) {\n"
		     "\t\tuint8_t ch = b->ptr[i];\n\n"
		     "\t\tif (ch == '\"' || ch == '\\\\')\n\t\t\tfprintf(out, \"\\\\%%c\", ch);\n"
		     "\t\telse if (ch < 0x20 || ch >= 0x7f)\n\t\t\tfprintf(out, \"\\\\x%%02x\", ch);\n"
		     "\t\telse\n\t\t\tfputc(ch, out);\n\t}\n\tfputc('\"', out);\n}\n\n");
	fprintf(g.c, "static void __attribute__((unused))\ngale__print_uuid(FILE *out, const struct gale_uuid *u)\n{\n"
		     "\tint i;\n\n\tfor (i = 0; i < 16; i++)\n"
		     "\t\tfprintf(out, \"%%s%%02x\", i == 4 || i == 6 || i == 8 || i == 10 ? \"-\" : \"\", u->b[i]);\n}\n\n");
	fprintf(g.c, "static void __attribute__((unused))\ngale__print_enum(FILE *out, const char *name, int32_t v)\n{\n"
		     "\tif (name != NULL)\n\t\tfputs(name, out);\n\telse\n\t\tfprintf(out, \"%%d\", (int)v);\n}\n\n");
	for (i = 0; i < g.containers.n; i++)
		gale__tc_emit_container_protos(&g, g.containers.v[i]);
	if (g.containers.n > 0)
		fputc('\n', g.c);

	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];
		const char *n = gale__tc_dname(ctx, d);

		if (d->kind != D_ENUM)
			continue;
		fprintf(g.c, "const char *\n%s_name(int32_t v)\n{\n\tswitch (v) {\n", n);
		for (j = 0; j < d->vals.n; j++) {
			struct tc_enum_val *ev = d->vals.v[j];
			size_t dup;

			for (dup = 0; dup < j; dup++)
				if (((struct tc_enum_val *)d->vals.v[dup])->value == ev->value)
					break;
			if (dup == j)
				fprintf(g.c, "\tcase %s:\n\t\treturn \"%s\";\n", gale__tc_int_lit(ctx, ev->value, T_I32),
					ev->name);
		}
		fprintf(g.c, "\tdefault:\n\t\treturn NULL;\n\t}\n}\n\n");
	}

	/* constants */
	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];
		const char *n = gale__tc_dname(ctx, d);
		const char *init;

		if (d->kind != D_CONST)
			continue;
		gale__tc_put_doc(g.h, "", d->doc);
		fprintf(g.h, "extern const %s %s; /**< const %s */\n", gale__tc_ctype(ctx, d->type), n,
			gale__tc_type_name(ctx, d->type));
		init = gale__tc_const_init(&g, d->type, d->value);
		fprintf(g.c, "const %s %s = %s;\n\n", gale__tc_ctype(ctx, d->type), n, init);
	}
	fputc('\n', g.h);

	for (i = 0; i < g.structs.n; i++) {
		struct tc_def *d = g.structs.v[i];

		gale__tc_emit_struct_init(&g, d);
		gale__tc_emit_struct_equal(&g, d);
		gale__tc_emit_struct_print(&g, d);
		gale__tc_emit_struct_read(&g, d, "binary");
		gale__tc_emit_struct_write(&g, d, "binary");
		gale__tc_emit_struct_read(&g, d, "compact");
		gale__tc_emit_struct_write(&g, d, "compact");
		gale__tc_emit_struct_proto(&g, d);
	}
	for (i = 0; i < g.containers.n; i++)
		gale__tc_emit_container_helpers(&g, g.containers.v[i]);
	fprintf(g.c, "/* Descriptors (generic path). */\n");
	for (i = 0; i < g.structs.n; i++)
		gale__tc_emit_struct_desc(&g, g.structs.v[i], &seen);
	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];

		if (d->kind == D_SERVICE)
			gale__tc_emit_service(&g, d);
	}
	fprintf(g.h, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
	if (ferror(g.h) || ferror(g.c))
		rc = -EIO;
	if (fclose(g.h) != 0)
		rc = -EIO;
	if (fclose(g.c) != 0)
		rc = -EIO;
	if (rc != 0)
		fprintf(stderr, "gale-thriftc: error writing %s / %s\n", hpath, cpath);
	return rc;
}
