// SPDX-License-Identifier: Apache-2.0
//
// codec-bench: gale-thriftc's generated C against Apache Thrift's generated C++ (TMemoryBuffer +
// TBinaryProtocolT / TCompactProtocolT, the protocol templated on the transport: Apache's fastest in-memory setup)
// on the same four messages of one IDL (bench.thrift), in one run, and against memcpy of the same bytes.
//
// For each message and protocol: Apache encodes the message; gale encodes the same values and the bytes must be
// identical (else the run stops: the comparison would be meaningless). Then each side runs round trips (decode
// the bytes into its message type, encode it again), encodes alone and decodes alone, and the best of several
// timed batches of thread CPU time gives ns per operation. Apache reuses one message object and its memory
// buffers across iterations (its fastest mode) and calls readEnd/writeEnd as its processors do; gale resets a
// request arena. Pin the process to one idle core (perf/codec/run does, with taskset).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "bench_types.h"
#include "gale_msgs.h"

using apache::thrift::protocol::TBinaryProtocolT;
using apache::thrift::protocol::TCompactProtocolT;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TMemoryBuffer;

static double
now_ns()
{
	timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); // CPU time of this thread: robust to other load on a shared core
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void
build_cart(gale_bench::Cart &o)
{
	for (int i = 0; i < 10; i++) {
		gale_bench::CartItem it;

		it.id = 1000000 + i;
		it.name = "item-number-" + std::to_string(i);
		it.price = 9.99 * (i + 1);
		it.tags = {"red", "large", "sale"};
		it.active = i % 2 == 0;
		it.quantity = i + 1;
		o.items.push_back(it);
	}
	o.order_id = 123456789012LL;
	o.customer = "customer-42@example.com";
	o.attrs = {{"channel", "web"}, {"region", "eu-west"}, {"currency", "EUR"}, {"coupon", "SPRING24"},
		   {"device", "mobile"}};
	o.status = 3;
	o.__set_note("leave at the door");
	for (int i = 0; i < 64; i++)
		o.payload.push_back(static_cast<char>(i * 7));
	for (int i = 0; i < 16; i++)
		o.history.push_back(1700000000000LL + i * 3600000LL);
}

static void
build(gale_bench::Request &r, gale_bench::Echo &e, gale_bench::Order &o)
{
	r.__set_id(1234567890123ll);
	r.__set_method("getUserProfile");
	r.__set_timeout_ms(500);
	r.meta["caller"] = "frontend";
	r.meta["trace-id"] = "4bf92f3577b34da6a3ce929d0e0e4736";
	r.__isset.meta = true;
	r.__set_flag(true);
	std::string d(1024, '\0');
	for (int i = 0; i < 1024; i++)
		d[i] = (char)(uint8_t)(i * 31 + 7);
	e.__set_data(d);
	o.__set_id(42);
	o.__set_customer("Ada Lovelace");
	for (int i = 0; i < 10; i++) {
		gale_bench::Item it;
		it.__set_id(1000 + i);
		it.__set_name(std::string("item-") + (char)('0' + i));
		it.__set_price(9.99 + i);
		for (int j = 0; j < 4; j++)
			it.tags.push_back(i + j);
		it.__isset.tags = true;
		o.items.push_back(it);
	}
	o.__isset.items = true;
	for (int i = 0; i < 5; i++)
		o.attrs[std::string("k") + (char)('0' + i)] = i * 1000;
	o.__isset.attrs = true;
	gale_bench::Address a;
	a.__set_street("12 Analytical Engine Way");
	a.__set_city("London");
	a.__set_zip(10001);
	o.__set_addr(a);
}

template <class Msg>
static std::string
apache_encode(const Msg &m, TProtocol &p, TMemoryBuffer &buf)
{
	buf.resetBuffer();
	p.writeMessageBegin("call", apache::thrift::protocol::T_CALL, 7);
	m.write(&p);
	p.writeMessageEnd();
	uint8_t *b;
	uint32_t n;
	buf.getBuffer(&b, &n);
	return std::string((const char *)b, n);
}

enum { OP_ROUNDTRIP, OP_ENCODE, OP_DECODE };

// One Apache operation, N times: a round trip (decode, then encode what was decoded), encode alone (of `src`,
// the message built above) or decode alone. Returns the bytes written or read by the last one.
template <class Msg>
static size_t
apache_run(int opn, const std::string &wire, TProtocol &ip, TMemoryBuffer &in, TProtocol &op, TMemoryBuffer &out,
	   Msg &m, const Msg &src, long iters)
{
	std::string name;
	apache::thrift::protocol::TMessageType type;
	int32_t seqid;
	uint8_t *b = nullptr;
	uint32_t n = 0;

	for (long i = 0; i < iters; i++) {
		if (opn != OP_ENCODE) {
			in.resetBuffer((uint8_t *)wire.data(), (uint32_t)wire.size(), TMemoryBuffer::OBSERVE);
			ip.readMessageBegin(name, type, seqid);
			m.read(&ip);
			ip.readMessageEnd();
			in.readEnd(); // as Apache's generated processors do; also resets the consumed-size budget
			if (opn == OP_DECODE) {
				n = (uint32_t)wire.size() - in.available_read();
				asm volatile("" : : "r"(&m) : "memory");
				continue;
			}
		} else {
			name = "call";
			type = apache::thrift::protocol::T_CALL;
			seqid = 7;
		}
		out.resetBuffer();
		op.writeMessageBegin(name, type, seqid);
		(opn == OP_ENCODE ? src : m).write(&op);
		op.writeMessageEnd();
		out.writeEnd();
		out.getBuffer(&b, &n);
		asm volatile("" : : "r"(b) : "memory");
	}
	return n;
}

