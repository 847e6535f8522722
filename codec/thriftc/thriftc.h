/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc private header: the token, the AST and the entry points every stage of the compiler shares.
 *
 * The compiler runs in four stages over one context (struct tc_ctx): the lexer turns a file's bytes into tokens
 * with line and column; the recursive-descent parser builds the AST of that file and, for every `include`, loads
 * and parses the included file first (include cycles are found here); the semantic pass resolves names and checks
 * the whole program; the back ends (C code, JSON for plugins) read the checked AST.
 *
 * Memory: everything the compiler allocates comes from the context's arena and is released at once by
 * gale__tc_ctx_free, so no stage frees anything and an error path can simply stop. The fuzz target relies on this.
 *
 * Diagnostics are `file:line:col: error: message` (or `warning:`), lines and columns counted from 1, columns in
 * bytes; tabs count as one column, as gcc and Apache's compiler do.
 */
#ifndef GALE_THRIFTC_H
#define GALE_THRIFTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GALE_THRIFTC_VERSION "0.1.0"

struct tc_ctx;
struct tc_file;

/* A growable array of pointers whose storage lives in the context's arena. */
struct tc_vec {
	void **v;   /**< elements */
	size_t n;   /**< used */
	size_t cap; /**< allocated */
};

struct tc_loc {
	const struct tc_file *file; /**< file the element was read from */
	uint32_t line;              /**< 1-based line */
	uint32_t col;               /**< 1-based byte column */
};

enum tc_tok {
	TK_EOF,
	TK_IDENT,  /**< identifier or keyword; may contain dots (`inc.Type`, `Enum.VALUE`) */
	TK_INT,    /**< decimal or hex integer, optionally signed */
	TK_DOUBLE, /**< floating literal */
	TK_STRING, /**< quoted literal, either quote style, escapes decoded into sval */
	TK_PUNCT,  /**< one of { } ( ) [ ] < > , ; : = * & */
	TK_ERROR,  /**< the lexer has reported an error at this position */
};

struct tc_token {
	enum tc_tok kind;
	int punct;        /**< the character for TK_PUNCT */
	const char *text; /**< start in the source */
	size_t len;       /**< length in the source */
	int64_t ival;     /**< TK_INT value */
	double dval;      /**< TK_DOUBLE value */
	char *sval;       /**< TK_STRING decoded value (NUL-terminated), TK_IDENT copy */
	size_t slen;      /**< TK_STRING decoded length */
	uint32_t line, col;
	char *doc; /**< text of the doc comment just before this token, or NULL */
};

struct tc_lexer {
	struct tc_ctx *ctx;
	const struct tc_file *file;
	const char *src;
	size_t len;
	size_t pos;
	uint32_t line, col;
	char *pending_doc; /**< doc comment waiting for the next token */
};

/* Types. Named types are resolved by the semantic pass: def points at the typedef, enum or struct. */
enum tc_tkind {
	T_VOID,
	T_BOOL,
	T_I8,
	T_I16,
	T_I32,
	T_I64,
	T_DOUBLE,
	T_STRING,
	T_BINARY,
	T_UUID,
	T_LIST,
	T_SET,
	T_MAP,
	T_NAMED,
};

struct tc_annot {
	char *key;
	char *value; /**< "1" when the IDL gave no value, as Apache does */
	struct tc_loc loc;
};

struct tc_type {
	enum tc_tkind kind;
	struct tc_type *key;   /**< map key */
	struct tc_type *elem;  /**< list/set element, map value */
	char *name;            /**< T_NAMED: the name as written */
	struct tc_def *def;    /**< T_NAMED: resolved definition */
	char *cpp_type;        /**< container cpp_type "..." if given */
	struct tc_vec annots;  /**< struct tc_annot * */
	struct tc_loc loc;
};

enum tc_cvkind {
	CV_INT,
	CV_DOUBLE,
	CV_STRING,
	CV_IDENT,
	CV_LIST,
	CV_MAP,
};

struct tc_enum_val;

struct tc_cval {
	enum tc_cvkind kind;
	bool is_bool;               /**< CV_INT written as true/false */
	int64_t i;
	double d;
	char *s;                    /**< CV_STRING value, CV_IDENT name */
	size_t slen;
	struct tc_vec items;        /**< CV_LIST items; CV_MAP key, value, key, value... */
	struct tc_def *ref;         /**< CV_IDENT resolved to a const */
	struct tc_enum_val *ref_ev; /**< CV_IDENT resolved to an enum value */
	struct tc_def *ref_enum;    /**< the enum of ref_ev */
	struct tc_loc loc;
};

enum tc_req { REQ_DEFAULT, REQ_REQUIRED, REQ_OPTIONAL };

struct tc_field {
	int32_t id;
	bool id_auto;       /**< no (usable) id in the IDL: negative id assigned, with a warning */
	enum tc_req req;
	bool reference;     /**< `&` (C++ reference); the C back end stores such a field by pointer */
	bool by_pointer;    /**< C back end: stored by pointer (reference or by-value cycle) */
	struct tc_type *type;
	char *name;
	struct tc_cval *dflt;
	char *doc;
	struct tc_vec annots;
	struct tc_loc loc;
};

struct tc_enum_val {
	char *name;
	int64_t value;
	bool explicit_value;
	char *doc;
	struct tc_vec annots;
	struct tc_loc loc;
};

