/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of gale-thriftc's lexer, parser and semantic pass, on in-memory IDL (a loader callback stands in
 * for the file system). Table-driven: each lexer case lists the tokens it must produce with line and column.
 * The front end is also fed every prefix of a valid IDL, which must give errors, never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "thriftc.h"

struct mem_file {
	const char *path;
	const char *text;
	size_t len; /**< 0: strlen(text) */
};

static int
mem_load(void *arg, const char *path, char **data, size_t *len)
{
	const struct mem_file *f;

	for (f = arg; f->path != NULL; f++) {
		if (strcmp(f->path, path) == 0) {
			size_t n = f->len ? f->len : strlen(f->text);

			*data = malloc(n ? n : 1);
			if (*data == NULL)
				return -12;
			memcpy(*data, f->text, n);
			*len = n;
			return 0;
		}
	}
	return -2;
}

/* Parses and checks files[0]; returns the number of errors. */
static int
compile(struct tc_ctx *ctx, const struct mem_file *files, struct tc_file **root)
{
	struct tc_loc none = { NULL, 0, 0 };

	gale__tc_ctx_init(ctx);
	ctx->diag = NULL;
	ctx->load = mem_load;
	ctx->load_arg = (void *)(uintptr_t)files;
	*root = gale__tc_parse_file(ctx, files[0].path, none);
	if (*root != NULL && ctx->nerrors == 0)
		(void)gale__tc_check(ctx);
	return ctx->nerrors;
}

struct tok_want {
	enum tc_tok kind;
	const char *text; /**< identifier / decoded string, or punct as a 1-char string */
	int64_t ival;
	double dval;
	uint32_t line, col;
};

static void
lex_expect(const char *src, const struct tok_want *want, size_t n)
{
	struct tc_ctx ctx;
	struct tc_file f = { 0 };
	struct tc_lexer lx;
	struct tc_token t;
	size_t i;

	gale__tc_ctx_init(&ctx);
	ctx.diag = NULL;
	f.path = "mem.thrift";
	f.src = gale__tc_strdup(&ctx, src);
	f.srclen = strlen(src);
	gale__tc_lex_init(&lx, &ctx, &f);
	for (i = 0; i < n; i++) {
		gale__tc_lex_next(&lx, &t);
		print_message("token %zu\n", i);
		assert_int_equal(t.kind, want[i].kind);
		assert_int_equal(t.line, want[i].line);
		assert_int_equal(t.col, want[i].col);
		switch (t.kind) {
		case TK_IDENT:
		case TK_STRING:
			assert_string_equal(t.sval, want[i].text);
			break;
		case TK_INT:
			assert_true(t.ival == want[i].ival);
			break;
		case TK_DOUBLE:
			assert_true(t.dval == want[i].dval);
			break;
		case TK_PUNCT:
			assert_int_equal(t.punct, want[i].text[0]);
			break;
		default:
			break;
		}
	}
	gale__tc_lex_next(&lx, &t);
	assert_int_equal(t.kind, TK_EOF);
	gale__tc_ctx_free(&ctx);
}

static void
test_lex_basic(void **state)
{
	static const struct tok_want w[] = {
		{ TK_IDENT, "struct", 0, 0, 1, 1 },
		{ TK_IDENT, "A", 0, 0, 1, 8 },
		{ TK_PUNCT, "{", 0, 0, 1, 10 },
		{ TK_INT, NULL, 1, 0, 2, 2 },
		{ TK_PUNCT, ":", 0, 0, 2, 3 },
		{ TK_IDENT, "inc.Type", 0, 0, 2, 5 },
		{ TK_IDENT, "x", 0, 0, 2, 14 },
		{ TK_PUNCT, "}", 0, 0, 3, 1 },
	};

	(void)state;
	lex_expect("struct A {\n\t1: inc.Type x // comment\n} # another\n", w, sizeof(w) / sizeof(w[0]));
}

