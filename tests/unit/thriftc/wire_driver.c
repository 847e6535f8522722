/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire-compatibility driver: the gale side of tests/unit/thriftc/test_wire_compat.py, which is the Apache Thrift
 * (Python) side. It links the C that gale-thriftc generated at build time from tests/idl (comprehensive.thrift,
 * shared.thrift, versions.thrift) and works on bytes through stdin and stdout:
 *
 *   encode CASE PROTO        builds value CASE in C and writes it (no envelope)
 *   roundtrip TYPE PROTO     decodes a TYPE from stdin, whole and again cut into 7-byte segments (the two must be
 *                            equal), and writes it back
 *   serve PROTO              reads a call message, dispatches it to AdminStore's handlers, writes the reply;
 *                            exit 3 for an unknown method (-ENOENT), nothing written for a oneway call
 *   send_get PROTO           writes a Store.get call (seqid 7, key "k1", timeout_ms 250)
 *   recv_get PROTO EXPECT    reads a get reply; EXPECT is double (success Value{double_value 2.5}), notfound
 *                            (nf = NotFound{key "x"}) or appex (a TApplicationException); exit 0 when it matches
 *   prefixes TYPE PROTO      every proper prefix of stdin must decode to NEED_MORE (-2), the whole to success
 *   generic TYPE PROTO       decodes stdin with the generic decoder and prints it as JSON, naming fields from
 *                            TYPE's descriptor (TYPE "none": no descriptor)
 *   loopback PROTO           calls the generated client stubs (synchronous and async) through a loopback
 *                            channel into the generated dispatch; checks the results in C
 *
 * PROTO is binary or compact. Any failure prints why on stderr and exits non-zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/binary.h>
#include <gale/compact.h>
#include <gale/thriftc.h>

#include "comprehensive.h"
#include "versions.h"

static uint8_t arena_mem[4 << 20];
static uint8_t arena_mem2[4 << 20];
static uint8_t in_buf[4 << 20];
static uint8_t out_buf[4 << 20];
static size_t in_len;
static struct gale_codec_seg split_segs[(4 << 20) / 7 + 2];

static struct gale_codec_bytes
B(const char *s)
{
	struct gale_codec_bytes b = { (const uint8_t *)s, (uint32_t)strlen(s) };

	return b;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "wire_driver: %s failed (%d)\n", what, rc);
	exit(1);
}

static void
read_stdin(void)
{
	size_t n;

	while ((n = fread(in_buf + in_len, 1, sizeof(in_buf) - in_len, stdin)) > 0)
		in_len += n;
}

static void
reader_whole(struct gale_codec_reader *r, struct gale_codec_seg *seg, struct gale_arena *a, uint8_t *mem)
{
	seg->base = in_buf;
	seg->len = in_len;
	gale_arena_init(a, mem, sizeof(arena_mem));
	gale_codec_reader_init(r, seg, 1, NULL, a);
	if (gale_codec_reader_bound(r, in_len) != 0)
		die("reader_bound", -1);
}

static void
reader_split(struct gale_codec_reader *r, struct gale_arena *a, uint8_t *mem)
{
	unsigned n = 0;
	size_t off;

	for (off = 0; off < in_len; off += 7) {
		split_segs[n].base = in_buf + off;
		split_segs[n].len = in_len - off < 7 ? in_len - off : 7;
		n++;
	}
	gale_arena_init(a, mem, sizeof(arena_mem));
	gale_codec_reader_init(r, split_segs, n, NULL, a);
	if (gale_codec_reader_bound(r, in_len) != 0)
		die("reader_bound (split)", -1);
}

static struct gale_codec_wseg wseg;

static void
writer(struct gale_codec_writer *w)
{
	wseg.base = out_buf;
	wseg.cap = sizeof(out_buf);
	wseg.len = 0;
	gale_codec_writer_init(w, &wseg, 1, 1, NULL, NULL);
}

static void
flush(struct gale_codec_writer *w)
{
	gale_codec_writer_finish(w);
	if (fwrite(out_buf, 1, wseg.len, stdout) != wseg.len)
		die("fwrite", -EIO);
}

/* ---- values, mirrored by the Python side ---- */

