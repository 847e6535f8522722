/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc parser: recursive descent over the token stream of one file, building its AST.
 *
 * The grammar is Apache's thrifty.yy (0.17 to 0.20): a header of include / cpp_include / namespace, then
 * definitions (typedef, enum, const, struct, union, exception, service), separators `,` or `;` optional
 * everywhere Apache allows them, annotations `( key [= "value"], ... )` on every element that can carry them,
 * the xsd_* and cpp_type decorations parsed and kept or ignored.
 *
 * Error recovery: a syntax error is reported and the parser longjmps back to the definition loop, which skips to
 * the next top-level keyword outside braces (or one at column 1, for a missing `}`) and carries on, so one run
 * reports several errors. Every allocation is in the context arena, so abandoning a half-built node leaks
 * nothing.
 *
 * `include` parses the included file at once, depth first. A file still being parsed that is included again is a
 * cycle; the error names the chain.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "thriftc.h"

struct tc_parser {
	struct tc_ctx *ctx;
	struct tc_file *file;
	struct tc_lexer lx;
	struct tc_token tok; /**< current token */
	jmp_buf recover;
	int depth;           /**< braces open in the current definition, for recovery */
	int32_t next_auto;   /**< next implicit field id (negative) */
};

static struct tc_loc
gale__tc_tloc(const struct tc_parser *p)
{
	struct tc_loc l = { p->file, p->tok.line, p->tok.col };

	return l;
}

static void
gale__tc_next(struct tc_parser *p)
{
	if (p->tok.kind == TK_PUNCT) {
		if (p->tok.punct == '{')
			p->depth++;
		else if (p->tok.punct == '}')
			p->depth--;
	}
	gale__tc_lex_next(&p->lx, &p->tok);
}

static const char *
gale__tc_describe(struct tc_parser *p)
{
	const struct tc_token *t = &p->tok;

	switch (t->kind) {
	case TK_EOF:
		return "end of file";
	case TK_IDENT:
		return gale__tc_sprintf(p->ctx, "'%s'", t->sval);
	case TK_INT:
	case TK_DOUBLE:
		return gale__tc_sprintf(p->ctx, "number '%.*s'", (int)(t->len > 40 ? 40 : t->len), t->text);
	case TK_STRING:
		return "string literal";
	case TK_PUNCT:
		return gale__tc_sprintf(p->ctx, "'%c'", t->punct);
	default:
		return "invalid token";
	}
}

static _Noreturn void
gale__tc_fail(struct tc_parser *p, const char *what)
{
	/* The lexer has already reported its own error at this token. */
	if (p->tok.kind != TK_ERROR)
		gale__tc_error(p->ctx, gale__tc_tloc(p), "expected %s, found %s", what, gale__tc_describe(p));
	p->file->nerrors++;
	longjmp(p->recover, 1);
}

static bool
gale__tc_is_punct(const struct tc_parser *p, int c)
{
	return p->tok.kind == TK_PUNCT && p->tok.punct == c;
}

static bool
gale__tc_is_kw(const struct tc_parser *p, const char *kw)
{
	return p->tok.kind == TK_IDENT && strcmp(p->tok.sval, kw) == 0;
}

static bool
gale__tc_accept(struct tc_parser *p, int c)
{
	if (!gale__tc_is_punct(p, c))
		return false;
	gale__tc_next(p);
	return true;
}

static void
gale__tc_expect(struct tc_parser *p, int c)
{
	if (!gale__tc_accept(p, c))
		gale__tc_fail(p, gale__tc_sprintf(p->ctx, "'%c'", c));
}

static void
gale__tc_opt_sep(struct tc_parser *p)
{
	if (!gale__tc_accept(p, ','))
		gale__tc_accept(p, ';');
}

/* An identifier that names something new: not a keyword. */
static char *
gale__tc_name(struct tc_parser *p, const char *what)
{
	char *s;

	if (p->tok.kind != TK_IDENT)
		gale__tc_fail(p, what);
	if (gale__tc_is_keyword(p->tok.sval, p->tok.slen)) {
		gale__tc_error(p->ctx, gale__tc_tloc(p), "'%s' is a keyword and cannot be used as %s",
			       p->tok.sval, what);
		p->file->nerrors++;
		longjmp(p->recover, 1);
	}
	s = p->tok.sval;
	gale__tc_next(p);
	return s;
}

