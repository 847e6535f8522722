/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc semantic pass: resolves every name and checks the program the parser built.
 *
 * Names: a definition is visible in its own file by its name and in a file that includes it as `alias.Name`
 * (alias = the included file's base name), as in Apache. Constants may refer to other constants and to enum
 * values (`Enum.VALUE`, `alias.Enum.VALUE`, `alias.CONST`).
 *
 * The pass runs in two phases. Phase one: duplicate definitions, type resolution, typedef and service-extends
 * cycles. If it found errors the pass stops, because phase two (field ids, requiredness, const and default
 * values, services) walks through typedefs and bases and must not meet a cycle or a dangling name.
 *
 * Lookups are linear scans: a 2,000-line IDL with ~500 definitions checks in a few milliseconds (tests/idl's
 * generated big IDL), so a hash table would be complexity without a measured need.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "thriftc.h"

static struct tc_def *
gale__tc_find_def(const struct tc_file *f, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];

		if (strlen(d->name) == n && memcmp(d->name, name, n) == 0)
			return d;
	}
	return NULL;
}

static struct tc_file *
gale__tc_find_include(const struct tc_file *f, const char *alias, size_t n)
{
	size_t i;

	for (i = 0; i < f->includes.n; i++) {
		struct tc_include *inc = f->includes.v[i];

		if (inc->file != NULL && strlen(inc->alias) == n && memcmp(inc->alias, alias, n) == 0)
			return inc->file;
	}
	return NULL;
}

/* Name or alias.Name. */
static struct tc_def *
gale__tc_lookup(const struct tc_file *f, const char *name)
{
	const char *dot = strchr(name, '.');
	struct tc_def *d = gale__tc_find_def(f, name, strlen(name));
	const struct tc_file *inc;

	if (d != NULL || dot == NULL)
		return d;
	inc = gale__tc_find_include(f, name, (size_t)(dot - name));
	if (inc == NULL || strchr(dot + 1, '.') != NULL)
		return NULL;
	return gale__tc_find_def(inc, dot + 1, strlen(dot + 1));
}

struct tc_type *
gale__tc_true_type(struct tc_type *t)
{
	int guard = 0;

	while (t != NULL && t->kind == T_NAMED && t->def != NULL && t->def->kind == D_TYPEDEF && guard++ < 10000)
		t = t->def->type;
	return t;
}

static const char *const gale__tc_base_names[] = {
	[T_VOID] = "void", [T_BOOL] = "bool", [T_I8] = "i8", [T_I16] = "i16", [T_I32] = "i32",
	[T_I64] = "i64", [T_DOUBLE] = "double", [T_STRING] = "string", [T_BINARY] = "binary",
	[T_UUID] = "uuid",
};

const char *
gale__tc_type_name(struct tc_ctx *ctx, const struct tc_type *t)
{
	switch (t->kind) {
	case T_LIST:
		return gale__tc_sprintf(ctx, "list<%s>", gale__tc_type_name(ctx, t->elem));
	case T_SET:
		return gale__tc_sprintf(ctx, "set<%s>", gale__tc_type_name(ctx, t->elem));
	case T_MAP:
		return gale__tc_sprintf(ctx, "map<%s,%s>", gale__tc_type_name(ctx, t->key),
					gale__tc_type_name(ctx, t->elem));
	case T_NAMED:
		return t->name;
	default:
		return gale__tc_base_names[t->kind];
	}
}

static const char *
gale__tc_kind_name(enum tc_dkind k)
{
	switch (k) {
	case D_TYPEDEF: return "typedef";
	case D_ENUM: return "enum";
	case D_CONST: return "constant";
	case D_STRUCT: return "struct";
	case D_UNION: return "union";
	case D_EXCEPTION: return "exception";
	case D_SERVICE: return "service";
	}
	return "definition";
}

