/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire compatibility with Apache Thrift's generated C++, gale side: the Order of order.thrift built with the C
 * that gale-thriftc generates. "dump PROTO" writes its encoding to stdout; "check PROTO" decodes stdin and exits
 * 0 when it equals the Order. compat_apache.cpp does the same with Apache's C++; test_cpp_compat.sh runs both
 * ways and compares the bytes. (The benchmark of this message lives in perf/codec, message "cart".)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/binary.h>
#include <gale/compact.h>

#include "order.h"

static struct gale_codec_bytes
B(const char *s)
{
	struct gale_codec_bytes b = { (const uint8_t *)s, (uint32_t)strlen(s) };

	return b;
}

static void
build(struct bench_Order *o)
{
	static struct bench_Item items[10];
	static struct gale_codec_bytes tags[10][3];
	static char names[10][32];
	static struct gale_codec_bytes ak[5], av[5];
	static int64_t history[16];
	static uint8_t payload[64];
	int i;

	for (i = 0; i < 10; i++) {
		bench_Item_init(&items[i]);
		items[i].id = 1000000 + i;
		snprintf(names[i], sizeof(names[i]), "item-number-%d", i);
		items[i].name = B(names[i]);
		items[i].price = 9.99 * (i + 1);
		tags[i][0] = B("red");
		tags[i][1] = B("large");
		tags[i][2] = B("sale");
		items[i].tags.v = tags[i];
		items[i].tags.n = 3;
		items[i].active = i % 2 == 0;
		items[i].quantity = i + 1;
	}
	/* Key order as Apache C++'s std::map keeps them, so the compat check can compare in order. */
	ak[0] = B("channel"), av[0] = B("web");
	ak[1] = B("coupon"), av[1] = B("SPRING24");
	ak[2] = B("currency"), av[2] = B("EUR");
	ak[3] = B("device"), av[3] = B("mobile");
	ak[4] = B("region"), av[4] = B("eu-west");
	for (i = 0; i < 16; i++)
		history[i] = 1700000000000LL + i * 3600000LL;
	for (i = 0; i < 64; i++)
		payload[i] = (uint8_t)(i * 7);
	bench_Order_init(o);
	o->order_id = 123456789012LL;
	o->customer = B("customer-42@example.com");
	o->items.v = items;
	o->items.n = 10;
	o->attrs.k = ak;
	o->attrs.v = av;
	o->attrs.n = 5;
	o->status = 3;
	o->note = B("leave at the door");
	GALE_SET(o, bench_Order_F_note);
	o->payload.ptr = payload;
	o->payload.len = 64;
	o->history.v = history;
	o->history.n = 16;
}

static uint8_t buf[1 << 16];
static uint8_t arena_mem[1 << 16];

/* dump PROTO: the Order's bytes on stdout. check PROTO: decode stdin, exit 0 when it equals the Order. */
static int
compat(const char *mode, const char *pname)
{
	int proto = strcmp(pname, "compact") == 0 ? GALE_PROTO_COMPACT : GALE_PROTO_BINARY;
	struct bench_Order o, d;
	struct gale_codec_wseg ws = { buf, sizeof(buf), 0 };
	struct gale_codec_writer w;
	struct gale_codec_reader r;
	struct gale_codec_seg seg;
	struct gale_arena arena;
	size_t n = 0, got;

	build(&o);
	if (strcmp(mode, "dump") == 0) {
		gale_codec_writer_init(&w, &ws, 1, 1, NULL, NULL);
		if (bench_Order_write(proto, &w, &o) != 0)
			return 1;
		gale_codec_writer_finish(&w);
		return fwrite(buf, 1, ws.len, stdout) == ws.len ? 0 : 1;
	}
	while ((got = fread(buf + n, 1, sizeof(buf) - n, stdin)) > 0)
		n += got;
	seg.base = buf;
	seg.len = n;
	gale_arena_init(&arena, arena_mem, sizeof(arena_mem));
	gale_codec_reader_init(&r, &seg, 1, NULL, &arena);
	if (gale_codec_reader_bound(&r, n) != 0 || bench_Order_read(proto, &r, &d) != 0) {
		fprintf(stderr, "bench_gale: cannot decode %zu bytes (reason %d)\n", n, r.reason);
		return 1;
	}
	if (!bench_Order_equal(&o, &d)) {
		bench_Order_print(stderr, &d);
		fprintf(stderr, "\nbench_gale: decoded order differs\n");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s dump|check binary|compact\n", argv[0]);
		return 2;
	}
	return compat(argv[1], argv[2]);
}