static double
best_of(int reps, long iters, const std::function<void(long)> &fn)
{
	double best = 1e30;

	fn(iters / 10 + 1); // warm up
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		fn(iters);
		best = std::min(best, (now_ns() - t0) / iters);
	}
	return best;
}

int
main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;
	const char *only = argc > 2 ? argv[2] : nullptr; // one message (for profiling): request, echo-1KiB, ...
	int reps = 7;
	gale_bench::Request req;
	gale_bench::Echo echo;
	gale_bench::Order order;
	gale_bench::Cart cart;
	static const char *names[] = {"request", "echo-1KiB", "order", "cart"};
	static const char *pnames[] = {"binary", "compact"};
	static const char *opnames[] = {"roundtrip", "encode", "decode"};
	static uint8_t galebuf[8192], sink[8192];
	int fails = 0;

	build(req, echo, order);
	build_cart(cart);
	std::printf("ns per message (envelope + struct), best of %d batches of thread CPU time; pinned by the caller\n",
		    reps);
	std::printf("%-10s %-8s %-10s %6s %9s %11s %7s %8s %12s\n", "message", "proto", "op", "bytes", "gale",
		    "apache-c++", "ratio", "memcpy", "gale/memcpy");
	for (int pi = 0; pi < 2; pi++) {
		auto inb = std::make_shared<TMemoryBuffer>();
		auto outb = std::make_shared<TMemoryBuffer>(8192);
		std::unique_ptr<TProtocol> ip, op;
		if (pi == 0) {
			ip.reset(new TBinaryProtocolT<TMemoryBuffer>(inb));
			op.reset(new TBinaryProtocolT<TMemoryBuffer>(outb));
		} else {
			ip.reset(new TCompactProtocolT<TMemoryBuffer>(inb));
			op.reset(new TCompactProtocolT<TMemoryBuffer>(outb));
		}
		int proto = pi == 0 ? 0 : 2;
		for (int mi = 0; mi < GALE_BENCH_NMSG; mi++) {
			if (only != nullptr && std::strcmp(only, names[mi]) != 0)
				continue;
			std::string wire;
			if (mi == GALE_BENCH_REQUEST)
				wire = apache_encode(req, *op, *outb);
			else if (mi == GALE_BENCH_ECHO)
				wire = apache_encode(echo, *op, *outb);
			else if (mi == GALE_BENCH_ORDER)
				wire = apache_encode(order, *op, *outb);
			else
				wire = apache_encode(cart, *op, *outb);
			size_t gn = gale_bench_encode(mi, proto, galebuf, sizeof(galebuf));
			if (gn != wire.size() || std::memcmp(galebuf, wire.data(), gn) != 0) {
				std::printf("%s/%s: gale's bytes differ from Apache's (%zu vs %zu bytes)\n", names[mi],
					    pnames[pi], gn, wire.size());
				fails++;
				continue;
			}
			long iters = 200000 * scale / (mi >= GALE_BENCH_ORDER ? 5 : 1);
			double c = best_of(reps, iters * 4, [&](long n) {
				for (long i = 0; i < n; i++) {
					std::memcpy(sink, wire.data(), wire.size());
					asm volatile("" : : "r"(sink) : "memory");
				}
			});
			for (int o = OP_ROUNDTRIP; o <= OP_DECODE; o++) {
				double g = best_of(reps, iters, [&](long n) {
					if (gale_bench_run(o, mi, proto, (const uint8_t *)wire.data(), wire.size(), n) !=
					    wire.size())
						fails++;
				});
				gale_bench::Request r2;
				gale_bench::Echo e2;
				gale_bench::Order o2;
				gale_bench::Cart c2;
				double a = best_of(reps, iters, [&](long n) {
					size_t got;
					if (mi == GALE_BENCH_REQUEST)
						got = apache_run(o, wire, *ip, *inb, *op, *outb, r2, req, n);
					else if (mi == GALE_BENCH_ECHO)
						got = apache_run(o, wire, *ip, *inb, *op, *outb, e2, echo, n);
					else if (mi == GALE_BENCH_ORDER)
						got = apache_run(o, wire, *ip, *inb, *op, *outb, o2, order, n);
					else
						got = apache_run(o, wire, *ip, *inb, *op, *outb, c2, cart, n);
					if (got != wire.size())
						fails++;
				});
				if (o == OP_ROUNDTRIP)
					std::printf("%-10s %-8s %-10s %6zu %9.1f %11.1f %6.2fx %8.1f %11.2fx\n",
						    names[mi], pnames[pi], opnames[o], wire.size(), g, a, a / g, c,
						    g / c);
				else
					std::printf("%-10s %-8s %-10s %6zu %9.1f %11.1f %6.2fx\n", names[mi],
						    pnames[pi], opnames[o], wire.size(), g, a, a / g);
			}
		}
	}
	if (fails)
		std::printf("%d failures\n", fails);
	return fails != 0;
}