static void
gale__tc_resolve_type(struct tc_ctx *ctx, const struct tc_file *f, struct tc_type *t)
{
	if (t == NULL)
		return;
	if (t->kind == T_LIST || t->kind == T_SET || t->kind == T_MAP) {
		gale__tc_resolve_type(ctx, f, t->key);
		gale__tc_resolve_type(ctx, f, t->elem);
		if (t->kind == T_MAP || t->kind == T_SET) {
			struct tc_type *k = gale__tc_true_type(t->kind == T_MAP ? t->key : t->elem);

			(void)k; /* Apache accepts any key type; so does gale (containers of structs are lists). */
		}
		return;
	}
	if (t->kind != T_NAMED || t->def != NULL)
		return;
	t->def = gale__tc_lookup(f, t->name);
	if (t->def == NULL) {
		gale__tc_error(ctx, t->loc, "undefined type '%s'", t->name);
	} else if (t->def->kind == D_CONST || t->def->kind == D_SERVICE) {
		gale__tc_error(ctx, t->loc, "'%s' is a %s, not a type", t->name, gale__tc_kind_name(t->def->kind));
		t->def = NULL;
	}
}

static void
gale__tc_resolve_fields(struct tc_ctx *ctx, const struct tc_file *f, struct tc_vec *fields)
{
	size_t i;

	for (i = 0; i < fields->n; i++)
		gale__tc_resolve_type(ctx, f, ((struct tc_field *)fields->v[i])->type);
}

static void
gale__tc_phase1_file(struct tc_ctx *ctx, struct tc_file *f)
{
	size_t i, j;

	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];

		for (j = 0; j < i; j++) {
			struct tc_def *o = f->defs.v[j];

			if (strcmp(o->name, d->name) == 0) {
				gale__tc_error(ctx, d->loc, "'%s' is already defined at line %u", d->name,
					       o->loc.line);
				break;
			}
		}
	}
	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];

		switch (d->kind) {
		case D_TYPEDEF:
		case D_CONST:
			gale__tc_resolve_type(ctx, f, d->type);
			break;
		case D_STRUCT:
		case D_UNION:
		case D_EXCEPTION:
			gale__tc_resolve_fields(ctx, f, &d->fields);
			break;
		case D_SERVICE:
			if (d->extends != NULL) {
				d->base = gale__tc_lookup(f, d->extends->name);
				if (d->base == NULL)
					gale__tc_error(ctx, d->extends->loc, "undefined service '%s'",
						       d->extends->name);
				else if (d->base->kind != D_SERVICE) {
					gale__tc_error(ctx, d->extends->loc, "'%s' is a %s, not a service",
						       d->extends->name, gale__tc_kind_name(d->base->kind));
					d->base = NULL;
				}
			}
			for (j = 0; j < d->funcs.n; j++) {
				struct tc_func *fn = d->funcs.v[j];

				gale__tc_resolve_type(ctx, f, fn->ret);
				gale__tc_resolve_fields(ctx, f, &fn->args);
				gale__tc_resolve_fields(ctx, f, &fn->throws);
			}
			break;
		case D_ENUM:
			break;
		}
	}
}

static int gale__tc_stamp;

/* "A -> B -> A" for a typedef chain or a service base chain known to come back to d. */
static const char *
gale__tc_chain(struct tc_ctx *ctx, struct tc_def *d, bool typedefs)
{
	const char *s = d->name;
	struct tc_def *cur = d;
	int guard = 0;

	do {
		cur = typedefs ? cur->type->def : cur->base;
		s = gale__tc_sprintf(ctx, "%s -> %s", s, cur->name);
	} while (cur != d && ++guard < 64);
	return s;
}

