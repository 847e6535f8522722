// SPDX-License-Identifier: Apache-2.0
//
// Apache Thrift C++ client peer for apps/echo/echo.thrift: runs every method of the Echo service N times over
// Framed, Buffered or THeader with Binary or Compact and checks every answer (the C++ twin of echo_client.py).
// Exits 0 only if every call returned what it should. An interop peer for gale's servers; gale never links it.
//
//   thrift-echo-client --port N [--host H] [--transport framed|buffered|header] [--protocol binary|compact]
//                      [--calls N] [--payload BYTES] [--timeout-ms MS]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <getopt.h>
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "Echo.h"

using namespace apache::thrift;
using namespace apache::thrift::protocol;
using namespace apache::thrift::transport;

namespace {

[[noreturn]] void usage(int status)
{
	std::fprintf(status == 0 ? stdout : stderr,
		     "usage: thrift-echo-client --port N [--host H] [--transport framed|buffered|header] "
		     "[--protocol binary|compact] [--calls N] [--payload BYTES] [--timeout-ms MS]\n");
	std::exit(status);
}

int errors = 0;

template <typename T> void check(int call, const char *what, const T &got, const T &want)
{
	if (!(got == want)) {
		errors++;
		std::fprintf(stderr, "call %d %s: wrong answer\n", call, what);
	}
}

} // namespace

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"host", required_argument, nullptr, 'H'},      {"port", required_argument, nullptr, 'P'},
		{"transport", required_argument, nullptr, 't'}, {"protocol", required_argument, nullptr, 'p'},
		{"calls", required_argument, nullptr, 'n'},     {"payload", required_argument, nullptr, 's'},
		{"timeout-ms", required_argument, nullptr, 'T'}, {"help", no_argument, nullptr, 'h'},
		{nullptr, 0, nullptr, 0},
	};
	std::string host = "127.0.0.1", transport = "framed", protocol = "binary";
	int port = 0, calls = 10, payload = 100, timeout_ms = 10000, c;

	while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'P': port = std::atoi(optarg); break;
		case 't': transport = optarg; break;
		case 'p': protocol = optarg; break;
		case 'n': calls = std::atoi(optarg); break;
		case 's': payload = std::atoi(optarg); break;
		case 'T': timeout_ms = std::atoi(optarg); break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (port <= 0 || port > 65535 || calls < 1 || payload < 0 ||
	    (transport != "framed" && transport != "buffered" && transport != "header") ||
	    (protocol != "binary" && protocol != "compact"))
		usage(2);

	auto sock = std::make_shared<TSocket>(host, port);
	sock->setRecvTimeout(timeout_ms);
	sock->setSendTimeout(timeout_ms);
	std::shared_ptr<TTransport> trans;
	std::shared_ptr<TProtocol> proto;
	if (transport == "header") {
		// THeaderProtocol wraps the socket in its own THeaderTransport; we open and close the socket.
		trans = sock;
		proto = std::make_shared<THeaderProtocol>(
			sock, protocol == "compact" ? T_COMPACT_PROTOCOL : T_BINARY_PROTOCOL);
	} else {
		if (transport == "framed")
			trans = std::make_shared<TFramedTransport>(sock);
		else
			trans = std::make_shared<TBufferedTransport>(sock);
		if (protocol == "compact")
			proto = std::make_shared<TCompactProtocol>(trans);
		else
			proto = std::make_shared<TBinaryProtocol>(trans);
	}
	gale::echo::EchoClient client(proto);
	std::string text, blob, out;
	for (int i = 0; i < payload; i++) {
		text.push_back(static_cast<char>('a' + i % 26));
		blob.push_back(static_cast<char>(i & 0xff));
	}
	// Every type through a whole RPC, set and (second) empty.
	gale::echo::AllTypes full, empty;
	full.b = true;
	full.i8v = -128;
	full.i16v = -32768;
	full.i32v = 2147483647;
	full.i64v = INT64_MIN;
	full.d = -1.25e-300;
	full.s = "gale-\xc3\xa9-" + text.substr(0, 64);
	for (int i = 0; i < 256; i++)
		full.bin.push_back(static_cast<char>(i));
	full.li = { 0, -1, 2147483647, INT32_MIN };
	full.ss = { "a", "", "\xc3\xa9" };
	full.m = { { "k", 1LL << 40 }, { "", -1 } };
	full.inner.id = 7;
	full.inner.name = "inner";
	for (int i = 0; i < 3; i++) {
		gale::echo::Inner in;
		in.id = i;
		in.name = "n" + std::to_string(i);
		full.inners.push_back(in);
	}
	full.nested = { { 1, { "x", "y" } }, { -2, {} }, { 3, { "\xc3\xa9" } } };
	full.color = gale::echo::Color::BLUE;
	full.__set_opt("set");
	empty.d = 1.0 / 0.0;
	empty.color = gale::echo::Color::RED;
	try {
		trans->open();
		for (int i = 0; i < calls; i++) {
			// A fresh result each call: Apache's read() leaves an optional field's isset as it found it.
			gale::echo::AllTypes got, got_empty;
			client.echo_all(got, full);
			if (!(got == full)) {
				errors++;
				std::fprintf(stderr, "call %d echo_all: the struct came back different\n", i);
			}
			client.echo_all(got_empty, empty);
			if (!(got_empty == empty)) {
				errors++;
				std::fprintf(stderr, "call %d echo_all empty: the struct came back different\n", i);
			}
			std::string msg = text + std::to_string(i);
			client.echo(out, msg);
			check(i, "echo", out, msg);
			client.echo_binary(out, blob);
			check(i, "echo_binary", out, blob);
			client.ping();
			check<int64_t>(i, "add", client.add(i, -3LL * i + (1LL << 40)), (1LL << 40) - 2LL * i);
			client.echo_or_fail(out, "fine", 0);
			check<std::string>(i, "echo_or_fail ok", out, "fine");
			try {
				client.echo_or_fail(out, "boom", 7 + i);
				errors++;
				std::fprintf(stderr, "call %d echo_or_fail: no exception\n", i);
			} catch (const gale::echo::EchoError &e) {
				check(i, "echo_or_fail code", e.code, 7 + i);
				check<std::string>(i, "echo_or_fail message", e.message, "boom");
			}
			client.notify("n" + std::to_string(i));
		}
		// A final two-way call proves the oneway notifies did not break the stream.
		check<int64_t>(calls, "add after notify", client.add(1, 1), 2);
		trans->close();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "thrift-echo-client: %s\n", e.what());
		return 1;
	}
	std::printf("thrift-echo-client: %d x 6 methods over %s/%s: %s\n", calls, transport.c_str(), protocol.c_str(),
		    errors == 0 ? "ok" : "errors");
	return errors == 0 ? 0 : 1;
}