static void
gale__tc_annotations(struct tc_parser *p, struct tc_vec *out)
{
	if (!gale__tc_accept(p, '('))
		return;
	while (!gale__tc_accept(p, ')')) {
		struct tc_annot *a = gale__tc_alloc(p->ctx, sizeof(*a));

		a->loc = gale__tc_tloc(p);
		if (p->tok.kind != TK_IDENT)
			gale__tc_fail(p, "annotation name or ')'");
		a->key = p->tok.sval;
		gale__tc_next(p);
		if (gale__tc_accept(p, '=')) {
			if (p->tok.kind != TK_STRING)
				gale__tc_fail(p, "string literal as annotation value");
			a->value = p->tok.sval;
			gale__tc_next(p);
		} else {
			a->value = "1";
		}
		gale__tc_vec_push(p->ctx, out, a);
		gale__tc_opt_sep(p);
	}
}

static struct tc_type *gale__tc_field_type(struct tc_parser *p);

static struct tc_type *
gale__tc_new_type(struct tc_parser *p, enum tc_tkind kind)
{
	struct tc_type *t = gale__tc_alloc(p->ctx, sizeof(*t));

	t->kind = kind;
	t->loc = gale__tc_tloc(p);
	return t;
}

static void
gale__tc_cpp_type(struct tc_parser *p, struct tc_type *t)
{
	if (!gale__tc_is_kw(p, "cpp_type"))
		return;
	gale__tc_next(p);
	if (p->tok.kind != TK_STRING)
		gale__tc_fail(p, "string literal after cpp_type");
	t->cpp_type = p->tok.sval;
	gale__tc_next(p);
}

static struct tc_type *
gale__tc_field_type(struct tc_parser *p)
{
	static const struct {
		const char *kw;
		enum tc_tkind kind;
	} base[] = {
		{ "bool", T_BOOL }, { "byte", T_I8 }, { "i8", T_I8 }, { "i16", T_I16 }, { "i32", T_I32 },
		{ "i64", T_I64 }, { "double", T_DOUBLE }, { "string", T_STRING }, { "binary", T_BINARY },
		{ "uuid", T_UUID }, { "slist", T_STRING },
	};
	struct tc_type *t;
	size_t i;

	if (p->tok.kind != TK_IDENT)
		gale__tc_fail(p, "a type");
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		if (strcmp(p->tok.sval, base[i].kw) == 0) {
			t = gale__tc_new_type(p, base[i].kind);
			gale__tc_next(p);
			gale__tc_annotations(p, &t->annots);
			return t;
		}
	}
	if (gale__tc_is_kw(p, "map")) {
		t = gale__tc_new_type(p, T_MAP);
		gale__tc_next(p);
		gale__tc_cpp_type(p, t);
		gale__tc_expect(p, '<');
		t->key = gale__tc_field_type(p);
		gale__tc_expect(p, ',');
		t->elem = gale__tc_field_type(p);
		gale__tc_expect(p, '>');
		gale__tc_annotations(p, &t->annots);
		return t;
	}
	if (gale__tc_is_kw(p, "set")) {
		t = gale__tc_new_type(p, T_SET);
		gale__tc_next(p);
		gale__tc_cpp_type(p, t);
		gale__tc_expect(p, '<');
		t->elem = gale__tc_field_type(p);
		gale__tc_expect(p, '>');
		gale__tc_annotations(p, &t->annots);
		return t;
	}
	if (gale__tc_is_kw(p, "list")) {
		t = gale__tc_new_type(p, T_LIST);
		gale__tc_next(p);
		gale__tc_expect(p, '<');
		t->elem = gale__tc_field_type(p);
		gale__tc_expect(p, '>');
		gale__tc_cpp_type(p, t);
		gale__tc_annotations(p, &t->annots);
		return t;
	}
	if (gale__tc_is_keyword(p->tok.sval, p->tok.slen))
		gale__tc_fail(p, "a type");
	t = gale__tc_new_type(p, T_NAMED);
	t->name = p->tok.sval;
	gale__tc_next(p);
	return t;
}