static void
test_lex_numbers(void **state)
{
	static const struct tok_want w[] = {
		{ TK_INT, NULL, 0x7fffFFFF, 0, 1, 1 },
		{ TK_INT, NULL, -0x10, 0, 1, 12 },
		{ TK_INT, NULL, INT64_MIN, 0, 1, 18 },
		{ TK_INT, NULL, 42, 0, 1, 39 },
		{ TK_DOUBLE, NULL, 0, 3.25, 2, 1 },
		{ TK_DOUBLE, NULL, 0, 6.022e23, 2, 6 },
		{ TK_DOUBLE, NULL, 0, -1.5e-3, 2, 15 },
		{ TK_DOUBLE, NULL, 0, 0.5, 2, 23 },
		{ TK_DOUBLE, NULL, 0, 1e10, 2, 26 },
	};

	(void)state;
	lex_expect("0x7fffFFFF -0x10 -9223372036854775808 +42\n3.25 6.022e23 -1.5E-3 .5 1e10", w,
		   sizeof(w) / sizeof(w[0]));
}

static void
test_lex_strings_and_docs(void **state)
{
	static const char src[] = "\"a\\\"b\\n\" 'it\\'s' \"tab\\t\\\\\"\n/** Doc\n * line two\n */\nX";
	struct tc_ctx ctx;
	struct tc_file f = { 0 };
	struct tc_lexer lx;
	struct tc_token t;

	(void)state;
	gale__tc_ctx_init(&ctx);
	ctx.diag = NULL;
	f.src = gale__tc_strdup(&ctx, src);
	f.srclen = strlen(src);
	gale__tc_lex_init(&lx, &ctx, &f);
	gale__tc_lex_next(&lx, &t);
	assert_int_equal(t.kind, TK_STRING);
	assert_string_equal(t.sval, "a\"b\n");
	gale__tc_lex_next(&lx, &t);
	assert_string_equal(t.sval, "it's");
	gale__tc_lex_next(&lx, &t);
	assert_string_equal(t.sval, "tab\t\\");
	gale__tc_lex_next(&lx, &t);
	assert_int_equal(t.kind, TK_IDENT);
	assert_string_equal(t.sval, "X");
	assert_int_equal(t.line, 5);
	assert_non_null(t.doc);
	assert_string_equal(t.doc, "Doc\nline two");
	gale__tc_ctx_free(&ctx);
}

static void
test_lex_errors(void **state)
{
	static const char *const bad[] = {
		"\"unterminated", "'\\q'", "/* open", "@", "99999999999999999999", "0x1ffffffffffffffff", "12abc",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tc_ctx ctx;
		struct tc_file f = { 0 };
		struct tc_lexer lx;
		struct tc_token t;
		int guard = 0;

		gale__tc_ctx_init(&ctx);
		ctx.diag = NULL;
		f.src = gale__tc_strdup(&ctx, bad[i]);
		f.srclen = strlen(bad[i]);
		gale__tc_lex_init(&lx, &ctx, &f);
		do
			gale__tc_lex_next(&lx, &t);
		while (t.kind != TK_EOF && ++guard < 100);
		print_message("case %s\n", bad[i]);
		assert_true(ctx.nerrors >= 1);
		assert_true(guard < 100);
		gale__tc_ctx_free(&ctx);
	}
}

static const struct mem_file good_files[] = {
	{ "main.thrift",
	  "include \"base.thrift\"\n"
	  "namespace c m\n"
	  "enum E { A, B = 5, C }\n"
	  "const E DEF = E.C\n"
	  "const list<base.T> TS = [{\"n\": 1}, {\"n\": base.N}]\n"
	  "struct S { 1: required i32 a = 3, 2: optional base.T t, i64 implicit }\n"
	  "union U { 1: string s; 2: S st }\n"
	  "service Svc extends base.B { oneway void f(1: S s), U g() throws (1: base.X x) }\n",
	  0 },
	{ "base.thrift",
	  "const i32 N = 9\n"
	  "struct T { 1: i32 n }\n"
	  "exception X { 1: string why }\n"
	  "service B { void ping() }\n",
	  0 },
	{ NULL, NULL, 0 },
};

