/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale_msgs.c: gale's side of the codec benchmark, over the C that gale-thriftc generates from bench.thrift at
 * build time (bench.c, bench.h): no hand-written codec here, so the benchmark measures what applications run.
 * The four messages (a small RPC request, a 1 KiB echo, an order with a list of ten items, a map and a nested
 * struct, and a cart with lists of strings and of i64, an optional field and a binary) are built with the values
 * bench.cpp gives Apache Thrift's generated C++ types, so the two encodings must be byte-identical (bench.cpp
 * checks before timing).
 *
 * A round trip is what a server does per request: reset the request arena, decode the message (envelope and
 * struct) from the input bytes, encode it again into an output buffer. Strings and binaries decode as views
 * into the input.
 */
#include <stdint.h>
#include <string.h>

#include <gale/arena.h>
#include <gale/binary.h>
#include <gale/codec.h>
#include <gale/compact.h>

#include "bench.h"
#include "gale_msgs.h"

#define S(lit) ((struct gale_codec_bytes){(const uint8_t *)(lit), sizeof(lit) - 1})

union bench_any {
	struct bench_Request req;
	struct bench_Echo echo;
	struct bench_Order order;
	struct bench_Cart cart;
};

static struct gale_codec_bytes req_k[2], req_v[2];
static uint8_t echo_data[1024];
static int32_t item_tags[10][4];
static char item_names[10][8];
static struct bench_Item items[10];
static char attr_keys[5][3];
static struct gale_codec_bytes attr_k[5];
static int64_t attr_v[5];
static struct bench_CartItem citems[10];
static struct gale_codec_bytes ctags[10][3];
static char cnames[10][16];
static struct gale_codec_bytes cak[5], cav[5];
static int64_t chistory[16];
static uint8_t cpayload[64];
static union bench_any msgs[GALE_BENCH_NMSG];
static int built;

static void
build_cart(struct bench_Cart *o)
{
	int i;

	for (i = 0; i < 10; i++) {
		bench_CartItem_init(&citems[i]);
		citems[i].id = 1000000 + i;
		memcpy(cnames[i], "item-number-0", 14);
		cnames[i][12] = (char)('0' + i);
		citems[i].name.ptr = (const uint8_t *)cnames[i];
		citems[i].name.len = 13;
		citems[i].price = 9.99 * (i + 1);
		ctags[i][0] = S("red");
		ctags[i][1] = S("large");
		ctags[i][2] = S("sale");
		citems[i].tags.v = ctags[i];
		citems[i].tags.n = 3;
		citems[i].active = i % 2 == 0;
		citems[i].quantity = i + 1;
	}
	/* Key order as Apache C++'s std::map keeps them. */
	cak[0] = S("channel"), cav[0] = S("web");
	cak[1] = S("coupon"), cav[1] = S("SPRING24");
	cak[2] = S("currency"), cav[2] = S("EUR");
	cak[3] = S("device"), cav[3] = S("mobile");
	cak[4] = S("region"), cav[4] = S("eu-west");
	for (i = 0; i < 16; i++)
		chistory[i] = 1700000000000LL + i * 3600000LL;
	for (i = 0; i < 64; i++)
		cpayload[i] = (uint8_t)(i * 7);
	bench_Cart_init(o);
	o->order_id = 123456789012LL;
	o->customer = S("customer-42@example.com");
	o->items.v = citems;
	o->items.n = 10;
	o->attrs.k = cak;
	o->attrs.v = cav;
	o->attrs.n = 5;
	o->status = 3;
	o->note = S("leave at the door");
	GALE_SET(o, bench_Cart_F_note);
	o->payload.ptr = cpayload;
	o->payload.len = 64;
	o->history.v = chistory;
	o->history.n = 16;
}

