/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc context: the arena every stage allocates from, growable pointer vectors, and diagnostics.
 *
 * The arena is a chain of blocks (64 KiB, or larger for a bigger request); nothing is freed before the whole
 * context is. A vector that grows copies itself into a new arena allocation and abandons the old storage: the
 * waste is bounded by the final size (geometric growth) and buys a compiler with no free() on any error path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "thriftc.h"

struct tc_arena_blk {
	struct tc_arena_blk *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

#define GALE__TC_BLK 65536

void
gale__tc_ctx_init(struct tc_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->max_errors = 50;
	ctx->diag = stderr;
	ctx->max_include_depth = 64;
}

void
gale__tc_ctx_free(struct tc_ctx *ctx)
{
	struct tc_arena_blk *b, *next;

	if (ctx == NULL)
		return;
	for (b = ctx->arena; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	ctx->arena = NULL;
}

void *
gale__tc_alloc(struct tc_ctx *ctx, size_t n)
{
	struct tc_arena_blk *b = ctx->arena;
	size_t align = sizeof(max_align_t);
	void *p;

	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	if (b == NULL || b->size - b->used < n) {
		size_t size = n > GALE__TC_BLK ? n : GALE__TC_BLK;

		b = malloc(sizeof(*b) + size);
		if (b == NULL) {
			fprintf(stderr, "gale-thriftc: out of memory\n");
			exit(3);
		}
		b->used = 0;
		b->size = size;
		/* A large one-off block goes second so the current block keeps serving small requests. */
		if (ctx->arena != NULL && size > GALE__TC_BLK) {
			b->next = ctx->arena->next;
			ctx->arena->next = b;
		} else {
			b->next = ctx->arena;
			ctx->arena = b;
		}
	}
	p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *
gale__tc_strndup(struct tc_ctx *ctx, const char *s, size_t n)
{
	char *p = gale__tc_alloc(ctx, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
gale__tc_strdup(struct tc_ctx *ctx, const char *s)
{
	return gale__tc_strndup(ctx, s, strlen(s));
}

char *
gale__tc_sprintf(struct tc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	p = gale__tc_alloc(ctx, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
gale__tc_vec_push(struct tc_ctx *ctx, struct tc_vec *v, void *p)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		void **nv = gale__tc_alloc(ctx, cap * sizeof(*nv));

		if (v->n > 0)
			memcpy(nv, v->v, v->n * sizeof(*nv));
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = p;
}

static void
gale__tc_diag(struct tc_ctx *ctx, struct tc_loc loc, const char *kind, const char *fmt, va_list ap)
{
	if (ctx->diag == NULL)
		return;
	if (loc.file != NULL)
		fprintf(ctx->diag, "%s:%u:%u: %s: ", loc.file->path, loc.line, loc.col, kind);
	else
		fprintf(ctx->diag, "gale-thriftc: %s: ", kind);
	vfprintf(ctx->diag, fmt, ap);
	fputc('\n', ctx->diag);
}

void
gale__tc_error(struct tc_ctx *ctx, struct tc_loc loc, const char *fmt, ...)
{
	va_list ap;

	ctx->nerrors++;
	if (ctx->nerrors > ctx->max_errors)
		return;
	va_start(ap, fmt);
	gale__tc_diag(ctx, loc, "error", fmt, ap);
	va_end(ap);
	if (ctx->nerrors == ctx->max_errors && ctx->diag != NULL)
		fprintf(ctx->diag, "gale-thriftc: too many errors, stopping the report here\n");
}

void
gale__tc_warn(struct tc_ctx *ctx, struct tc_loc loc, const char *fmt, ...)
{
	va_list ap;

	ctx->nwarnings++;
	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	gale__tc_diag(ctx, loc, "warning", fmt, ap);
	va_end(ap);
}
