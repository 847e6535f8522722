// SPDX-License-Identifier: Apache-2.0
//
// Wire compatibility with Apache Thrift's generated C++, Apache side: the same Order as compat_gale.c, built
// with the C++ that `thrift --gen cpp` generates from order.thrift. "dump PROTO" writes its encoding to stdout;
// "check PROTO" decodes stdin and exits 0 when it equals the Order.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "order_types.h"

using apache::thrift::transport::TMemoryBuffer;

static void
build(gale_bench::Order &o)
{
	for (int i = 0; i < 10; i++) {
		gale_bench::Item it;

		it.id = 1000000 + i;
		it.name = "item-number-" + std::to_string(i);
		it.price = 9.99 * (i + 1);
		it.tags = { "red", "large", "sale" };
		it.active = i % 2 == 0;
		it.quantity = i + 1;
		o.items.push_back(it);
	}
	o.order_id = 123456789012LL;
	o.customer = "customer-42@example.com";
	o.attrs = { { "channel", "web" }, { "region", "eu-west" }, { "currency", "EUR" }, { "coupon", "SPRING24" },
		    { "device", "mobile" } };
	o.status = 3;
	o.__set_note("leave at the door");
	for (int i = 0; i < 64; i++)
		o.payload.push_back(static_cast<char>(i * 7));
	for (int i = 0; i < 16; i++)
		o.history.push_back(1700000000000LL + i * 3600000LL);
}

// dump PROTO: the Order's bytes on stdout. check PROTO: decode stdin, exit 0 when it equals the Order.
template <class Proto>
static int
compat(const std::string &mode, const gale_bench::Order &o)
{
	if (mode == "dump") {
		auto buf = std::make_shared<TMemoryBuffer>();
		Proto proto(buf);

		o.write(&proto);
		std::string s = buf->getBufferAsString();
		return std::fwrite(s.data(), 1, s.size(), stdout) == s.size() ? 0 : 1;
	}
	std::string in;
	char tmp[4096];
	size_t n;

	while ((n = std::fread(tmp, 1, sizeof(tmp), stdin)) > 0)
		in.append(tmp, n);
	auto buf = std::make_shared<TMemoryBuffer>(reinterpret_cast<uint8_t *>(&in[0]), static_cast<uint32_t>(in.size()));
	Proto proto(buf);
	gale_bench::Order d;

	d.read(&proto);
	if (!(d == o)) {
		std::fprintf(stderr, "bench_apache: decoded order differs\n");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	gale_bench::Order o;

	if (argc != 3) {
		std::fprintf(stderr, "usage: %s dump|check binary|compact\n", argv[0]);
		return 2;
	}
	build(o);
	if (std::string(argv[2]) == "compact")
		return compat<apache::thrift::protocol::TCompactProtocolT<TMemoryBuffer>>(argv[1], o);
	return compat<apache::thrift::protocol::TBinaryProtocolT<TMemoryBuffer>>(argv[1], o);
}