static void
build(void)
{
	struct bench_Request *req = &msgs[GALE_BENCH_REQUEST].req;
	struct bench_Echo *echo = &msgs[GALE_BENCH_ECHO].echo;
	struct bench_Order *order = &msgs[GALE_BENCH_ORDER].order;
	int i, j;

	if (built)
		return;
	bench_Request_init(req);
	req_k[0] = S("caller");
	req_v[0] = S("frontend");
	req_k[1] = S("trace-id");
	req_v[1] = S("4bf92f3577b34da6a3ce929d0e0e4736");
	req->id = 1234567890123ll;
	req->method = S("getUserProfile");
	req->timeout_ms = 500;
	req->meta.k = req_k;
	req->meta.v = req_v;
	req->meta.n = 2;
	req->flag = true;
	bench_Echo_init(echo);
	for (i = 0; i < 1024; i++)
		echo_data[i] = (uint8_t)(i * 31 + 7);
	echo->data.ptr = echo_data;
	echo->data.len = 1024;
	for (i = 0; i < 10; i++) {
		bench_Item_init(&items[i]);
		for (j = 0; j < 4; j++)
			item_tags[i][j] = i + j;
		memcpy(item_names[i], "item-0", 7);
		item_names[i][5] = (char)('0' + i);
		items[i].id = 1000 + i;
		items[i].name.ptr = (const uint8_t *)item_names[i];
		items[i].name.len = 6;
		items[i].price = 9.99 + i;
		items[i].tags.v = item_tags[i];
		items[i].tags.n = 4;
	}
	for (i = 0; i < 5; i++) {
		attr_keys[i][0] = 'k';
		attr_keys[i][1] = (char)('0' + i);
		attr_k[i].ptr = (const uint8_t *)attr_keys[i];
		attr_k[i].len = 2;
		attr_v[i] = i * 1000;
	}
	bench_Order_init(order);
	order->id = 42;
	order->customer = S("Ada Lovelace");
	order->items.v = items;
	order->items.n = 10;
	order->attrs.k = attr_k;
	order->attrs.v = attr_v;
	order->attrs.n = 5;
	order->addr.street = S("12 Analytical Engine Way");
	order->addr.city = S("London");
	order->addr.zip = 10001;
	build_cart(&msgs[GALE_BENCH_CART].cart);
	built = 1;
}

/*
 * One loop per (message, protocol), with the generated functions called by name: the dispatch on the message and
 * protocol happens once per run, not per message, as on Apache's side, where each message type's loop is its own
 * template instance. A round trip resets the arena, sets up a reader and a writer (as the runtime does per
 * request), decodes, then encodes what it decoded, the envelope included (name, type and seqid as read, as
 * bench.cpp does for Apache).
 */
