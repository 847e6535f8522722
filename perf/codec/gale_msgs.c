/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale_msgs.c: gale's side of the codec benchmark. The three messages (a small RPC request, a 1 KiB echo, an
 * order with a list of ten items, a map and a nested struct) are built here with the same values bench.cpp gives
 * Apache Thrift's generated C++ types, so the two encodings must be byte-identical (bench.cpp checks).
 *
 * A round trip is what a server does per request: reset the request arena, decode the message (envelope and
 * struct) from the input bytes, encode it again into an output buffer. Strings decode as views into the input.
 */
#include <stdint.h>
#include <string.h>

#include <gale/arena.h>
#include <gale/binary.h>
#include <gale/codec.h>
#include <gale/compact.h>

#include "gale_msgs.h"

struct bench_kv {
	struct gale_codec_bytes k, v;
};

struct bench_request {
	int64_t id;
	struct gale_codec_bytes method;
	int32_t timeout_ms;
	uint32_t n_meta;
	struct bench_kv *meta;
	uint8_t flag;
};

struct bench_echo {
	struct gale_codec_bytes data;
};

struct bench_item {
	int64_t id;
	struct gale_codec_bytes name;
	double price;
	uint32_t n_tags;
	int32_t *tags;
};

struct bench_address {
	struct gale_codec_bytes street, city;
	int32_t zip;
};

struct bench_skv {
	struct gale_codec_bytes k;
	int64_t v;
};

struct bench_order {
	int64_t id;
	struct gale_codec_bytes customer;
	uint32_t n_items;
	struct bench_item *items;
	uint32_t n_attrs;
	struct bench_skv *attrs;
	struct bench_address addr;
};

#define P(x) gale_binary_##x
#define N(x) bin_##x
#include "gale_msgs_tmpl.h"
#undef P
#undef N
#define P(x) gale_compact_##x
#define N(x) cpt_##x
#include "gale_msgs_tmpl.h"
#undef P
#undef N

#define S(lit) ((struct gale_codec_bytes){(const uint8_t *)(lit), sizeof(lit) - 1})

static struct bench_kv req_meta[2];
static struct bench_request req;
static uint8_t echo_data[1024];
static struct bench_echo echo;
static int32_t item_tags[10][4];
static char item_names[10][8];
static struct bench_item items[10];
static char attr_keys[5][3];
static struct bench_skv attrs[5];
static struct bench_order order;
static int built;

static void
build(void)
{
	int i, j;

	if (built)
		return;
	req_meta[0].k = S("caller");
	req_meta[0].v = S("frontend");
	req_meta[1].k = S("trace-id");
	req_meta[1].v = S("4bf92f3577b34da6a3ce929d0e0e4736");
	req.id = 1234567890123ll;
	req.method = S("getUserProfile");
	req.timeout_ms = 500;
	req.n_meta = 2;
	req.meta = req_meta;
	req.flag = 1;
	for (i = 0; i < 1024; i++)
		echo_data[i] = (uint8_t)(i * 31 + 7);
	echo.data.ptr = echo_data;
	echo.data.len = 1024;
	for (i = 0; i < 10; i++) {
		for (j = 0; j < 4; j++)
			item_tags[i][j] = i + j;
		memcpy(item_names[i], "item-0", 7);
		item_names[i][5] = (char)('0' + i);
		items[i].id = 1000 + i;
		items[i].name.ptr = (const uint8_t *)item_names[i];
		items[i].name.len = 6;
		items[i].price = 9.99 + i;
		items[i].n_tags = 4;
		items[i].tags = item_tags[i];
	}
	for (i = 0; i < 5; i++) {
		attr_keys[i][0] = 'k';
		attr_keys[i][1] = (char)('0' + i);
		attrs[i].k.ptr = (const uint8_t *)attr_keys[i];
		attrs[i].k.len = 2;
		attrs[i].v = i * 1000;
	}
	order.id = 42;
	order.customer = S("Ada Lovelace");
	order.n_items = 10;
	order.items = items;
	order.n_attrs = 5;
	order.attrs = attrs;
	order.addr.street = S("12 Analytical Engine Way");
	order.addr.city = S("London");
	order.addr.zip = 10001;
	built = 1;
}

