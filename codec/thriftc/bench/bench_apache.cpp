// SPDX-License-Identifier: Apache-2.0
//
// Codec benchmark, Apache side: the same Order as bench_gale.c, encoded and decoded by Apache Thrift's
// generated C++ with its fastest in-memory setup: the protocol templated on the concrete transport
// (TBinaryProtocolT<TMemoryBuffer>, TCompactProtocolT<TMemoryBuffer>), so no virtual call per field, and a
// TMemoryBuffer reset (not reallocated) every iteration. Output lines match bench_gale.c's.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "bench_types.h"

using apache::thrift::transport::TMemoryBuffer;

static double
now_ns()
{
	return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

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

template <class Proto>
static int
run(const char *name, const gale_bench::Order &o, long iters)
{
	auto buf = std::make_shared<TMemoryBuffer>(1 << 16);
	Proto proto(buf);
	uint32_t len = 0;
	double t0 = now_ns();

	for (long i = 0; i < iters; i++) {
		buf->resetBuffer();
		o.write(&proto);
		len = buf->available_read();
	}
	double t1 = now_ns();
	std::printf("apache %s encode %.1f %u\n", name, (t1 - t0) / iters, len);

	std::string wire = buf->getBufferAsString();
	gale_bench::Order d;
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		buf->resetBuffer(reinterpret_cast<uint8_t *>(&wire[0]), static_cast<uint32_t>(wire.size()),
				 TMemoryBuffer::OBSERVE);
		d.read(&proto);
		// What Apache's processors do after each message: 0.14+ counts bytes read against a per-message
		// budget (MaxMessageSize) that readEnd() resets.
		buf->readEnd();
	}
	t1 = now_ns();
	if (!(d == o)) {
		std::fprintf(stderr, "bench_apache: decoded order differs\n");
		return 1;
	}
	std::printf("apache %s decode %.1f %u\n", name, (t1 - t0) / iters, len);
	return 0;
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
	long iters = argc > 1 ? std::atol(argv[1]) : 1000000;
	gale_bench::Order o;

	build(o);
	if (argc == 3) {
		if (std::string(argv[2]) == "compact")
			return compat<apache::thrift::protocol::TCompactProtocolT<TMemoryBuffer>>(argv[1], o);
		return compat<apache::thrift::protocol::TBinaryProtocolT<TMemoryBuffer>>(argv[1], o);
	}
	if (run<apache::thrift::protocol::TBinaryProtocolT<TMemoryBuffer>>("binary", o, iters) != 0)
		return 1;
	return run<apache::thrift::protocol::TCompactProtocolT<TMemoryBuffer>>("compact", o, iters);
}