#define GALE__BENCH_LOOP(fn, T, idx, mem, pr)                                                                    \
	static size_t fn(int op, const uint8_t *in, size_t len, long iters)                                   \
	{                                                                                                       \
		static uint8_t arena_mem[16384] __attribute__((aligned(64)));                                   \
		static uint8_t out[8192] __attribute__((aligned(64)));                                          \
		struct gale_codec_seg seg = {in, len};                                                          \
		struct gale_arena arena;                                                                        \
		struct gale_codec_reader r;                                                                     \
		struct gale_codec_wseg ws;                                                                      \
		struct gale_codec_writer w;                                                                     \
		struct gale_codec_bytes name;                                                                   \
		uint8_t type;                                                                                   \
		int32_t seqid;                                                                                  \
		struct T m;                                                                                     \
		const struct T *src = op == GALE_BENCH_ENCODE ? &msgs[idx].mem : &m;                           \
		size_t n = 0;                                                                                   \
		long i;                                                                                         \
                                                                                                                \
		gale_arena_init(&arena, arena_mem, sizeof(arena_mem));                                          \
		name = S("call"); /* encode alone: the envelope bench.cpp gives Apache; else the one decoded */ \
		type = GALE_MSG_CALL;                                                                           \
		seqid = 7;                                                                                      \
		ws.base = out; /* one output buffer, reused (as Apache's TMemoryBuffer is) */                  \
		ws.cap = sizeof(out);                                                                           \
		for (i = 0; i < iters; i++) {                                                                   \
			if (op != GALE_BENCH_ENCODE) {                                                          \
				gale_arena_reset(&arena);                                                       \
				gale_codec_reader_init(&r, &seg, 1, NULL, &arena);                              \
				if (gale_##pr##_read_message_begin(&r, &name, &type, &seqid) != 0 ||            \
				    T##_read_##pr(&r, &m) != 0)                                                 \
					return 0;                                                               \
				if (op == GALE_BENCH_DECODE) {                                                  \
					n = (size_t)(r.cur - in);                                               \
					__asm__ volatile("" : : "r"(&m) : "memory");                            \
					continue;                                                               \
				}                                                                               \
			}                                                                                       \
			gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);                                      \
			if (gale_##pr##_write_message_begin(&w, (const char *)name.ptr, name.len, type, seqid) != 0 || \
			    T##_write_##pr(&w, src) != 0)                                                       \
				return 0;                                                                       \
			n = gale_codec_writer_offset(&w);                                                       \
			__asm__ volatile("" : : "r"(out) : "memory");                                           \
		}                                                                                               \
		return n;                                                                                       \
	}

GALE__BENCH_LOOP(run_request_binary, bench_Request, GALE_BENCH_REQUEST, req, binary)
GALE__BENCH_LOOP(run_echo_binary, bench_Echo, GALE_BENCH_ECHO, echo, binary)
GALE__BENCH_LOOP(run_order_binary, bench_Order, GALE_BENCH_ORDER, order, binary)
GALE__BENCH_LOOP(run_cart_binary, bench_Cart, GALE_BENCH_CART, cart, binary)
GALE__BENCH_LOOP(run_request_compact, bench_Request, GALE_BENCH_REQUEST, req, compact)
GALE__BENCH_LOOP(run_echo_compact, bench_Echo, GALE_BENCH_ECHO, echo, compact)
GALE__BENCH_LOOP(run_order_compact, bench_Order, GALE_BENCH_ORDER, order, compact)
GALE__BENCH_LOOP(run_cart_compact, bench_Cart, GALE_BENCH_CART, cart, compact)

size_t
gale_bench_encode(int msg, int proto, uint8_t *buf, size_t cap)
{
	struct gale_codec_wseg seg = {buf, cap, 0};
	struct gale_codec_writer w;
	const union bench_any *m = &msgs[msg];
	int rc;

	build();
	gale_codec_writer_init(&w, &seg, 1, 1, NULL, NULL);
	if (proto == GALE_PROTO_COMPACT) {
		rc = gale_compact_write_message_begin(&w, "call", 4, GALE_MSG_CALL, 7);
		if (rc == 0)
			rc = msg == GALE_BENCH_REQUEST ? bench_Request_write_compact(&w, &m->req)
			     : msg == GALE_BENCH_ECHO  ? bench_Echo_write_compact(&w, &m->echo)
			     : msg == GALE_BENCH_ORDER ? bench_Order_write_compact(&w, &m->order)
						       : bench_Cart_write_compact(&w, &m->cart);
	} else {
		rc = gale_binary_write_message_begin(&w, "call", 4, GALE_MSG_CALL, 7);
		if (rc == 0)
			rc = msg == GALE_BENCH_REQUEST ? bench_Request_write_binary(&w, &m->req)
			     : msg == GALE_BENCH_ECHO  ? bench_Echo_write_binary(&w, &m->echo)
			     : msg == GALE_BENCH_ORDER ? bench_Order_write_binary(&w, &m->order)
						       : bench_Cart_write_binary(&w, &m->cart);
	}
	return rc == 0 ? gale_codec_writer_offset(&w) : 0;
}

size_t
gale_bench_run(int op, int msg, int proto, const uint8_t *in, size_t len, long iters)
{
	static size_t (*const loops[2][GALE_BENCH_NMSG])(int, const uint8_t *, size_t, long) = {
		{run_request_binary, run_echo_binary, run_order_binary, run_cart_binary},
		{run_request_compact, run_echo_compact, run_order_compact, run_cart_compact},
	};

	build();
	return loops[proto == GALE_PROTO_COMPACT][msg](op, in, len, iters);
}