static void
gale__tc_cycles_file(struct tc_ctx *ctx, struct tc_file *f)
{
	size_t i;

	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i], *cur;
		int stamp = ++gale__tc_stamp;

		if (d->kind == D_TYPEDEF) {
			for (cur = d; cur != NULL && cur->kind == D_TYPEDEF;) {
				struct tc_def *next;

				cur->mark = stamp;
				next = cur->type->kind == T_NAMED ? cur->type->def : NULL;
				if (next == d) {
					if (cur == d)
						gale__tc_error(ctx, d->loc, "typedef '%s' refers to itself", d->name);
					else
						gale__tc_error(ctx, d->loc, "circular typedef: %s",
							       gale__tc_chain(ctx, d, true));
					break;
				}
				if (next != NULL && next->mark == stamp)
					break;
				cur = next;
			}
		} else if (d->kind == D_SERVICE) {
			for (cur = d; cur != NULL; cur = cur->base) {
				cur->mark = stamp;
				if (cur->base == d) {
					if (cur == d)
						gale__tc_error(ctx, d->loc, "service '%s' extends itself", d->name);
					else
						gale__tc_error(ctx, d->loc, "circular extends: %s",
							       gale__tc_chain(ctx, d, false));
					break;
				}
				if (cur->base != NULL && cur->base->mark == stamp)
					break;
			}
		}
	}
}

/* Constants and default values. */

static struct tc_enum_val *
gale__tc_enum_find(const struct tc_def *e, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < e->vals.n; i++) {
		struct tc_enum_val *ev = e->vals.v[i];

		if (strlen(ev->name) == n && memcmp(ev->name, name, n) == 0)
			return ev;
	}
	return NULL;
}

static struct tc_enum_val *
gale__tc_enum_by_value(const struct tc_def *e, int64_t v)
{
	size_t i;

	for (i = 0; i < e->vals.n; i++) {
		struct tc_enum_val *ev = e->vals.v[i];

		if (ev->value == v)
			return ev;
	}
	return NULL;
}

/* Resolves a CV_IDENT: a constant, or an enum value. Returns false if nothing matches. */
static bool
gale__tc_resolve_ident(const struct tc_file *f, struct tc_cval *v)
{
	const char *s = v->s;
	const char *d1 = strchr(s, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	const struct tc_file *inc;
	struct tc_def *d;

	if (d1 == NULL) {
		d = gale__tc_find_def(f, s, strlen(s));
		if (d != NULL && d->kind == D_CONST) {
			v->ref = d;
			return true;
		}
		return false;
	}
	if (d2 == NULL) {
		d = gale__tc_find_def(f, s, (size_t)(d1 - s));
		if (d != NULL && d->kind == D_ENUM) {
			v->ref_ev = gale__tc_enum_find(d, d1 + 1, strlen(d1 + 1));
			v->ref_enum = d;
			return v->ref_ev != NULL;
		}
		inc = gale__tc_find_include(f, s, (size_t)(d1 - s));
		if (inc == NULL)
			return false;
		d = gale__tc_find_def(inc, d1 + 1, strlen(d1 + 1));
		if (d != NULL && d->kind == D_CONST) {
			v->ref = d;
			return true;
		}
		return false;
	}
	if (strchr(d2 + 1, '.') != NULL)
		return false;
	inc = gale__tc_find_include(f, s, (size_t)(d1 - s));
	if (inc == NULL)
		return false;
	d = gale__tc_find_def(inc, d1 + 1, (size_t)(d2 - d1 - 1));
	if (d == NULL || d->kind != D_ENUM)
		return false;
	v->ref_ev = gale__tc_enum_find(d, d2 + 1, strlen(d2 + 1));
	v->ref_enum = d;
	return v->ref_ev != NULL;
}

static bool
gale__tc_same_type(struct tc_type *a, struct tc_type *b)
{
	a = gale__tc_true_type(a);
	b = gale__tc_true_type(b);
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case T_LIST:
	case T_SET:
		return gale__tc_same_type(a->elem, b->elem);
	case T_MAP:
		return gale__tc_same_type(a->key, b->key) && gale__tc_same_type(a->elem, b->elem);
	case T_NAMED:
		return a->def == b->def;
	default:
		return true;
	}
}