static void
build_everything(struct demo_Everything *e)
{
	static struct gale_codec_bytes strings[3];
	static int32_t ints[3] = { 1, 2, 3 };
	static struct gale_codec_bytes score_k[2];
	static double score_v[2] = { 1.5, -2.0 };
	static int64_t seen[2] = { 1, 2 };
	static struct gale_set_i64 seen_set = { seen, 2 };
	static struct gale_codec_bytes nested_k[1];
	static struct gale_map_string_set_i64 nested_map[1];
	static int64_t users[2] = { 10, 20 };
	static struct gale_codec_bytes index_k[2];
	static int32_t index_a[2] = { 1, 2 };
	static struct gale_list_i32 index_v[2] = { { index_a, 2 }, { NULL, 0 } };
	static int32_t places_k[1] = { demo_Color_RED };
	static struct shared_Point places_v[1];
	static struct demo_Inner inners[2];
	static const uint8_t bin[2] = { 0x00, 0xff };

	strings[0] = B("a");
	strings[1] = B("");
	strings[2] = B("c\n");
	score_k[0] = B("x");
	score_k[1] = B("y");
	nested_k[0] = B("k");
	nested_map[0].k = nested_k;
	nested_map[0].v = &seen_set;
	nested_map[0].n = 1;
	index_k[0] = B("a");
	index_k[1] = B("b");
	shared_Point_init(&places_v[0]);
	places_v[0].x = 1;
	places_v[0].y = 1;
	demo_Inner_init(&inners[0]);
	inners[0].value = 1;
	demo_Inner_init(&inners[1]);
	inners[1].value = 2;
	inners[1].deeper.text = B("d");
	GALE_SET(&inners[1], demo_Inner_F_deeper);

	demo_Everything_init(e);
	e->b = false;
	e->by = -5;
	e->i_8 = 8;
	e->i_16 = -1600;
	e->i_32 = 320000;
	e->i_64 = -(1LL << 40);
	e->d = -0.125;
	e->s = B("hello");
	e->bin.ptr = bin;
	e->bin.len = 2;
	e->must = B("must");
	e->maybe = B("maybe");
	GALE_SET(e, demo_Everything_F_maybe);
	e->strings.v = strings;
	e->strings.n = 3;
	e->ints.v = ints;
	e->ints.n = 3;
	e->scores.k = score_k;
	e->scores.v = score_v;
	e->scores.n = 2;
	e->nested.v = nested_map;
	e->nested.n = 1;
	e->color = demo_Color_ALPHA;
	e->maybe_color = demo_Color_BLACK;
	GALE_SET(e, demo_Everything_F_maybe_color);
	e->point.x = 3;
	e->point.y = 4;
	e->point.label = B("pt");
	GALE_SET(&e->point, shared_Point_F_label);
	shared_Point_init(&e->where);
	e->where.x = 5;
	e->where.y = 6;
	GALE_SET(e, demo_Everything_F_where);
	e->users.v = users;
	e->users.n = 2;
	e->index.k = index_k;
	e->index.v = index_v;
	e->index.n = 2;
	e->places.k = places_k;
	e->places.v = places_v;
	e->places.n = 1;
	e->blob = B("blob");
	e->priority = shared_Priority_CRITICAL;
	e->inners.v = inners;
	e->inners.n = 2;
	demo_Inner_init(&e->one_inner);
	e->one_inner.value = 3;
	GALE_SET(e, demo_Everything_F_one_inner);
	e->highest_id = 32767;
}