static struct tc_cval *
gale__tc_const_value(struct tc_parser *p)
{
	struct tc_cval *v = gale__tc_alloc(p->ctx, sizeof(*v));

	v->loc = gale__tc_tloc(p);
	switch (p->tok.kind) {
	case TK_INT:
		v->kind = CV_INT;
		v->i = p->tok.ival;
		gale__tc_next(p);
		return v;
	case TK_DOUBLE:
		v->kind = CV_DOUBLE;
		v->d = p->tok.dval;
		gale__tc_next(p);
		return v;
	case TK_STRING:
		v->kind = CV_STRING;
		v->s = p->tok.sval;
		v->slen = p->tok.slen;
		gale__tc_next(p);
		return v;
	case TK_IDENT:
		if (gale__tc_is_kw(p, "true") || gale__tc_is_kw(p, "false")) {
			v->kind = CV_INT;
			v->is_bool = true;
			v->i = gale__tc_is_kw(p, "true");
		} else {
			v->kind = CV_IDENT;
			v->s = p->tok.sval;
			v->slen = p->tok.slen;
		}
		gale__tc_next(p);
		return v;
	case TK_PUNCT:
		if (gale__tc_accept(p, '[')) {
			v->kind = CV_LIST;
			while (!gale__tc_accept(p, ']')) {
				gale__tc_vec_push(p->ctx, &v->items, gale__tc_const_value(p));
				gale__tc_opt_sep(p);
			}
			return v;
		}
		if (gale__tc_accept(p, '{')) {
			v->kind = CV_MAP;
			while (!gale__tc_accept(p, '}')) {
				gale__tc_vec_push(p->ctx, &v->items, gale__tc_const_value(p));
				gale__tc_expect(p, ':');
				gale__tc_vec_push(p->ctx, &v->items, gale__tc_const_value(p));
				gale__tc_opt_sep(p);
			}
			return v;
		}
		break;
	default:
		break;
	}
	gale__tc_fail(p, "a constant value");
}

static struct tc_field *
gale__tc_field(struct tc_parser *p, const char *owner)
{
	struct tc_field *f = gale__tc_alloc(p->ctx, sizeof(*f));
	bool has_id = false, warned_id = false;

	f->doc = p->tok.doc;
	f->loc = gale__tc_tloc(p);
	if (p->tok.kind == TK_INT) {
		struct tc_loc idloc = gale__tc_tloc(p);
		int64_t id = p->tok.ival;

		gale__tc_next(p);
		gale__tc_expect(p, ':');
		if (id > INT16_MAX) {
			gale__tc_error(p->ctx, idloc, "field id %lld is out of range (1 to 32767)",
				       (long long)id);
			p->file->nerrors++;
			f->id = INT16_MAX;
		} else if (id <= 0) {
			gale__tc_warn(p->ctx, idloc, "non-positive field id %lld is not allowed; an id is assigned",
				      (long long)id);
			warned_id = true;
		} else {
			f->id = (int32_t)id;
			has_id = true;
		}
		if (id > INT16_MAX)
			has_id = true;
	}
	if (gale__tc_is_kw(p, "required")) {
		f->req = REQ_REQUIRED;
		gale__tc_next(p);
	} else if (gale__tc_is_kw(p, "optional")) {
		f->req = REQ_OPTIONAL;
		gale__tc_next(p);
	}
	if (gale__tc_is_kw(p, "void"))
		gale__tc_fail(p, "a field type (void is only for results)");
	f->type = gale__tc_field_type(p);
	if (gale__tc_accept(p, '&'))
		f->reference = true;
	f->name = gale__tc_name(p, "a field name");
	if (!has_id) {
		f->id = p->next_auto--;
		f->id_auto = true;
		if (!warned_id)
			gale__tc_warn(p->ctx, f->loc, "no field id for '%s' in '%s'; assigned %d (not wire-stable)",
			      f->name, owner, f->id);
	}
	if (gale__tc_accept(p, '='))
		f->dflt = gale__tc_const_value(p);
	if (gale__tc_is_kw(p, "xsd_optional"))
		gale__tc_next(p);
	if (gale__tc_is_kw(p, "xsd_nillable"))
		gale__tc_next(p);
	if (gale__tc_is_kw(p, "xsd_attrs")) {
		gale__tc_next(p);
		gale__tc_expect(p, '{');
		while (!gale__tc_accept(p, '}'))
			(void)gale__tc_field(p, owner);
	}
	gale__tc_annotations(p, &f->annots);
	gale__tc_opt_sep(p);
	return f;
}