struct tc_func {
	bool oneway;
	struct tc_type *ret; /**< T_VOID for void */
	char *name;
	struct tc_vec args;   /**< struct tc_field * */
	struct tc_vec throws; /**< struct tc_field * */
	char *doc;
	struct tc_vec annots;
	struct tc_loc loc;
};

enum tc_dkind { D_TYPEDEF, D_ENUM, D_CONST, D_STRUCT, D_UNION, D_EXCEPTION, D_SERVICE };

struct tc_def {
	enum tc_dkind kind;
	char *name;
	char *doc;
	struct tc_vec annots;
	struct tc_loc loc;
	struct tc_file *file;
	struct tc_type *type;     /**< typedef target, const type */
	struct tc_cval *value;    /**< const value */
	struct tc_vec vals;       /**< enum values (struct tc_enum_val *) */
	struct tc_vec fields;     /**< struct/union/exception fields (struct tc_field *) */
	struct tc_type *extends;  /**< service: named base, or NULL */
	struct tc_def *base;      /**< service: resolved base */
	struct tc_vec funcs;      /**< service functions (struct tc_func *) */
	int mark;                 /**< scratch for cycle searches */
};

struct tc_include {
	char *path;  /**< as written */
	char *alias; /**< basename without .thrift: the prefix for names from it */
	struct tc_file *file;
	struct tc_loc loc;
};

struct tc_namespace {
	char *scope; /**< language tag or "*" */
	char *name;
	struct tc_vec annots;
	struct tc_loc loc;
};

enum tc_fstate { FS_NEW, FS_PARSING, FS_DONE };

struct tc_file {
	char *path;     /**< path used to open it */
	char *realpath; /**< canonical path, identifies the file */
	char *dir;      /**< directory of path, first include search path */
	char *name;     /**< basename without .thrift */
	char *src;
	size_t srclen;
	enum tc_fstate state;
	int nerrors;              /**< syntax errors in this file */
	struct tc_vec includes;   /**< struct tc_include * */
	struct tc_vec cpp_includes; /**< char * */
	struct tc_vec namespaces; /**< struct tc_namespace * */
	struct tc_vec defs;       /**< struct tc_def * in IDL order */
	char *doc;                /**< doc comment at the top of the file, if any */
	struct tc_file *includer; /**< while parsing: the file whose include loaded this one */
	bool seen_def;            /**< parser: a definition has been read (headers must come first) */
};

/*
 * Loads a file's bytes for the parser: returns 0 and a malloc'd buffer (the compiler copies and frees it),
 * or a negative errno. The fuzz target uses a loader that knows only the fuzz input.
 */
typedef int (*gale_tc_load_cb_t)(void *arg, const char *path, char **data, size_t *len);

struct tc_arena_blk;

struct tc_ctx {
	struct tc_arena_blk *arena;
	struct tc_vec files;        /**< every file loaded, root first */
	struct tc_vec incdirs;      /**< -I directories (char *) */
	int nerrors;
	int nwarnings;
	int max_errors;             /**< stop reporting after this many */
	FILE *diag;                 /**< where diagnostics go (stderr), NULL for silence */
	bool quiet;                 /**< do not print warnings */
	gale_tc_load_cb_t load;     /**< file loader, NULL for the file system */
	void *load_arg;
	int max_include_depth;
	int include_depth;
};

/* ctx.c: arena, vectors, diagnostics */
void gale__tc_ctx_init(struct tc_ctx *ctx);
void gale__tc_ctx_free(struct tc_ctx *ctx);
void *gale__tc_alloc(struct tc_ctx *ctx, size_t n);
char *gale__tc_strndup(struct tc_ctx *ctx, const char *s, size_t n);
char *gale__tc_strdup(struct tc_ctx *ctx, const char *s);
char *gale__tc_sprintf(struct tc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gale__tc_vec_push(struct tc_ctx *ctx, struct tc_vec *v, void *p);
void gale__tc_error(struct tc_ctx *ctx, struct tc_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gale__tc_warn(struct tc_ctx *ctx, struct tc_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* lexer.c */
void gale__tc_lex_init(struct tc_lexer *lx, struct tc_ctx *ctx, const struct tc_file *file);
void gale__tc_lex_next(struct tc_lexer *lx, struct tc_token *tok);
bool gale__tc_is_keyword(const char *s, size_t n);

/* parser.c: loads and parses path and, first, every file it includes. Returns the file or NULL. */
struct tc_file *gale__tc_parse_file(struct tc_ctx *ctx, const char *path, struct tc_loc from);

/* sema.c: resolves and checks every loaded file. Returns 0 or -EINVAL when errors were reported. */
int gale__tc_check(struct tc_ctx *ctx);
struct tc_type *gale__tc_true_type(struct tc_type *t);
const char *gale__tc_type_name(struct tc_ctx *ctx, const struct tc_type *t);

/* json.c: the checked program as JSON (plugin input) */
void gale__tc_json_program(struct tc_ctx *ctx, struct tc_file *root, FILE *out);

/* plugin.c: runs `NAME=PROGRAM`, writes the files it returns under outdir. 0 or a negative errno. */
int gale__tc_run_plugin(struct tc_ctx *ctx, struct tc_file *root, const char *spec, const char *outdir);

/* gen_c.c: writes <outdir>/<name>.h and .c for one file. Returns 0 or a negative errno. */
int gale__tc_gen_c(struct tc_ctx *ctx, struct tc_file *f, const char *outdir, const char *options);

#endif /* GALE_THRIFTC_H */