static int
encode_case(const char *name, int proto, struct gale_codec_writer *w)
{
	if (strcmp(name, "everything") == 0) {
		struct demo_Everything e;

		build_everything(&e);
		return demo_Everything_write(proto, w, &e);
	}
	if (strcmp(name, "defaults") == 0) {
		struct demo_Everything e;

		demo_Everything_init(&e);
		e.must = B("m");
		return demo_Everything_write(proto, w, &e);
	}
	if (strcmp(name, "union") == 0) {
		static struct demo_Value items[2];
		struct demo_Value v;

		demo_Value_init(&items[0]);
		items[0].int_value = 5;
		GALE_SET(&items[0], demo_Value_F_int_value);
		demo_Value_init(&items[1]);
		items[1].string_value = B("s");
		GALE_SET(&items[1], demo_Value_F_string_value);
		demo_Value_init(&v);
		v.list_value.v = items;
		v.list_value.n = 2;
		GALE_SET(&v, demo_Value_F_list_value);
		return demo_Value_write(proto, w, &v);
	}
	if (strcmp(name, "exception") == 0) {
		struct demo_NotFound nf;

		demo_NotFound_init(&nf);
		nf.key = B("k");
		nf.code = 7;
		GALE_SET(&nf, demo_NotFound_F_code);
		return demo_NotFound_write(proto, w, &nf);
	}
	if (strcmp(name, "v2") == 0) {
		static struct gale_codec_bytes tags[2];
		static int32_t numbers[3] = { -1, 0, 1 };
		static struct gale_codec_bytes wk[1];
		static double wv[1] = { 0.5 };
		static int64_t seen[2] = { 9, 99 };
		struct versions_RecordV2 v;

		tags[0] = B("t1");
		tags[1] = B("t2");
		wk[0] = B("w");
		versions_RecordV2_init(&v);
		v.id = 77;
		v.name = B("seventy-seven");
		v.tags.v = tags;
		v.tags.n = 2;
		v.nested.text = B("inner");
		v.nested.numbers.v = numbers;
		v.nested.numbers.n = 3;
		v.weights.k = wk;
		v.weights.v = wv;
		v.weights.n = 1;
		v.score = 1e300;
		v.seen.v = seen;
		v.seen.n = 2;
		v.flag = true;
		v.raw = B("\x01\x02");
		return versions_RecordV2_write(proto, w, &v);
	}
	fprintf(stderr, "wire_driver: unknown case %s\n", name);
	exit(2);
}