static bool
gale__tc_is_uuid(const char *s, size_t n)
{
	size_t i, k = 0;

	if (n == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		n -= 2;
	}
	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
			continue;
		}
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
		k++;
	}
	return k == 32;
}

static const char *
gale__tc_cval_desc(const struct tc_cval *v)
{
	switch (v->kind) {
	case CV_INT: return v->is_bool ? "boolean" : "integer";
	case CV_DOUBLE: return "double";
	case CV_STRING: return "string";
	case CV_IDENT: return "identifier";
	case CV_LIST: return "list";
	case CV_MAP: return "map";
	}
	return "value";
}

static void
gale__tc_check_value(struct tc_ctx *ctx, const struct tc_file *f, struct tc_type *type, struct tc_cval *v);

static void
gale__tc_bad_value(struct tc_ctx *ctx, struct tc_type *type, const struct tc_cval *v)
{
	gale__tc_error(ctx, v->loc, "%s value is not valid for type %s", gale__tc_cval_desc(v),
		       gale__tc_type_name(ctx, type));
}

static void
gale__tc_check_struct_value(struct tc_ctx *ctx, const struct tc_file *f, struct tc_type *type,
			    struct tc_def *sd, struct tc_cval *v)
{
	size_t i, j;

	if (v->kind != CV_MAP) {
		gale__tc_bad_value(ctx, type, v);
		return;
	}
	if (sd->kind == D_UNION && v->items.n > 2)
		gale__tc_error(ctx, v->loc, "a value of union %s sets more than one field", sd->name);
	for (i = 0; i + 1 < v->items.n; i += 2) {
		struct tc_cval *k = v->items.v[i];
		struct tc_field *fld = NULL;

		if (k->kind != CV_STRING) {
			gale__tc_error(ctx, k->loc, "field names in a %s value must be strings", sd->name);
			continue;
		}
		for (j = 0; j < sd->fields.n; j++) {
			struct tc_field *c = sd->fields.v[j];

			if (strcmp(c->name, k->s) == 0)
				fld = c;
		}
		if (fld == NULL) {
			gale__tc_error(ctx, k->loc, "%s has no field '%s'", sd->name, k->s);
			continue;
		}
		gale__tc_check_value(ctx, f, fld->type, v->items.v[i + 1]);
	}
}