static struct tc_def *
gale__tc_new_def(struct tc_parser *p, enum tc_dkind kind)
{
	struct tc_def *d = gale__tc_alloc(p->ctx, sizeof(*d));

	d->kind = kind;
	d->doc = p->tok.doc;
	d->file = p->file;
	return d;
}

static void
gale__tc_def_name(struct tc_parser *p, struct tc_def *d, const char *what)
{
	d->loc = gale__tc_tloc(p);
	d->name = gale__tc_name(p, what);
}

static void
gale__tc_struct_like(struct tc_parser *p, struct tc_def *d)
{
	gale__tc_next(p);
	gale__tc_def_name(p, d, "a type name");
	if (gale__tc_is_kw(p, "xsd_all"))
		gale__tc_next(p);
	gale__tc_expect(p, '{');
	p->next_auto = -1;
	while (!gale__tc_accept(p, '}')) {
		if (p->tok.kind == TK_EOF)
			gale__tc_fail(p, "'}'");
		gale__tc_vec_push(p->ctx, &d->fields, gale__tc_field(p, d->name));
	}
	gale__tc_annotations(p, &d->annots);
}

static void
gale__tc_enum(struct tc_parser *p, struct tc_def *d)
{
	int64_t next = 0;

	gale__tc_next(p);
	gale__tc_def_name(p, d, "an enum name");
	gale__tc_expect(p, '{');
	while (!gale__tc_accept(p, '}')) {
		struct tc_enum_val *ev = gale__tc_alloc(p->ctx, sizeof(*ev));

		ev->doc = p->tok.doc;
		ev->loc = gale__tc_tloc(p);
		ev->name = gale__tc_name(p, "an enum value name or '}'");
		struct tc_loc vl = ev->loc;

		if (gale__tc_accept(p, '=')) {
			vl = gale__tc_tloc(p);
			if (p->tok.kind != TK_INT)
				gale__tc_fail(p, "an integer enum value");
			ev->value = p->tok.ival;
			ev->explicit_value = true;
			gale__tc_next(p);
		} else {
			ev->value = next;
		}
		if (ev->value < INT32_MIN || ev->value > INT32_MAX) {
			gale__tc_error(p->ctx, vl, "enum value %lld of '%s' does not fit in i32", (long long)ev->value,
				       ev->name);
			p->file->nerrors++;
			ev->value = 0;
		}
		/* In range of i32 here, so the next implicit value cannot overflow i64. */
		next = ev->value + 1;
		gale__tc_annotations(p, &ev->annots);
		gale__tc_opt_sep(p);
		gale__tc_vec_push(p->ctx, &d->vals, ev);
	}
	gale__tc_annotations(p, &d->annots);
}

static struct tc_func *
gale__tc_function(struct tc_parser *p)
{
	struct tc_func *fn = gale__tc_alloc(p->ctx, sizeof(*fn));

	fn->doc = p->tok.doc;
	fn->loc = gale__tc_tloc(p);
	if (gale__tc_is_kw(p, "oneway")) {
		fn->oneway = true;
		gale__tc_next(p);
	}
	if (gale__tc_is_kw(p, "void")) {
		fn->ret = gale__tc_new_type(p, T_VOID);
		gale__tc_next(p);
	} else {
		fn->ret = gale__tc_field_type(p);
	}
	fn->name = gale__tc_name(p, "a function name");
	gale__tc_expect(p, '(');
	p->next_auto = -1;
	while (!gale__tc_accept(p, ')'))
		gale__tc_vec_push(p->ctx, &fn->args, gale__tc_field(p, fn->name));
	if (gale__tc_is_kw(p, "throws")) {
		gale__tc_next(p);
		gale__tc_expect(p, '(');
		while (!gale__tc_accept(p, ')'))
			gale__tc_vec_push(p->ctx, &fn->throws, gale__tc_field(p, fn->name));
	}
	gale__tc_annotations(p, &fn->annots);
	gale__tc_opt_sep(p);
	return fn;
}