union bench_any {
	struct bench_request req;
	struct bench_echo echo;
	struct bench_order order;
};

static int
write_msg(struct gale_codec_writer *w, int msg, int proto, const union bench_any *m)
{
	if (proto == GALE_PROTO_COMPACT) {
		if (gale_compact_write_message_begin(w, "call", 4, GALE_MSG_CALL, 7))
			return -1;
		switch (msg) {
		case GALE_BENCH_REQUEST:
			return cpt_write_request(w, &m->req);
		case GALE_BENCH_ECHO:
			return cpt_write_echo(w, &m->echo);
		default:
			return cpt_write_order(w, &m->order);
		}
	}
	if (gale_binary_write_message_begin(w, "call", 4, GALE_MSG_CALL, 7))
		return -1;
	switch (msg) {
	case GALE_BENCH_REQUEST:
		return bin_write_request(w, &m->req);
	case GALE_BENCH_ECHO:
		return bin_write_echo(w, &m->echo);
	default:
		return bin_write_order(w, &m->order);
	}
}

static int
read_msg(struct gale_codec_reader *r, struct gale_arena *a, int msg, int proto, union bench_any *m)
{
	struct gale_codec_bytes name;
	uint8_t type;
	int32_t seqid;
	int rc;

	if (proto == GALE_PROTO_COMPACT) {
		if ((rc = gale_compact_read_message_begin(r, &name, &type, &seqid)) != 0)
			return rc;
		switch (msg) {
		case GALE_BENCH_REQUEST:
			return cpt_read_request(r, a, &m->req);
		case GALE_BENCH_ECHO:
			return cpt_read_echo(r, a, &m->echo);
		default:
			return cpt_read_order(r, a, &m->order);
		}
	}
	if ((rc = gale_binary_read_message_begin(r, &name, &type, &seqid)) != 0)
		return rc;
	switch (msg) {
	case GALE_BENCH_REQUEST:
		return bin_read_request(r, a, &m->req);
	case GALE_BENCH_ECHO:
		return bin_read_echo(r, a, &m->echo);
	default:
		return bin_read_order(r, a, &m->order);
	}
}

size_t
gale_bench_encode(int msg, int proto, uint8_t *buf, size_t cap)
{
	struct gale_codec_wseg seg = {buf, cap, 0};
	struct gale_codec_writer w;
	union bench_any m;

	build();
	if (msg == GALE_BENCH_REQUEST)
		m.req = req;
	else if (msg == GALE_BENCH_ECHO)
		m.echo = echo;
	else
		m.order = order;
	gale_codec_writer_init(&w, &seg, 1, 1, NULL, NULL);
	if (write_msg(&w, msg, proto, &m) != 0)
		return 0;
	return gale_codec_writer_offset(&w);
}

size_t
gale_bench_roundtrip(int msg, int proto, const uint8_t *in, size_t len, long iters)
{
	static uint8_t arena_mem[16384] __attribute__((aligned(64)));
	static uint8_t out[8192] __attribute__((aligned(64)));
	struct gale_codec_seg seg = {in, len};
	struct gale_arena arena;
	struct gale_codec_reader r;
	struct gale_codec_wseg ws;
	struct gale_codec_writer w;
	union bench_any m;
	size_t n = 0;
	long i;

	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	for (i = 0; i < iters; i++) {
		gale_arena_reset(&arena);
		gale_codec_reader_init(&r, &seg, 1, NULL, &arena);
		/* Zero only the message being decoded (a memset of the whole union becomes a slow rep stos). */
		if (msg == GALE_BENCH_REQUEST)
			memset(&m.req, 0, sizeof(m.req));
		else if (msg == GALE_BENCH_ECHO)
			memset(&m.echo, 0, sizeof(m.echo));
		else
			memset(&m.order, 0, sizeof(m.order));
		if (read_msg(&r, &arena, msg, proto, &m) != 0)
			return 0;
		ws.base = out;
		ws.cap = sizeof(out);
		ws.len = 0;
		gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
		if (write_msg(&w, msg, proto, &m) != 0)
			return 0;
		n = gale_codec_writer_offset(&w);
		__asm__ volatile("" : : "r"(out) : "memory");
	}
	return n;
}
