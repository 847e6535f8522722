/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc JSON writer: the checked program as one JSON document, the input of a plugin.
 *
 * Shape (documented for plugin authors in codec/thriftc/README.md):
 *   { "compiler": "gale-thriftc", "version": "...", "root": "<path>",
 *     "files": [ { "path", "name", "doc", "includes": [{"path","alias","file"}], "cpp_includes": [...],
 *                  "namespaces": [{"scope","name","annotations"}], "definitions": [ ... ] } ] }
 * A definition is { "kind": "struct"|"union"|"exception"|"enum"|"typedef"|"const"|"service", "name", "doc",
 * "line", "annotations": {k: v}, ... } with "fields" / "values" / "type" + "value" / "extends" + "functions".
 * A type is { "kind": "i32" | "list" ... | "named", "name", "file" (the defining file's name), "key", "elem" }.
 * Every file loaded (root first) is listed, so a plugin sees included definitions too.
 */
#include <string.h>

#include "thriftc.h"

static void
gale__tc_jstr_n(FILE *out, const char *s, size_t n)
{
	size_t i;

	fputc('"', out);
	for (i = 0; s != NULL && i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void
gale__tc_jstr(FILE *out, const char *s)
{
	if (s == NULL)
		fputs("null", out);
	else
		gale__tc_jstr_n(out, s, strlen(s));
}

static void
gale__tc_jannots(FILE *out, const struct tc_vec *a)
{
	size_t i;

	fputs("{", out);
	for (i = 0; i < a->n; i++) {
		const struct tc_annot *an = a->v[i];

		if (i)
			fputc(',', out);
		gale__tc_jstr(out, an->key);
		fputc(':', out);
		gale__tc_jstr(out, an->value);
	}
	fputs("}", out);
}

static void
gale__tc_jtype(struct tc_ctx *ctx, FILE *out, const struct tc_type *t)
{
	switch (t->kind) {
	case T_LIST:
	case T_SET:
		fprintf(out, "{\"kind\":\"%s\",\"elem\":", t->kind == T_LIST ? "list" : "set");
		gale__tc_jtype(ctx, out, t->elem);
		break;
	case T_MAP:
		fputs("{\"kind\":\"map\",\"key\":", out);
		gale__tc_jtype(ctx, out, t->key);
		fputs(",\"elem\":", out);
		gale__tc_jtype(ctx, out, t->elem);
		break;
	case T_NAMED:
		fputs("{\"kind\":\"named\",\"name\":", out);
		gale__tc_jstr(out, t->def ? t->def->name : t->name);
		fputs(",\"file\":", out);
		gale__tc_jstr(out, t->def ? t->def->file->name : NULL);
		break;
	default:
		fprintf(out, "{\"kind\":\"%s\"", gale__tc_type_name(ctx, t));
		break;
	}
	if (t->annots.n > 0) {
		fputs(",\"annotations\":", out);
		gale__tc_jannots(out, &t->annots);
	}
	fputc('}', out);
}

static void
gale__tc_jvalue(FILE *out, const struct tc_cval *v)
{
	size_t i;

	switch (v->kind) {
	case CV_INT:
		if (v->is_bool)
			fputs(v->i ? "true" : "false", out);
		else
			fprintf(out, "%lld", (long long)v->i);
		break;
	case CV_DOUBLE:
		fprintf(out, "%.17g", v->d);
		break;
	case CV_STRING:
		gale__tc_jstr_n(out, v->s, v->slen);
		break;
	case CV_IDENT:
		fputs("{\"ref\":", out);
		gale__tc_jstr(out, v->s);
		if (v->ref_ev != NULL)
			fprintf(out, ",\"value\":%lld", (long long)v->ref_ev->value);
		fputc('}', out);
		break;
	case CV_LIST:
		fputc('[', out);
		for (i = 0; i < v->items.n; i++) {
			if (i)
				fputc(',', out);
			gale__tc_jvalue(out, v->items.v[i]);
		}
		fputc(']', out);
		break;
	case CV_MAP:
		fputs("{\"map\":[", out);
		for (i = 0; i + 1 < v->items.n; i += 2) {
			if (i)
				fputc(',', out);
			fputc('[', out);
			gale__tc_jvalue(out, v->items.v[i]);
			fputc(',', out);
			gale__tc_jvalue(out, v->items.v[i + 1]);
			fputc(']', out);
		}
		fputs("]}", out);
		break;
	}
}

static void
gale__tc_jfields(struct tc_ctx *ctx, FILE *out, const struct tc_vec *fields)
{
	static const char *const req[] = { "default", "required", "optional" };
	size_t i;

	fputc('[', out);
	for (i = 0; i < fields->n; i++) {
		const struct tc_field *f = fields->v[i];

		if (i)
			fputc(',', out);
		fprintf(out, "{\"id\":%d,\"name\":", f->id);
		gale__tc_jstr(out, f->name);
		fprintf(out, ",\"requiredness\":\"%s\",\"line\":%u,\"type\":", req[f->req], f->loc.line);
		gale__tc_jtype(ctx, out, f->type);
		if (f->dflt != NULL) {
			fputs(",\"default\":", out);
			gale__tc_jvalue(out, f->dflt);
		}
		fputs(",\"doc\":", out);
		gale__tc_jstr(out, f->doc);
		fputs(",\"annotations\":", out);
		gale__tc_jannots(out, &f->annots);
		fputc('}', out);
	}
	fputc(']', out);
}

static const char *
gale__tc_dkind_json(enum tc_dkind k)
{
	static const char *const n[] = { "typedef", "enum", "const", "struct", "union", "exception", "service" };

	return n[k];
}

static void
gale__tc_jdef(struct tc_ctx *ctx, FILE *out, const struct tc_def *d)
{
	size_t i;

	fprintf(out, "{\"kind\":\"%s\",\"name\":", gale__tc_dkind_json(d->kind));
	gale__tc_jstr(out, d->name);
	fprintf(out, ",\"line\":%u,\"doc\":", d->loc.line);
	gale__tc_jstr(out, d->doc);
	fputs(",\"annotations\":", out);
	gale__tc_jannots(out, &d->annots);
	switch (d->kind) {
	case D_TYPEDEF:
		fputs(",\"type\":", out);
		gale__tc_jtype(ctx, out, d->type);
		break;
	case D_CONST:
		fputs(",\"type\":", out);
		gale__tc_jtype(ctx, out, d->type);
		fputs(",\"value\":", out);
		gale__tc_jvalue(out, d->value);
		break;
	case D_ENUM:
		fputs(",\"values\":[", out);
		for (i = 0; i < d->vals.n; i++) {
			const struct tc_enum_val *ev = d->vals.v[i];

			if (i)
				fputc(',', out);
			fputs("{\"name\":", out);
			gale__tc_jstr(out, ev->name);
			fprintf(out, ",\"value\":%lld,\"doc\":", (long long)ev->value);
			gale__tc_jstr(out, ev->doc);
			fputs(",\"annotations\":", out);
			gale__tc_jannots(out, &ev->annots);
			fputc('}', out);
		}
		fputc(']', out);
		break;
	case D_STRUCT:
	case D_UNION:
	case D_EXCEPTION:
		fputs(",\"fields\":", out);
		gale__tc_jfields(ctx, out, &d->fields);
		break;
	case D_SERVICE:
		fputs(",\"extends\":", out);
		if (d->base != NULL) {
			fputs("{\"name\":", out);
			gale__tc_jstr(out, d->base->name);
			fputs(",\"file\":", out);
			gale__tc_jstr(out, d->base->file->name);
			fputc('}', out);
		} else {
			fputs("null", out);
		}
		fputs(",\"functions\":[", out);
		for (i = 0; i < d->funcs.n; i++) {
			const struct tc_func *fn = d->funcs.v[i];

			if (i)
				fputc(',', out);
			fputs("{\"name\":", out);
			gale__tc_jstr(out, fn->name);
			fprintf(out, ",\"oneway\":%s,\"returns\":", fn->oneway ? "true" : "false");
			gale__tc_jtype(ctx, out, fn->ret);
			fputs(",\"args\":", out);
			gale__tc_jfields(ctx, out, &fn->args);
			fputs(",\"throws\":", out);
			gale__tc_jfields(ctx, out, &fn->throws);
			fputs(",\"doc\":", out);
			gale__tc_jstr(out, fn->doc);
			fputs(",\"annotations\":", out);
			gale__tc_jannots(out, &fn->annots);
			fputc('}', out);
		}
		fputc(']', out);
		break;
	}
	fputc('}', out);
}

void
gale__tc_json_program(struct tc_ctx *ctx, struct tc_file *root, FILE *out)
{
	size_t i, j;

	fputs("{\"compiler\":\"gale-thriftc\",\"version\":\"" GALE_THRIFTC_VERSION "\",\"root\":", out);
	gale__tc_jstr(out, root->path);
	fputs(",\"files\":[", out);
	for (i = 0; i < ctx->files.n; i++) {
		const struct tc_file *f = ctx->files.v[i];

		if (i)
			fputc(',', out);
		fputs("\n{\"path\":", out);
		gale__tc_jstr(out, f->path);
		fputs(",\"name\":", out);
		gale__tc_jstr(out, f->name);
		fputs(",\"doc\":", out);
		gale__tc_jstr(out, f->doc);
		fputs(",\"includes\":[", out);
		for (j = 0; j < f->includes.n; j++) {
			const struct tc_include *inc = f->includes.v[j];

			if (j)
				fputc(',', out);
			fputs("{\"path\":", out);
			gale__tc_jstr(out, inc->path);
			fputs(",\"alias\":", out);
			gale__tc_jstr(out, inc->alias);
			fputc('}', out);
		}
		fputs("],\"cpp_includes\":[", out);
		for (j = 0; j < f->cpp_includes.n; j++) {
			if (j)
				fputc(',', out);
			gale__tc_jstr(out, f->cpp_includes.v[j]);
		}
		fputs("],\"namespaces\":[", out);
		for (j = 0; j < f->namespaces.n; j++) {
			const struct tc_namespace *ns = f->namespaces.v[j];

			if (j)
				fputc(',', out);
			fputs("{\"scope\":", out);
			gale__tc_jstr(out, ns->scope);
			fputs(",\"name\":", out);
			gale__tc_jstr(out, ns->name);
			fputc('}', out);
		}
		fputs("],\"definitions\":[", out);
		for (j = 0; j < f->defs.n; j++) {
			if (j)
				fputc(',', out);
			fputs("\n", out);
			gale__tc_jdef(ctx, out, f->defs.v[j]);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}
