/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc lexer: a hand-written scanner for the Thrift IDL with line and column on every token.
 *
 * It follows Apache's thriftl.ll: comments are `//`, `#` and slash-star blocks; a slash-star-star block is a
 * doc comment and is attached to the next token (the parser gives it to the definition, field, enum value or
 * function that token starts). Identifiers may contain dots after the first character, so `inc.Type` and
 * `Enum.VALUE` are one token. Numbers: decimal and `0x` hex integers with an optional sign (range-checked to
 * int64), and doubles with a fraction and/or an exponent. Strings use either quote style, with the escapes
 * \\ \" \' \n \r \t; any other escape is an error, as in Apache.
 *
 * Keywords are returned as identifiers; the parser decides, which keeps the lexer free of grammar.
 * The lexer never reads past src + len: the fuzz target hands it buffers of exact size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "thriftc.h"

static const char *const gale__tc_keywords[] = {
	"binary", "bool", "byte", "const", "cpp_include", "cpp_type", "double", "enum", "exception",
	"extends", "i16", "i32", "i64", "i8", "include", "list", "map", "namespace", "oneway",
	"optional", "required", "senum", "service", "set", "slist", "string", "struct", "throws",
	"typedef", "union", "uuid", "void", "xsd_all", "xsd_attrs", "xsd_nillable", "xsd_optional",
};

bool
gale__tc_is_keyword(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(gale__tc_keywords) / sizeof(gale__tc_keywords[0]); i++)
		if (strlen(gale__tc_keywords[i]) == n && memcmp(gale__tc_keywords[i], s, n) == 0)
			return true;
	return false;
}

void
gale__tc_lex_init(struct tc_lexer *lx, struct tc_ctx *ctx, const struct tc_file *file)
{
	memset(lx, 0, sizeof(*lx));
	lx->ctx = ctx;
	lx->file = file;
	lx->src = file->src;
	lx->len = file->srclen;
	lx->line = 1;
	lx->col = 1;
}

static int
gale__tc_peekc(const struct tc_lexer *lx, size_t ahead)
{
	if (lx->pos + ahead >= lx->len)
		return -1;
	return (unsigned char)lx->src[lx->pos + ahead];
}