static void
gale__tc_service(struct tc_parser *p, struct tc_def *d)
{
	gale__tc_next(p);
	gale__tc_def_name(p, d, "a service name");
	if (gale__tc_is_kw(p, "extends")) {
		gale__tc_next(p);
		if (p->tok.kind != TK_IDENT || gale__tc_is_keyword(p->tok.sval, p->tok.slen))
			gale__tc_fail(p, "a service name after extends");
		d->extends = gale__tc_new_type(p, T_NAMED);
		d->extends->name = p->tok.sval;
		gale__tc_next(p);
	}
	gale__tc_expect(p, '{');
	while (!gale__tc_accept(p, '}')) {
		if (p->tok.kind == TK_EOF)
			gale__tc_fail(p, "'}'");
		gale__tc_vec_push(p->ctx, &d->funcs, gale__tc_function(p));
	}
	gale__tc_annotations(p, &d->annots);
}

static void
gale__tc_header_order(struct tc_parser *p, const char *kw)
{
	if (p->file->seen_def) {
		gale__tc_error(p->ctx, gale__tc_tloc(p), "'%s' must come before the first definition", kw);
		p->file->nerrors++;
	}
}

static bool
gale__tc_file_is_parsing(const struct tc_ctx *ctx, const char *real, struct tc_file **out)
{
	size_t i;

	for (i = 0; i < ctx->files.n; i++) {
		struct tc_file *f = ctx->files.v[i];

		if (strcmp(f->realpath, real) == 0) {
			*out = f;
			return true;
		}
	}
	*out = NULL;
	return false;
}

static char *
gale__tc_dirname(struct tc_ctx *ctx, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return gale__tc_strdup(ctx, ".");
	if (slash == path)
		return gale__tc_strdup(ctx, "/");
	return gale__tc_strndup(ctx, path, (size_t)(slash - path));
}

static char *
gale__tc_basename_noext(struct tc_ctx *ctx, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	const char *dot = strrchr(b, '.');

	return gale__tc_strndup(ctx, b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
}

static int
gale__tc_load_fs(const char *path, char **data, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (fp == NULL)
		return -errno;
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return -EIO;
	}
	fclose(fp);
	*data = buf;
	*len = n;
	return 0;
}

static bool
gale__tc_exists(struct tc_ctx *ctx, const char *path)
{
	FILE *fp;

	if (ctx->load != NULL) {
		char *data = NULL;
		size_t len;

		if (ctx->load(ctx->load_arg, path, &data, &len) != 0)
			return false;
		free(data);
		return true;
	}
	fp = fopen(path, "rb");
	if (fp == NULL)
		return false;
	fclose(fp);
	return true;
}

static void
gale__tc_parse_defs(struct tc_parser *p);

struct tc_file *
gale__tc_parse_file(struct tc_ctx *ctx, const char *path, struct tc_loc from)
{
	struct tc_parser *p;
	struct tc_file *f, *seen;
	char *real, *data = NULL;
	size_t len = 0;
	int rc;

	if (ctx->load != NULL) {
		real = gale__tc_strdup(ctx, path);
	} else {
		char *r = realpath(path, NULL);

		if (r == NULL) {
			gale__tc_error(ctx, from, "cannot open '%s': %s", path, strerror(errno));
			return NULL;
		}
		real = gale__tc_strdup(ctx, r);
		free(r);
	}
	if (gale__tc_file_is_parsing(ctx, real, &seen)) {
		if (seen->state == FS_PARSING) {
			const struct tc_file *inc = from.file;
			char *chain = gale__tc_strdup(ctx, seen->path);
			struct tc_vec rev = { 0 };
			size_t i;

			for (; inc != NULL && inc != seen; inc = inc->includer)
				gale__tc_vec_push(ctx, &rev, (void *)(uintptr_t)inc);
			for (i = rev.n; i-- > 0;)
				chain = gale__tc_sprintf(ctx, "%s -> %s", chain,
							 ((const struct tc_file *)rev.v[i])->path);
			chain = gale__tc_sprintf(ctx, "%s -> %s", chain, seen->path);
			gale__tc_error(ctx, from, "circular include: %s", chain);
			return NULL;
		}
		return seen;
	}
	if (ctx->include_depth >= ctx->max_include_depth) {
		gale__tc_error(ctx, from, "includes nested deeper than %d", ctx->max_include_depth);
		return NULL;
	}
	rc = ctx->load != NULL ? ctx->load(ctx->load_arg, path, &data, &len) :
				 gale__tc_load_fs(path, &data, &len);
	if (rc < 0) {
		gale__tc_error(ctx, from, "cannot read '%s': %s", path, strerror(-rc));
		return NULL;
	}
	f = gale__tc_alloc(ctx, sizeof(*f));
	f->path = gale__tc_strdup(ctx, path);
	f->realpath = real;
	f->dir = gale__tc_dirname(ctx, path);
	f->name = gale__tc_basename_noext(ctx, path);
	f->src = gale__tc_strndup(ctx, data, len);
	f->srclen = len;
	free(data);
	f->state = FS_PARSING;
	f->includer = (struct tc_file *)(uintptr_t)from.file;
	gale__tc_vec_push(ctx, &ctx->files, f);

	p = gale__tc_alloc(ctx, sizeof(*p));
	p->ctx = ctx;
	p->file = f;
	gale__tc_lex_init(&p->lx, ctx, f);
	ctx->include_depth++;
	gale__tc_parse_defs(p);
	ctx->include_depth--;
	f->state = FS_DONE;
	f->includer = NULL;
	return f;
}