static void
gale__tc_check_value(struct tc_ctx *ctx, const struct tc_file *f, struct tc_type *type, struct tc_cval *v)
{
	struct tc_type *t = gale__tc_true_type(type);
	size_t i;

	if (t == NULL || (t->kind == T_NAMED && t->def == NULL))
		return;
	if (v->kind == CV_IDENT) {
		if (!gale__tc_resolve_ident(f, v)) {
			gale__tc_error(ctx, v->loc, "undefined constant '%s'", v->s);
			return;
		}
		if (v->ref != NULL) {
			if (!gale__tc_same_type(v->ref->type, t)) {
				struct tc_type *rt = gale__tc_true_type(v->ref->type);
				bool num = (t->kind >= T_I8 && t->kind <= T_I64 && rt->kind >= T_I8 &&
					    rt->kind <= T_I64) || (t->kind == T_DOUBLE && rt->kind >= T_I8 &&
								   rt->kind <= T_I64);

				if (!num)
					gale__tc_error(ctx, v->loc, "constant '%s' has type %s, not %s", v->s,
						       gale__tc_type_name(ctx, v->ref->type),
						       gale__tc_type_name(ctx, type));
			}
			return;
		}
		if (t->kind == T_NAMED && t->def->kind == D_ENUM) {
			if (v->ref_enum != t->def)
				gale__tc_error(ctx, v->loc, "'%s' is not a value of enum %s", v->s, t->def->name);
			return;
		}
		if (t->kind < T_I8 || t->kind > T_I64)
			gale__tc_error(ctx, v->loc, "enum value '%s' is not valid for type %s", v->s,
				       gale__tc_type_name(ctx, type));
		return;
	}
	switch (t->kind) {
	case T_BOOL:
		if (v->kind != CV_INT || (v->i != 0 && v->i != 1))
			gale__tc_bad_value(ctx, type, v);
		break;
	case T_I8:
	case T_I16:
	case T_I32:
	case T_I64: {
		static const int64_t lim[] = { [T_I8] = INT8_MAX, [T_I16] = INT16_MAX, [T_I32] = INT32_MAX,
					       [T_I64] = INT64_MAX };

		if (v->kind != CV_INT || v->is_bool)
			gale__tc_bad_value(ctx, type, v);
		else if (v->i > lim[t->kind] || v->i < -lim[t->kind] - 1)
			gale__tc_error(ctx, v->loc, "value %lld is out of range for type %s", (long long)v->i,
				       gale__tc_type_name(ctx, type));
		break;
	}
	case T_DOUBLE:
		if ((v->kind != CV_INT && v->kind != CV_DOUBLE) || v->is_bool)
			gale__tc_bad_value(ctx, type, v);
		break;
	case T_STRING:
	case T_BINARY:
		if (v->kind != CV_STRING)
			gale__tc_bad_value(ctx, type, v);
		break;
	case T_UUID:
		if (v->kind != CV_STRING)
			gale__tc_bad_value(ctx, type, v);
		else if (!gale__tc_is_uuid(v->s, v->slen))
			gale__tc_error(ctx, v->loc, "'%s' is not a uuid (8-4-4-4-12 hex digits)", v->s);
		break;
	case T_LIST:
	case T_SET:
		if (v->kind != CV_LIST) {
			gale__tc_bad_value(ctx, type, v);
			break;
		}
		for (i = 0; i < v->items.n; i++)
			gale__tc_check_value(ctx, f, t->elem, v->items.v[i]);
		break;
	case T_MAP:
		if (v->kind != CV_MAP) {
			gale__tc_bad_value(ctx, type, v);
			break;
		}
		for (i = 0; i + 1 < v->items.n; i += 2) {
			gale__tc_check_value(ctx, f, t->key, v->items.v[i]);
			gale__tc_check_value(ctx, f, t->elem, v->items.v[i + 1]);
		}
		break;
	case T_NAMED:
		if (t->def->kind == D_ENUM) {
			if (v->kind != CV_INT || v->is_bool)
				gale__tc_bad_value(ctx, type, v);
			else if (gale__tc_enum_by_value(t->def, v->i) == NULL)
				gale__tc_warn(ctx, v->loc, "%lld is not a value of enum %s", (long long)v->i,
					      t->def->name);
		} else {
			gale__tc_check_struct_value(ctx, f, type, t->def, v);
		}
		break;
	default:
		gale__tc_bad_value(ctx, type, v);
		break;
	}
}

static bool
gale__tc_is_exception(struct tc_type *t)
{
	t = gale__tc_true_type(t);
	return t->kind == T_NAMED && t->def != NULL && t->def->kind == D_EXCEPTION;
}

static void
gale__tc_check_fields(struct tc_ctx *ctx, const struct tc_file *f, struct tc_vec *fields, const char *owner,
		      enum tc_dkind kind, bool throws)
{
	size_t i, j;