/* Decodes a TYPE twice (whole, split into 7-byte segments), checks both agree, re-encodes. */
#define ROUNDTRIP(T)                                                                                            \
	do {                                                                                                    \
		struct T a, b;                                                                                  \
		int rc;                                                                                         \
                                                                                                                \
		reader_whole(&r, &seg, &arena, arena_mem);                                                      \
		if ((rc = T##_read(proto, &r, &a)) != 0)                                                        \
			die("decode " #T, rc);                                                                  \
		if (gale_codec_reader_offset(&r) != in_len)                                                     \
			die("decode " #T " left bytes", -1);                                                    \
		reader_split(&r, &arena2, arena_mem2);                                                          \
		if ((rc = T##_read(proto, &r, &b)) != 0)                                                        \
			die("decode split " #T, rc);                                                            \
		if (!T##_equal(&a, &b))                                                                         \
			die("split decode differs " #T, -1);                                                    \
		if (getenv("WIRE_PRINT") != NULL) {                                                             \
			T##_print(stderr, &a);                                                                  \
			fputc('\n', stderr);                                                                    \
		}                                                                                               \
		if ((rc = T##_write(proto, &w, &a)) != 0)                                                       \
			die("encode " #T, rc);                                                                  \
		found = 1;                                                                                      \
	} while (0)

static int
roundtrip(const char *type, int proto)
{
	struct gale_codec_reader r;
	struct gale_codec_writer w;
	struct gale_codec_seg seg;
	struct gale_arena arena, arena2;
	int found = 0;

	read_stdin();
	writer(&w);
	if (strcmp(type, "Everything") == 0)
		ROUNDTRIP(demo_Everything);
	else if (strcmp(type, "Value") == 0)
		ROUNDTRIP(demo_Value);
	else if (strcmp(type, "NotFound") == 0)
		ROUNDTRIP(demo_NotFound);
	else if (strcmp(type, "Invalid") == 0)
		ROUNDTRIP(demo_Invalid);
	else if (strcmp(type, "Legacy") == 0)
		ROUNDTRIP(demo_Legacy);
	else if (strcmp(type, "Recursive") == 0)
		ROUNDTRIP(demo_Recursive);
	else if (strcmp(type, "ByReference") == 0)
		ROUNDTRIP(demo_ByReference);
	else if (strcmp(type, "RecordV1") == 0)
		ROUNDTRIP(versions_RecordV1);
	else if (strcmp(type, "RecordV2") == 0)
		ROUNDTRIP(versions_RecordV2);
	if (!found) {
		fprintf(stderr, "wire_driver: unknown type %s\n", type);
		return 2;
	}
	flush(&w);
	return 0;
}

/*
 * Every proper prefix of a message, in a reader that is not final (more may arrive), must decode to
 * GALE_CODEC_NEED_MORE, never to success or "malformed"; the whole message must decode. The prefix is copied
 * into a buffer of exactly its size so ASan catches a read past it.
 */
#define PREFIXES(T)                                                                                             \
	do {                                                                                                    \
		size_t k;                                                                                       \
                                                                                                                \
		for (k = 0; k <= in_len; k++) {                                                                 \
			uint8_t *copy = malloc(k ? k : 1);                                                      \
			struct gale_codec_seg sg = { copy, k };                                                 \
			struct T v;                                                                             \
			int rc;                                                                                 \
                                                                                                                \
			memcpy(copy, in_buf, k);                                                                \
			gale_arena_init(&arena, arena_mem, sizeof(arena_mem));                                  \
			gale_codec_reader_init(&r, &sg, 1, NULL, &arena);                                       \
			rc = T##_read(proto, &r, &v);                                                           \
			free(copy);                                                                             \
			if (k < in_len && rc != GALE_CODEC_NEED_MORE) {                                         \
				fprintf(stderr, "prefix %zu of %zu: %d, want -2\n", k, in_len, rc);            \
				return 1;                                                                       \
			}                                                                                       \
			if (k == in_len && rc != 0) {                                                           \
				fprintf(stderr, "whole message: %d\n", rc);                                    \
				return 1;                                                                       \
			}                                                                                       \
		}                                                                                               \
		found = 1;                                                                                      \
	} while (0)

static int
prefixes(const char *type, int proto)
{
	struct gale_codec_reader r;
	struct gale_arena arena;
	int found = 0;

	read_stdin();
	if (strcmp(type, "Everything") == 0)
		PREFIXES(demo_Everything);
	else if (strcmp(type, "Value") == 0)
		PREFIXES(demo_Value);
	else if (strcmp(type, "RecordV1") == 0)
		PREFIXES(versions_RecordV1);
	return found ? 0 : 2;
}

/* ---- service handlers (server side) ---- */

static int
h_ping(void *user, const struct shared_Base_ping_args *args, struct shared_Base_ping_result *res)
{
	(void)user;
	(void)args;
	res->success = B("pong");
	GALE_SET(res, shared_Base_ping_result_F_success);
	return 0;
}

static int
h_uptime(void *user, const struct shared_Base_uptime_args *args, struct shared_Base_uptime_result *res)
{
	(void)user;
	(void)args;
	res->err.code = 503;
	res->err.message = B("down");
	GALE_SET(res, shared_Base_uptime_result_F_err);
	return 0;
}

static int
h_get(void *user, const struct demo_Store_get_args *args, struct demo_Store_get_result *res)
{
	(void)user;
	if (args->key.len == 7 && memcmp(args->key.ptr, "missing", 7) == 0) {
		res->nf.key = args->key;
		res->nf.code = 404;
		GALE_SET(&res->nf, demo_NotFound_F_code);
		GALE_SET(res, demo_Store_get_result_F_nf);
		return 0;
	}
	if (args->key.len == 7 && memcmp(args->key.ptr, "timeout", 7) == 0) {
		res->success.int_value = GALE_ISSET(args, demo_Store_get_args_F_timeout_ms) ? args->timeout_ms : -1;
		GALE_SET(&res->success, demo_Value_F_int_value);
	} else {
		res->success.string_value = args->key;
		GALE_SET(&res->success, demo_Value_F_string_value);
	}
	GALE_SET(res, demo_Store_get_result_F_success);
	return 0;
}

static int
h_put(void *user, const struct demo_Store_put_args *args, struct demo_Store_put_result *res)
{
	(void)user;
	if (GALE_ISSET(&args->value, demo_Value_F_bool_value)) {
		static struct gale_codec_bytes details[1];

		details[0] = args->key;
		res->bad.why = B("bool values are refused");
		res->bad.details.v = details;
		res->bad.details.n = 1;
		GALE_SET(res, demo_Store_put_result_F_bad);
	}
	return 0;
}

static int
h_forget(void *user, const struct demo_Store_forget_args *args)
{
	(void)user;
	fprintf(stderr, "forget %.*s\n", (int)args->key.len, (const char *)args->key.ptr);
	return 0;
}

static int
h_count(void *user, const struct demo_AdminStore_count_args *args, struct demo_AdminStore_count_result *res)
{
	(void)user;
	res->success = (int32_t)(args->owner * 2);
	GALE_SET(res, demo_AdminStore_count_result_F_success);
	return 0;
}

static const struct shared_Base_handlers base_handlers = { .ping = h_ping, .uptime = h_uptime };
static const struct demo_Store_handlers store_handlers = { .base = &base_handlers, .get = h_get, .put = h_put,
							   .forget = h_forget };
static const struct demo_AdminStore_handlers admin = { .base = &store_handlers, .count = h_count };

static int
serve(int proto)
{
	struct gale_codec_reader r;
	struct gale_codec_writer w;
	struct gale_codec_seg seg;
	struct gale_arena arena;
	struct gale_codec_bytes name;
	uint8_t type;
	int32_t seqid;
	int rc;

	read_stdin();
	reader_whole(&r, &seg, &arena, arena_mem);
	writer(&w);
	rc = proto == GALE_PROTO_COMPACT ? gale_compact_read_message_begin(&r, &name, &type, &seqid) :
					   gale_binary_read_message_begin(&r, &name, &type, &seqid);
	if (rc != 0)
		die("read_message_begin", rc);
	rc = demo_AdminStore_dispatch(&admin, NULL, proto, (const char *)name.ptr, name.len, seqid, &r, &w);
	if (rc == -ENOENT)
		return 3;
	if (rc != 0)
		die("dispatch", rc);
	flush(&w);
	return 0;
}

static int
send_get(int proto)
{
	struct demo_Store_get_args args;
	struct gale_codec_writer w;
	int rc;

	demo_Store_get_args_init(&args);
	args.key = B("k1");
	args.timeout_ms = 250;
	GALE_SET(&args, demo_Store_get_args_F_timeout_ms);
	writer(&w);
	if ((rc = demo_Store_get_send(proto, &w, 7, &args)) != 0)
		die("get_send", rc);
	flush(&w);
	return 0;
}

static int
recv_get(int proto, const char *expect)
{
	struct demo_Store_get_result res, want;
	struct gale_codec_reader r;
	struct gale_codec_seg seg;
	struct gale_arena arena;
	int rc;

	read_stdin();
	reader_whole(&r, &seg, &arena, arena_mem);
	rc = demo_Store_get_recv(proto, &r, &res);
	demo_Store_get_result_init(&want);
	if (strcmp(expect, "appex") == 0) {
		if (rc != -EREMOTEIO)
			die("recv_get appex: want -EREMOTEIO", rc);
		return 0;
	}
	if (rc != 0)
		die("get_recv", rc);
	if (strcmp(expect, "double") == 0) {
		want.success.double_value = 2.5;
		GALE_SET(&want.success, demo_Value_F_double_value);
		GALE_SET(&want, demo_Store_get_result_F_success);
	} else {
		want.nf.key = B("x");
		want.nf.code = 404; /* Apache's Python writes optional fields that hold their default */
		GALE_SET(&want.nf, demo_NotFound_F_code);
		GALE_SET(&want, demo_Store_get_result_F_nf);
	}
	demo_Store_get_result_print(stderr, &res);
	fputc('\n', stderr);
	if (!demo_Store_get_result_equal(&res, &want))
		die("recv_get: result differs", -1);
	return 0;
}

/* ---- generic decoding ---- */

static int
generic(const char *type, int proto)
{
	static const struct {
		const char *name;
		const struct gale_tc_struct_desc *desc;
	} types[] = {
		{ "Everything", &demo_Everything_desc }, { "Value", &demo_Value_desc },
		{ "RecordV1", &versions_RecordV1_desc }, { "RecordV2", &versions_RecordV2_desc },
		{ "none", NULL },
	};
	struct gale_tc_type_desc td = { GALE_T_STRUCT, 0, NULL, NULL, NULL };
	struct gale_codec_reader r;
	struct gale_codec_seg seg;
	struct gale_arena arena;
	struct gale_tc_value v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, type) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0]))
		return 2;
	td.st = types[i].desc;
	read_stdin();
	reader_whole(&r, &seg, &arena, arena_mem);
	if ((rc = gale_tc_generic_read(proto, &r, GALE_T_STRUCT, &v)) != 0)
		die("generic_read", rc);
	if (gale_codec_reader_offset(&r) != in_len)
		die("generic_read left bytes", -1);
	return gale_tc_generic_json(stdout, &v, td.st != NULL ? &td : NULL) != 0;
}

/* ---- a loopback channel: the generated client stubs against the generated dispatch, no network ---- */

static uint8_t req_buf[1 << 16], rep_buf[1 << 16];

struct loop {
	int proto;
	int32_t seqid;
	gale_tc_done_cb_t pending_done; /**< async completion to run from the "event loop" */
	void *pending_arg;
	int pending_status;
};

static int
loop_call(void *chan, const struct gale_tc_call *call)
{
	struct loop *lp = chan;
	struct gale_codec_wseg ws = { req_buf, sizeof(req_buf), 0 }, rs = { rep_buf, sizeof(rep_buf), 0 };
	struct gale_codec_writer w;
	struct gale_codec_reader r;
	struct gale_codec_seg seg;
	struct gale_arena arena;
	struct gale_codec_bytes name;
	uint8_t type;
	int32_t seqid = ++lp->seqid, got_seqid;
	int rc;

	gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
	rc = lp->proto == GALE_PROTO_COMPACT ?
		     gale_compact_write_message_begin(&w, call->method, call->method_len,
						      call->oneway ? GALE_MSG_ONEWAY : GALE_MSG_CALL, seqid) :
		     gale_binary_write_message_begin(&w, call->method, call->method_len,
						     call->oneway ? GALE_MSG_ONEWAY : GALE_MSG_CALL, seqid);
	if (rc != 0 || (rc = call->write_args(lp->proto, &w, call->args)) != 0)
		return rc;
	gale_codec_writer_finish(&w);

	/* server side */
	seg.base = req_buf;
	seg.len = ws.len;
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	gale_codec_reader_init(&r, &seg, 1, NULL, &arena);
	rc = lp->proto == GALE_PROTO_COMPACT ? gale_compact_read_message_begin(&r, &name, &type, &got_seqid) :
					       gale_binary_read_message_begin(&r, &name, &type, &got_seqid);
	if (rc != 0)
		return rc;
	gale_codec_writer_init(&w, &rs, 1, 1, NULL, NULL);
	rc = demo_AdminStore_dispatch(&admin, NULL, lp->proto, (const char *)name.ptr, name.len, got_seqid, &r, &w);
	if (rc != 0 || call->oneway)
		return rc;
	gale_codec_writer_finish(&w);

	/* client side: the envelope is the channel's, the result the stub's */
	seg.base = rep_buf;
	seg.len = rs.len;
	gale_arena_init(&arena, arena_mem2, sizeof(arena_mem2));
	gale_codec_reader_init(&r, &seg, 1, NULL, &arena);
	rc = lp->proto == GALE_PROTO_COMPACT ? gale_compact_read_message_begin(&r, &name, &type, &got_seqid) :
					       gale_binary_read_message_begin(&r, &name, &type, &got_seqid);
	if (rc != 0)
		return rc;
	if (type != GALE_MSG_REPLY || got_seqid != seqid || name.len != call->method_len ||
	    memcmp(name.ptr, call->method, name.len) != 0)
		return -EBADMSG;
	return call->read_result(lp->proto, &r, call->result);
}

static int
loop_call_async(void *chan, const struct gale_tc_call *call, gale_tc_done_cb_t done, void *arg)
{
	struct loop *lp = chan;

	if (lp->pending_done != NULL)
		return -EBUSY;
	lp->pending_status = loop_call(chan, call);
	lp->pending_done = done;
	lp->pending_arg = arg;
	return 0;
}

static void
on_done(void *arg, int status)
{
	int *st = arg;

	st[0]++;
	st[1] = status;
}

static void
expect(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "wire_driver: loopback: %s\n", what);
		exit(1);
	}
}

static int
loopback(int proto)
{
	static const struct gale_tc_channel_ops ops = { loop_call, loop_call_async };
	struct loop lp = { proto, 100, NULL, NULL, 0 };
	struct gale_tc_channel ch = { &ops, &lp };
	struct demo_Store_get_args ga;
	struct demo_Store_get_result gr;
	struct shared_Base_ping_args pa;
	struct shared_Base_ping_result pr;
	struct demo_AdminStore_count_args ca;
	struct demo_AdminStore_count_result cr;
	struct demo_Store_forget_args fa;
	int st[2] = { 0, 0 };

	demo_Store_get_args_init(&ga);
	ga.key = B("missing");
	expect(demo_Store_get_call(&ch, &ga, &gr) == 0, "get");
	expect(GALE_ISSET(&gr, demo_Store_get_result_F_nf) && !GALE_ISSET(&gr, demo_Store_get_result_F_success) &&
		       gr.nf.code == 404 && gr.nf.key.len == 7,
	       "get: NotFound expected");
	ga.key = B("timeout");
	ga.timeout_ms = 31;
	GALE_SET(&ga, demo_Store_get_args_F_timeout_ms);
	expect(demo_Store_get_call(&ch, &ga, &gr) == 0 && GALE_ISSET(&gr, demo_Store_get_result_F_success) &&
		       GALE_ISSET(&gr.success, demo_Value_F_int_value) && gr.success.int_value == 31,
	       "get: int_value 31 expected");
	shared_Base_ping_args_init(&pa);
	/* An inherited method called through the derived service's dispatch. */
	expect(shared_Base_ping_call(&ch, &pa, &pr) == 0 && pr.success.len == 4 && memcmp(pr.success.ptr, "pong", 4) == 0,
	       "ping");
	demo_AdminStore_count_args_init(&ca);
	ca.owner = 1000;
	expect(demo_AdminStore_count_call_async(&ch, &ca, &cr, on_done, st) == 0, "count_async start");
	expect(st[0] == 0, "async completion ran before the loop");
	lp.pending_done(lp.pending_arg, lp.pending_status);
	lp.pending_done = NULL;
	expect(st[0] == 1 && st[1] == 0 && cr.success == 2000, "count_async result");
	demo_Store_forget_args_init(&fa);
	fa.key = B("bye");
	expect(demo_Store_forget_call(&ch, &fa) == 0, "oneway forget");
	printf("loopback ok (%s): %d calls\n", proto == GALE_PROTO_COMPACT ? "compact" : "binary", lp.seqid - 100);
	return 0;
}

int
main(int argc, char **argv)
{
	int proto;

	if (argc < 3) {
		fprintf(stderr, "usage: wire_driver MODE ARG... PROTO\n");
		return 2;
	}
	proto = strcmp(argv[argc - 1], "compact") == 0 ? GALE_PROTO_COMPACT : GALE_PROTO_BINARY;
	if (strcmp(argv[1], "recv_get") == 0 && argc == 4) {
		proto = strcmp(argv[2], "compact") == 0 ? GALE_PROTO_COMPACT : GALE_PROTO_BINARY;
		return recv_get(proto, argv[3]);
	}
	if (strcmp(argv[1], "encode") == 0 && argc == 4) {
		struct gale_codec_writer w;
		int rc;

		writer(&w);
		if ((rc = encode_case(argv[2], proto, &w)) != 0)
			die("encode", rc);
		flush(&w);
		return 0;
	}
	if (strcmp(argv[1], "prefixes") == 0 && argc == 4)
		return prefixes(argv[2], proto);
	if (strcmp(argv[1], "roundtrip") == 0 && argc == 4)
		return roundtrip(argv[2], proto);
	if (strcmp(argv[1], "serve") == 0)
		return serve(proto);
	if (strcmp(argv[1], "generic") == 0 && argc == 4)
		return generic(argv[2], proto);
	if (strcmp(argv[1], "loopback") == 0)
		return loopback(proto);
	if (strcmp(argv[1], "send_get") == 0)
		return send_get(proto);
	fprintf(stderr, "wire_driver: bad arguments\n");
	return 2;
}