static void
gale__tc_include(struct tc_parser *p)
{
	struct tc_include *inc = gale__tc_alloc(p->ctx, sizeof(*inc));
	struct tc_ctx *ctx = p->ctx;
	char *found = NULL;
	size_t i;

	inc->loc = gale__tc_tloc(p);
	gale__tc_header_order(p, "include");
	gale__tc_next(p);
	if (p->tok.kind != TK_STRING)
		gale__tc_fail(p, "a file name string after include");
	inc->path = p->tok.sval;
	inc->loc = gale__tc_tloc(p);
	gale__tc_next(p);
	inc->alias = gale__tc_basename_noext(ctx, inc->path);
	if (inc->path[0] == '/') {
		if (gale__tc_exists(ctx, inc->path))
			found = inc->path;
	} else {
		char *cand = strcmp(p->file->dir, ".") == 0 ?
				     inc->path :
				     gale__tc_sprintf(ctx, "%s/%s", p->file->dir, inc->path);

		if (gale__tc_exists(ctx, cand))
			found = cand;
		for (i = 0; found == NULL && i < ctx->incdirs.n; i++) {
			cand = gale__tc_sprintf(ctx, "%s/%s", (char *)ctx->incdirs.v[i], inc->path);
			if (gale__tc_exists(ctx, cand))
				found = cand;
		}
	}
	if (found == NULL) {
		gale__tc_error(ctx, inc->loc, "cannot find included file '%s'", inc->path);
		p->file->nerrors++;
	} else {
		inc->file = gale__tc_parse_file(ctx, found, inc->loc);
		if (inc->file == NULL)
			p->file->nerrors++;
	}
	for (i = 0; i < p->file->includes.n; i++) {
		struct tc_include *o = p->file->includes.v[i];

		if (strcmp(o->alias, inc->alias) == 0) {
			gale__tc_error(ctx, inc->loc, "'%s' is already included (as '%s')", inc->path,
				       o->path);
			p->file->nerrors++;
			return;
		}
	}
	gale__tc_vec_push(ctx, &p->file->includes, inc);
}

static const char *const gale__tc_toplevel[] = {
	"include", "cpp_include", "namespace", "typedef", "enum", "senum", "const",
	"struct", "union", "exception", "service",
};

static bool
gale__tc_at_toplevel(const struct tc_parser *p)
{
	size_t i;

	if (p->tok.kind != TK_IDENT)
		return false;
	for (i = 0; i < sizeof(gale__tc_toplevel) / sizeof(gale__tc_toplevel[0]); i++)
		if (strcmp(p->tok.sval, gale__tc_toplevel[i]) == 0)
			return true;
	return false;
}

/* After an error: skip to a top-level keyword outside the braces of the broken definition. */
static void
gale__tc_sync(struct tc_parser *p)
{
	if (p->tok.kind == TK_EOF)
		return;
	gale__tc_next(p);
	while (p->tok.kind != TK_EOF) {
		if (gale__tc_at_toplevel(p) && (p->depth <= 0 || p->tok.col == 1))
			break;
		gale__tc_next(p);
	}
	p->depth = 0;
}