static void
gale__tc_adv(struct tc_lexer *lx)
{
	if (lx->pos >= lx->len)
		return;
	if (lx->src[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static struct tc_loc
gale__tc_here(const struct tc_lexer *lx)
{
	struct tc_loc l = { lx->file, lx->line, lx->col };

	return l;
}

static bool
gale__tc_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
gale__tc_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
gale__tc_isxdigit(int c)
{
	return gale__tc_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Trims a doc comment body: strips the leading `*` column and blank first/last lines, as Apache does. */
static char *
gale__tc_clean_doc(struct tc_ctx *ctx, const char *s, size_t n)
{
	char *out = gale__tc_alloc(ctx, n + 1);
	size_t o = 0, i = 0;

	while (i < n) {
		size_t e = i;
		size_t b = i;

		while (e < n && s[e] != '\n')
			e++;
		while (b < e && (s[b] == ' ' || s[b] == '\t'))
			b++;
		if (b < e && s[b] == '*') {
			b++;
			if (b < e && s[b] == ' ')
				b++;
		} else {
			b = i;
			while (b < e && (s[b] == ' ' || s[b] == '\t'))
				b++;
		}
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
			e--;
		if (e > b || o > 0) {
			memcpy(out + o, s + b, e - b);
			o += e - b;
			out[o++] = '\n';
		}
		i = e;
		while (i < n && s[i] != '\n')
			i++;
		if (i < n)
			i++;
	}
	while (o > 0 && out[o - 1] == '\n')
		o--;
	out[o] = '\0';
	return out;
}

/* Skips blanks and comments; returns false (and reports) on an unterminated block comment. */
static bool
gale__tc_skip(struct tc_lexer *lx)
{
	for (;;) {
		int c = gale__tc_peekc(lx, 0);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			gale__tc_adv(lx);
		} else if (c == '#' || (c == '/' && gale__tc_peekc(lx, 1) == '/')) {
			while (gale__tc_peekc(lx, 0) != -1 && gale__tc_peekc(lx, 0) != '\n')
				gale__tc_adv(lx);
		} else if (c == '/' && gale__tc_peekc(lx, 1) == '*') {
			struct tc_loc start = gale__tc_here(lx);
			bool doc = gale__tc_peekc(lx, 2) == '*' && gale__tc_peekc(lx, 3) != '/';
			size_t body;

			gale__tc_adv(lx);
			gale__tc_adv(lx);
			if (doc)
				gale__tc_adv(lx);
			body = lx->pos;
			for (;;) {
				if (gale__tc_peekc(lx, 0) == -1) {
					gale__tc_error(lx->ctx, start, "unterminated comment");
					return false;
				}
				if (gale__tc_peekc(lx, 0) == '*' && gale__tc_peekc(lx, 1) == '/')
					break;
				gale__tc_adv(lx);
			}
			if (doc)
				lx->pending_doc = gale__tc_clean_doc(lx->ctx, lx->src + body, lx->pos - body);
			gale__tc_adv(lx);
			gale__tc_adv(lx);
		} else {
			return true;
		}
	}
}

static void
gale__tc_lex_string(struct tc_lexer *lx, struct tc_token *tok)
{
	int q = gale__tc_peekc(lx, 0);
	size_t cap = 16, n = 0;
	char *buf = gale__tc_alloc(lx->ctx, cap);
	bool bad = false;

	gale__tc_adv(lx);
	for (;;) {
		int c = gale__tc_peekc(lx, 0);

		if (c == -1) {
			struct tc_loc l = { lx->file, tok->line, tok->col };

			gale__tc_error(lx->ctx, l, "unterminated string literal");
			tok->kind = TK_ERROR;
			return;
		}
		if (c == q) {
			gale__tc_adv(lx);
			break;
		}
		if (c == '\\') {
			struct tc_loc l = gale__tc_here(lx);
			int e = gale__tc_peekc(lx, 1);

			switch (e) {
			case '\\': c = '\\'; break;
			case '"': c = '"'; break;
			case '\'': c = '\''; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			default:
				if (!bad && (e == -1 || e < 0x20 || e > 0x7e))
					gale__tc_error(lx->ctx, l, "bad escape character in string literal");
				else if (!bad)
					gale__tc_error(lx->ctx, l, "bad escape character '\\%c' in string literal",
						       e);
				/* Keep scanning to the closing quote so the rest of the line is not re-lexed. */
				bad = true;
				c = e == -1 ? '\\' : e;
				break;
			}
			gale__tc_adv(lx);
		}
		gale__tc_adv(lx);
		if (n + 1 >= cap) {
			char *nb = gale__tc_alloc(lx->ctx, cap * 2);

			memcpy(nb, buf, n);
			buf = nb;
			cap *= 2;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (bad) {
		tok->kind = TK_ERROR;
		return;
	}
	tok->kind = TK_STRING;
	tok->sval = buf;
	tok->slen = n;
}

static void
gale__tc_lex_number(struct tc_lexer *lx, struct tc_token *tok)
{
	size_t start = lx->pos;
	bool neg = false, is_double = false;
	struct tc_loc l = { lx->file, tok->line, tok->col };
	char tmp[128];

	if (gale__tc_peekc(lx, 0) == '+' || gale__tc_peekc(lx, 0) == '-') {
		neg = gale__tc_peekc(lx, 0) == '-';
		gale__tc_adv(lx);
	}
	if (gale__tc_peekc(lx, 0) == '0' && (gale__tc_peekc(lx, 1) == 'x' || gale__tc_peekc(lx, 1) == 'X') &&
	    gale__tc_isxdigit(gale__tc_peekc(lx, 2))) {
		uint64_t v = 0;
		bool over = false;

		gale__tc_adv(lx);
		gale__tc_adv(lx);
		while (gale__tc_isxdigit(gale__tc_peekc(lx, 0))) {
			int c = gale__tc_peekc(lx, 0);
			unsigned d = gale__tc_isdigit(c) ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);

			if (v > (UINT64_MAX >> 4))
				over = true;
			v = (v << 4) | d;
			gale__tc_adv(lx);
		}
		if (over || v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
			gale__tc_error(lx->ctx, l, "integer constant out of range");
			tok->kind = TK_ERROR;
			return;
		}
		tok->kind = TK_INT;
		tok->ival = neg ? (int64_t)(0 - v) : (int64_t)v;
		goto done;
	}
	while (gale__tc_isdigit(gale__tc_peekc(lx, 0)))
		gale__tc_adv(lx);
	if (gale__tc_peekc(lx, 0) == '.' && gale__tc_isdigit(gale__tc_peekc(lx, 1))) {
		is_double = true;
		gale__tc_adv(lx);
		while (gale__tc_isdigit(gale__tc_peekc(lx, 0)))
			gale__tc_adv(lx);
	}
	if ((gale__tc_peekc(lx, 0) == 'e' || gale__tc_peekc(lx, 0) == 'E') &&
	    (gale__tc_isdigit(gale__tc_peekc(lx, 1)) ||
	     ((gale__tc_peekc(lx, 1) == '+' || gale__tc_peekc(lx, 1) == '-') &&
	      gale__tc_isdigit(gale__tc_peekc(lx, 2))))) {
		is_double = true;
		gale__tc_adv(lx);
		gale__tc_adv(lx);
		while (gale__tc_isdigit(gale__tc_peekc(lx, 0)))
			gale__tc_adv(lx);
	}
	if (lx->pos - start >= sizeof(tmp)) {
		gale__tc_error(lx->ctx, l, "numeric constant too long");
		tok->kind = TK_ERROR;
		return;
	}
	memcpy(tmp, lx->src + start, lx->pos - start);
	tmp[lx->pos - start] = '\0';
	if (is_double) {
		tok->kind = TK_DOUBLE;
		tok->dval = strtod(tmp, NULL);
	} else {
		errno = 0;
		tok->ival = strtoll(tmp, NULL, 10);
		if (errno == ERANGE) {
			gale__tc_error(lx->ctx, l, "integer constant out of range");
			tok->kind = TK_ERROR;
			return;
		}
		tok->kind = TK_INT;
	}
done:
	if (gale__tc_isalpha(gale__tc_peekc(lx, 0)) || gale__tc_isdigit(gale__tc_peekc(lx, 0))) {
		struct tc_loc h = gale__tc_here(lx);

		gale__tc_error(lx->ctx, h, "invalid character '%c' after number", gale__tc_peekc(lx, 0));
		tok->kind = TK_ERROR;
	}
}

void
gale__tc_lex_next(struct tc_lexer *lx, struct tc_token *tok)
{
	int c;

	memset(tok, 0, sizeof(*tok));
	if (!gale__tc_skip(lx)) {
		tok->kind = TK_ERROR;
		tok->line = lx->line;
		tok->col = lx->col;
		return;
	}
	tok->line = lx->line;
	tok->col = lx->col;
	tok->text = lx->src + lx->pos;
	tok->doc = lx->pending_doc;
	lx->pending_doc = NULL;
	c = gale__tc_peekc(lx, 0);
	if (c == -1) {
		tok->kind = TK_EOF;
	} else if (gale__tc_isalpha(c)) {
		size_t start = lx->pos;

		gale__tc_adv(lx);
		for (;;) {
			c = gale__tc_peekc(lx, 0);
			if (gale__tc_isalpha(c) || gale__tc_isdigit(c))
				gale__tc_adv(lx);
			else if (c == '.' && (gale__tc_isalpha(gale__tc_peekc(lx, 1)) ||
					      gale__tc_isdigit(gale__tc_peekc(lx, 1))))
				gale__tc_adv(lx);
			else
				break;
		}
		tok->kind = TK_IDENT;
		tok->sval = gale__tc_strndup(lx->ctx, lx->src + start, lx->pos - start);
		tok->slen = lx->pos - start;
	} else if (gale__tc_isdigit(c) ||
		   ((c == '+' || c == '-') && (gale__tc_isdigit(gale__tc_peekc(lx, 1)) ||
					       (gale__tc_peekc(lx, 1) == '.' &&
						gale__tc_isdigit(gale__tc_peekc(lx, 2))))) ||
		   (c == '.' && gale__tc_isdigit(gale__tc_peekc(lx, 1)))) {
		gale__tc_lex_number(lx, tok);
	} else if (c == '"' || c == '\'') {
		gale__tc_lex_string(lx, tok);
	} else if (strchr("{}()[]<>,;:=*&", c) != NULL) {
		tok->kind = TK_PUNCT;
		tok->punct = c;
		gale__tc_adv(lx);
	} else {
		struct tc_loc l = gale__tc_here(lx);

		if (c >= 0x20 && c < 0x7f)
			gale__tc_error(lx->ctx, l, "unexpected character '%c'", c);
		else
			gale__tc_error(lx->ctx, l, "unexpected byte 0x%02x", (unsigned)c);
		gale__tc_adv(lx);
		tok->kind = TK_ERROR;
	}
	tok->len = (size_t)(lx->src + lx->pos - tok->text);
}
