/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc plugins, in the Thriftgo spirit: `--plugin=NAME=PROGRAM` runs PROGRAM (through /bin/sh -c, so it
 * may carry arguments) with the checked program as JSON on its stdin, and writes the files it returns.
 *
 * Request (stdin): { "plugin": NAME, "out_dir": OUTDIR, "program": <json.c's document> }.
 * Reply (stdout):  { "files": [ { "name": "relative/path", "content": "..." }, ... ],
 *                    "warnings": [ "..." ], "error": "message" (optional) }.
 * A non-zero exit status or an "error" member fails the run (exit 1) and writes nothing. File names must be
 * relative and free of `..`; parent directories are created. The environment variable GALE_THRIFTC_PLUGIN
 * holds NAME.
 *
 * The request goes through an unlinked temporary file rather than a pipe, so a plugin that starts writing
 * before it has read all its input cannot deadlock against us.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "thriftc.h"

/* A minimal JSON reader, enough for replies: objects, arrays, strings, numbers, literals. */
enum tc_jkind { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct tc_jval {
	enum tc_jkind kind;
	char *s;             /**< J_STR value, J_OBJ: unused */
	size_t slen;
	struct tc_vec items; /**< J_ARR values; J_OBJ: key (struct tc_jval J_STR), value, ... */
};

struct tc_jreader {
	struct tc_ctx *ctx;
	const char *p, *end;
	int depth;
};

static void
gale__tc_jws(struct tc_jreader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static void
gale__tc_put_utf8(char *buf, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		buf[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		buf[(*n)++] = (char)(0xc0 | (cp >> 6));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		buf[(*n)++] = (char)(0xe0 | (cp >> 12));
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		buf[(*n)++] = (char)(0xf0 | (cp >> 18));
		buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static int
gale__tc_hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static struct tc_jval *
gale__tc_jstring(struct tc_jreader *r)
{
	struct tc_jval *v = gale__tc_alloc(r->ctx, sizeof(*v));
	const char *q;
	size_t n = 0;
	char *buf;

	r->p++; /* opening quote */
	for (q = r->p; q < r->end && *q != '"'; q++)
		if (*q == '\\')
			q++;
	if (q >= r->end)
		return NULL;
	buf = gale__tc_alloc(r->ctx, (size_t)(q - r->p) * 2 + 8);
	while (r->p < q) {
		char c = *r->p++;

		if (c != '\\') {
			buf[n++] = c;
			continue;
		}
		c = *r->p++;
		switch (c) {
		case 'n': buf[n++] = '\n'; break;
		case 't': buf[n++] = '\t'; break;
		case 'r': buf[n++] = '\r'; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case '/': buf[n++] = '/'; break;
		case '\\': buf[n++] = '\\'; break;
		case '"': buf[n++] = '"'; break;
		case 'u': {
			unsigned cp, lo;

			if (gale__tc_hex4(r->p, q, &cp) != 0)
				return NULL;
			r->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && q - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' &&
			    gale__tc_hex4(r->p + 2, q, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				r->p += 6;
			}
			gale__tc_put_utf8(buf, &n, cp);
			break;
		}
		default:
			return NULL;
		}
	}
	r->p = q + 1;
	buf[n] = '\0';
	v->kind = J_STR;
	v->s = buf;
	v->slen = n;
	return v;
}

static struct tc_jval *
gale__tc_jparse(struct tc_jreader *r)
{
	struct tc_jval *v;

	gale__tc_jws(r);
	if (r->p >= r->end || ++r->depth > 64)
		return NULL;
	if (*r->p == '"') {
		v = gale__tc_jstring(r);
	} else if (*r->p == '[' || *r->p == '{') {
		bool obj = *r->p == '{';
		char close = obj ? '}' : ']';

		v = gale__tc_alloc(r->ctx, sizeof(*v));
		v->kind = obj ? J_OBJ : J_ARR;
		r->p++;
		gale__tc_jws(r);
		if (r->p < r->end && *r->p == close) {
			r->p++;
		} else {
			for (;;) {
				struct tc_jval *item;

				if (obj) {
					gale__tc_jws(r);
					if (r->p >= r->end || *r->p != '"')
						return NULL;
					item = gale__tc_jstring(r);
					if (item == NULL)
						return NULL;
					gale__tc_vec_push(r->ctx, &v->items, item);
					gale__tc_jws(r);
					if (r->p >= r->end || *r->p != ':')
						return NULL;
					r->p++;
				}
				item = gale__tc_jparse(r);
				if (item == NULL)
					return NULL;
				gale__tc_vec_push(r->ctx, &v->items, item);
				gale__tc_jws(r);
				if (r->p < r->end && *r->p == ',') {
					r->p++;
					continue;
				}
				if (r->p < r->end && *r->p == close) {
					r->p++;
					break;
				}
				return NULL;
			}
		}
	} else {
		const char *s = r->p;

		while (r->p < r->end && strchr(" \t\r\n,]}", *r->p) == NULL)
			r->p++;
		v = gale__tc_alloc(r->ctx, sizeof(*v));
		if ((size_t)(r->p - s) == 4 && memcmp(s, "null", 4) == 0)
			v->kind = J_NULL;
		else if (((size_t)(r->p - s) == 4 && memcmp(s, "true", 4) == 0) ||
			 ((size_t)(r->p - s) == 5 && memcmp(s, "false", 5) == 0))
			v->kind = J_BOOL;
		else if (r->p > s && strchr("-0123456789", *s) != NULL)
			v->kind = J_NUM;
		else
			return NULL;
		v->s = gale__tc_strndup(r->ctx, s, (size_t)(r->p - s));
	}
	r->depth--;
	return v;
}

static struct tc_jval *
gale__tc_jget(const struct tc_jval *obj, const char *key)
{
	size_t i;

	if (obj == NULL || obj->kind != J_OBJ)
		return NULL;
	for (i = 0; i + 1 < obj->items.n; i += 2) {
		const struct tc_jval *k = obj->items.v[i];

		if (strcmp(k->s, key) == 0)
			return obj->items.v[i + 1];
	}
	return NULL;
}

static bool
gale__tc_safe_name(const char *n)
{
	const char *p = n;

	if (n[0] == '\0' || n[0] == '/')
		return false;
	while (*p != '\0') {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

static int
gale__tc_mkdirs_for(struct tc_ctx *ctx, const char *path)
{
	char *tmp = gale__tc_strdup(ctx, path);
	char *s;

	for (s = tmp + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

int
gale__tc_run_plugin(struct tc_ctx *ctx, struct tc_file *root, const char *spec, const char *outdir)
{
	const char *eq = strchr(spec, '=');
	char *name, *prog, *out = NULL;
	size_t outlen = 0, cap = 0, i;
	FILE *req;
	int pfd[2], status;
	pid_t pid;
	struct tc_jreader rd;
	struct tc_jval *reply, *files, *err, *warns;

	if (eq == NULL || eq == spec || eq[1] == '\0') {
		fprintf(stderr, "gale-thriftc: --plugin wants NAME=PROGRAM, got '%s'\n", spec);
		return -EINVAL;
	}
	name = gale__tc_strndup(ctx, spec, (size_t)(eq - spec));
	prog = gale__tc_strdup(ctx, eq + 1);
	req = tmpfile();
	if (req == NULL)
		return -errno;
	fputs("{\"plugin\":", req);
	fprintf(req, "\"%s\",\"out_dir\":\"", name);
	for (i = 0; outdir[i] != '\0'; i++) {
		if (outdir[i] == '"' || outdir[i] == '\\')
			fputc('\\', req);
		fputc(outdir[i], req);
	}
	fputs("\",\"program\":", req);
	gale__tc_json_program(ctx, root, req);
	fputs("}\n", req);
	fflush(req);
	rewind(req);
	if (pipe(pfd) != 0) {
		fclose(req);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fclose(req);
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(fileno(req), 0);
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		setenv("GALE_THRIFTC_PLUGIN", name, 1);
		execl("/bin/sh", "sh", "-c", prog, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	fclose(req);
	for (;;) {
		ssize_t r;

		if (cap - outlen < 4096) {
			char *nb = realloc(out, cap ? cap * 2 : 65536);

			if (nb == NULL) {
				free(out);
				close(pfd[0]);
				waitpid(pid, &status, 0);
				return -ENOMEM;
			}
			out = nb;
			cap = cap ? cap * 2 : 65536;
		}
		r = read(pfd[0], out + outlen, cap - outlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		outlen += (size_t)r;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "gale-thriftc: plugin %s (%s) failed with status %d\n", name, prog,
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		free(out);
		return -EIO;
	}
	rd.ctx = ctx;
	rd.p = out;
	rd.end = out + outlen;
	rd.depth = 0;
	reply = gale__tc_jparse(&rd);
	if (reply != NULL) {
		gale__tc_jws(&rd);
		if (rd.p != rd.end)
			reply = NULL;
	}
	free(out);
	if (reply == NULL || reply->kind != J_OBJ) {
		fprintf(stderr, "gale-thriftc: plugin %s: reply is not a JSON object\n", name);
		return -EPROTO;
	}
	warns = gale__tc_jget(reply, "warnings");
	for (i = 0; warns != NULL && warns->kind == J_ARR && i < warns->items.n; i++) {
		const struct tc_jval *w = warns->items.v[i];

		if (w->kind == J_STR)
			fprintf(stderr, "gale-thriftc: plugin %s: warning: %s\n", name, w->s);
	}
	err = gale__tc_jget(reply, "error");
	if (err != NULL && err->kind == J_STR) {
		fprintf(stderr, "gale-thriftc: plugin %s: error: %s\n", name, err->s);
		return -EPROTO;
	}
	files = gale__tc_jget(reply, "files");
	if (files == NULL)
		return 0;
	if (files->kind != J_ARR) {
		fprintf(stderr, "gale-thriftc: plugin %s: \"files\" is not a list\n", name);
		return -EPROTO;
	}
	for (i = 0; i < files->items.n; i++) {
		const struct tc_jval *fv = files->items.v[i];
		const struct tc_jval *fn = gale__tc_jget(fv, "name");
		const struct tc_jval *fc = gale__tc_jget(fv, "content");

		if (fn == NULL || fc == NULL || fn->kind != J_STR || fc->kind != J_STR ||
		    !gale__tc_safe_name(fn->s)) {
			fprintf(stderr, "gale-thriftc: plugin %s: file %zu needs a relative \"name\" without '..' "
					"and a \"content\" string\n",
				name, i);
			return -EPROTO;
		}
	}
	for (i = 0; i < files->items.n; i++) {
		const struct tc_jval *fv = files->items.v[i];
		const struct tc_jval *fn = gale__tc_jget(fv, "name");
		const struct tc_jval *fc = gale__tc_jget(fv, "content");
		char *path = gale__tc_sprintf(ctx, "%s/%s", outdir, fn->s);
		FILE *fp;
		int rc = gale__tc_mkdirs_for(ctx, path);

		if (rc != 0 || (fp = fopen(path, "wb")) == NULL) {
			fprintf(stderr, "gale-thriftc: cannot write %s: %s\n", path, strerror(rc ? -rc : errno));
			return -EIO;
		}
		if (fwrite(fc->s, 1, fc->slen, fp) != fc->slen || fclose(fp) != 0) {
			fprintf(stderr, "gale-thriftc: cannot write %s\n", path);
			return -EIO;
		}
	}
	return 0;
}