static void
gale__tc_definition(struct tc_parser *p)
{
	struct tc_file *f = p->file;
	struct tc_def *d;

	if (gale__tc_is_kw(p, "include")) {
		gale__tc_include(p);
		gale__tc_opt_sep(p);
		return;
	}
	if (gale__tc_is_kw(p, "cpp_include")) {
		gale__tc_header_order(p, "cpp_include");
		gale__tc_next(p);
		if (p->tok.kind != TK_STRING)
			gale__tc_fail(p, "a string after cpp_include");
		gale__tc_vec_push(p->ctx, &f->cpp_includes, p->tok.sval);
		gale__tc_next(p);
		gale__tc_opt_sep(p);
		return;
	}
	if (gale__tc_is_kw(p, "namespace")) {
		struct tc_namespace *ns = gale__tc_alloc(p->ctx, sizeof(*ns));

		gale__tc_header_order(p, "namespace");
		ns->loc = gale__tc_tloc(p);
		gale__tc_next(p);
		if (gale__tc_accept(p, '*'))
			ns->scope = "*";
		else if (p->tok.kind == TK_IDENT)
			ns->scope = p->tok.sval, gale__tc_next(p);
		else
			gale__tc_fail(p, "a language name or '*' after namespace");
		if (p->tok.kind == TK_IDENT || p->tok.kind == TK_STRING)
			ns->name = p->tok.sval, gale__tc_next(p);
		else
			gale__tc_fail(p, "a namespace name");
		gale__tc_annotations(p, &ns->annots);
		gale__tc_opt_sep(p);
		gale__tc_vec_push(p->ctx, &f->namespaces, ns);
		return;
	}
	if (gale__tc_is_kw(p, "typedef")) {
		d = gale__tc_new_def(p, D_TYPEDEF);
		gale__tc_next(p);
		d->type = gale__tc_field_type(p);
		gale__tc_def_name(p, d, "a typedef name");
		gale__tc_annotations(p, &d->annots);
		gale__tc_opt_sep(p);
	} else if (gale__tc_is_kw(p, "const")) {
		d = gale__tc_new_def(p, D_CONST);
		gale__tc_next(p);
		d->type = gale__tc_field_type(p);
		gale__tc_def_name(p, d, "a constant name");
		gale__tc_expect(p, '=');
		d->value = gale__tc_const_value(p);
		gale__tc_opt_sep(p);
	} else if (gale__tc_is_kw(p, "enum")) {
		d = gale__tc_new_def(p, D_ENUM);
		gale__tc_enum(p, d);
	} else if (gale__tc_is_kw(p, "struct")) {
		d = gale__tc_new_def(p, D_STRUCT);
		gale__tc_struct_like(p, d);
	} else if (gale__tc_is_kw(p, "union")) {
		d = gale__tc_new_def(p, D_UNION);
		gale__tc_struct_like(p, d);
	} else if (gale__tc_is_kw(p, "exception")) {
		d = gale__tc_new_def(p, D_EXCEPTION);
		gale__tc_struct_like(p, d);
	} else if (gale__tc_is_kw(p, "service")) {
		d = gale__tc_new_def(p, D_SERVICE);
		gale__tc_service(p, d);
	} else if (gale__tc_is_kw(p, "senum")) {
		gale__tc_error(p->ctx, gale__tc_tloc(p), "'senum' is no longer supported; use enum");
		f->nerrors++;
		longjmp(p->recover, 1);
	} else {
		gale__tc_fail(p, "a definition (struct, enum, service, ...)");
	}
	f->seen_def = true;
	gale__tc_vec_push(p->ctx, &f->defs, d);
}

static void
gale__tc_parse_defs(struct tc_parser *p)
{
	gale__tc_next(p);
	/* A doc comment followed by a header line (or nothing) documents the file. */
	if (p->tok.doc != NULL && (gale__tc_is_kw(p, "include") || gale__tc_is_kw(p, "namespace") ||
				   gale__tc_is_kw(p, "cpp_include") || p->tok.kind == TK_EOF))
		p->file->doc = p->tok.doc;
	if (setjmp(p->recover) != 0) {
		if (p->ctx->nerrors >= p->ctx->max_errors)
			return;
		gale__tc_sync(p);
	}
	while (p->tok.kind != TK_EOF) {
		p->depth = 0;
		gale__tc_definition(p);
	}
}