static void
test_parse_program(void **state)
{
	struct tc_ctx ctx;
	struct tc_file *root;
	struct tc_def *e, *s, *svc;
	struct tc_field *f;

	(void)state;
	assert_int_equal(compile(&ctx, good_files, &root), 0);
	assert_int_equal(ctx.files.n, 2);
	assert_int_equal(root->defs.n, 6);
	e = root->defs.v[0];
	assert_int_equal(e->kind, D_ENUM);
	assert_int_equal(((struct tc_enum_val *)e->vals.v[0])->value, 0);
	assert_int_equal(((struct tc_enum_val *)e->vals.v[2])->value, 6);
	s = root->defs.v[3];
	assert_string_equal(s->name, "S");
	f = s->fields.v[1];
	assert_int_equal(f->req, REQ_OPTIONAL);
	assert_non_null(f->type->def);
	assert_string_equal(f->type->def->name, "T");
	assert_ptr_equal(f->type->def->file, ctx.files.v[1]);
	f = s->fields.v[2];
	assert_int_equal(f->id, -1);
	assert_true(f->id_auto);
	assert_int_equal(ctx.nwarnings, 1);
	svc = root->defs.v[5];
	assert_non_null(svc->base);
	assert_string_equal(svc->base->name, "B");
	assert_true(((struct tc_func *)svc->funcs.v[0])->oneway);
	gale__tc_ctx_free(&ctx);
}

/* Every prefix of a valid program and a few mutations: errors are fine, crashes and hangs are not. */
static void
test_parse_prefixes(void **state)
{
	const char *text = good_files[0].text;
	size_t n = strlen(text), cut;

	(void)state;
	for (cut = 0; cut < n; cut++) {
		struct mem_file files[3] = { { "main.thrift", text, cut }, good_files[1], { NULL, NULL, 0 } };
		struct tc_ctx ctx;
		struct tc_file *root;

		if (cut == 0)
			files[0].text = "";
		(void)compile(&ctx, files, &root);
		gale__tc_ctx_free(&ctx);
	}
}

static void
test_semantic_errors(void **state)
{
	static const struct {
		const char *src;
		uint32_t line, col;
	} cases[] = {
		{ "struct A { 1: i32 x, 1: i32 y }", 1, 22 },
		{ "struct A { 1: Nope x }", 1, 15 },
		{ "typedef B A\ntypedef A B", 1, 11 },
		{ "const i16 X = 40000", 1, 15 },
		{ "enum E { A, A }", 1, 13 },
		{ "include \"nope.thrift\"", 1, 9 },
		{ "include \"main.thrift\"", 1, 9 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mem_file files[2] = { { "main.thrift", cases[i].src, 0 }, { NULL, NULL, 0 } };
		struct tc_ctx ctx;
		struct tc_file *root;
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		char want[64];

		assert_non_null(mem);
		gale__tc_ctx_init(&ctx);
		(void)compile(&ctx, files, &root);
		gale__tc_ctx_free(&ctx);
		/* Again with diagnostics captured, to check the position. */
		gale__tc_ctx_init(&ctx);
		ctx.diag = mem;
		ctx.load = mem_load;
		ctx.load_arg = files;
		{
			struct tc_loc none = { NULL, 0, 0 };

			root = gale__tc_parse_file(&ctx, "main.thrift", none);
			if (root != NULL && ctx.nerrors == 0)
				(void)gale__tc_check(&ctx);
		}
		fclose(mem);
		snprintf(want, sizeof(want), "main.thrift:%u:%u: error: ", cases[i].line, cases[i].col);
		print_message("case %zu: %s\n", i, buf);
		assert_true(ctx.nerrors >= 1);
		assert_non_null(strstr(buf, want));
		assert_true(strstr(buf, want) == buf);
		free(buf);
		gale__tc_ctx_free(&ctx);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lex_basic),
		cmocka_unit_test(test_lex_numbers),
		cmocka_unit_test(test_lex_strings_and_docs),
		cmocka_unit_test(test_lex_errors),
		cmocka_unit_test(test_parse_program),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_semantic_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