	for (i = 0; i < fields->n; i++) {
		struct tc_field *fl = fields->v[i];
		struct tc_type *t = gale__tc_true_type(fl->type);

		for (j = 0; j < i; j++) {
			struct tc_field *o = fields->v[j];

			if (o->id == fl->id) {
				gale__tc_error(ctx, fl->loc, "field id %d of '%s' is already used by '%s' in %s",
					       fl->id, fl->name, o->name, owner);
				break;
			}
			if (strcmp(o->name, fl->name) == 0) {
				gale__tc_error(ctx, fl->loc, "field '%s' is already defined in %s", fl->name,
					       owner);
				break;
			}
		}
		if (t != NULL && t->kind == T_VOID)
			gale__tc_error(ctx, fl->loc, "field '%s' cannot be void", fl->name);
		if (kind == D_UNION && fl->req == REQ_REQUIRED)
			gale__tc_warn(ctx, fl->loc, "required field '%s' in union %s is treated as optional",
				      fl->name, owner);
		if (throws && !gale__tc_is_exception(fl->type))
			gale__tc_error(ctx, fl->type->loc, "'%s' in throws of %s is not an exception",
				       gale__tc_type_name(ctx, fl->type), owner);
		if (fl->dflt != NULL)
			gale__tc_check_value(ctx, f, fl->type, fl->dflt);
	}
}

static void
gale__tc_phase2_file(struct tc_ctx *ctx, struct tc_file *f)
{
	size_t i, j, k;

	for (i = 0; i < f->defs.n; i++) {
		struct tc_def *d = f->defs.v[i];

		switch (d->kind) {
		case D_ENUM:
			for (j = 0; j < d->vals.n; j++) {
				struct tc_enum_val *ev = d->vals.v[j];

				for (k = 0; k < j; k++) {
					struct tc_enum_val *o = d->vals.v[k];

					if (strcmp(o->name, ev->name) == 0) {
						gale__tc_error(ctx, ev->loc, "enum value '%s' is already defined in %s",
							       ev->name, d->name);
						break;
					}
					if (o->value == ev->value) {
						gale__tc_warn(ctx, ev->loc, "%s.%s has the same value (%lld) as %s",
							      d->name, ev->name, (long long)ev->value, o->name);
						break;
					}
				}
			}
			break;
		case D_CONST:
			gale__tc_check_value(ctx, f, d->type, d->value);
			break;
		case D_STRUCT:
		case D_UNION:
		case D_EXCEPTION:
			gale__tc_check_fields(ctx, f, &d->fields, d->name, d->kind, false);
			break;
		case D_SERVICE:
			for (j = 0; j < d->funcs.n; j++) {
				struct tc_func *fn = d->funcs.v[j];
				const char *owner = gale__tc_sprintf(ctx, "%s.%s", d->name, fn->name);

				for (k = 0; k < j; k++) {
					struct tc_func *o = d->funcs.v[k];

					if (strcmp(o->name, fn->name) == 0) {
						gale__tc_error(ctx, fn->loc, "function '%s' is already defined in %s",
							       fn->name, d->name);
						break;
					}
				}
				gale__tc_check_fields(ctx, f, &fn->args, owner, D_STRUCT, false);
				gale__tc_check_fields(ctx, f, &fn->throws, owner, D_STRUCT, true);
				if (fn->oneway && fn->ret->kind != T_VOID)
					gale__tc_error(ctx, fn->ret->loc, "oneway function '%s' must return void",
						       fn->name);
				if (fn->oneway && fn->throws.n > 0)
					gale__tc_error(ctx, fn->loc, "oneway function '%s' cannot throw",
						       fn->name);
			}
			break;
		case D_TYPEDEF:
			break;
		}
	}
}

int
gale__tc_check(struct tc_ctx *ctx)
{
	int before = ctx->nerrors;
	size_t i;

	for (i = 0; i < ctx->files.n; i++)
		gale__tc_phase1_file(ctx, ctx->files.v[i]);
	for (i = 0; i < ctx->files.n; i++)
		gale__tc_cycles_file(ctx, ctx->files.v[i]);
	if (ctx->nerrors != before)
		return -EINVAL;
	for (i = 0; i < ctx->files.n; i++)
		gale__tc_phase2_file(ctx, ctx->files.v[i]);
	return ctx->nerrors != before ? -EINVAL : 0;
}
