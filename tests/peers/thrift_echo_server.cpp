// SPDX-License-Identifier: Apache-2.0
//
// Apache Thrift C++ peer for gale's tests and benchmarks: serves apps/echo/echo.thrift with Apache's own
// generated code and servers (TNonblockingServer, TThreadedServer, TSimpleServer), over Framed, Buffered or
// THeader, Binary or Compact. It is an interop peer and the perf baseline; gale never links it.
//
//   thrift-echo-server [--server nonblocking|threaded|simple] [--transport framed|buffered|header]
//                      [--protocol binary|compact] [--host 127.0.0.1] [--port N] [--port-file PATH]
//                      [--io-threads N] [--stall-every N --stall-ms M]
//
// --port 0 (the default) takes a free port; once the server listens it prints the port and writes it to
// --port-file when given, so a test waits for that file instead of guessing. --stall-every N makes every N-th call sleep M ms first: a server
// with injected stalls, for testing that an open-loop client's latency includes the queueing behind a stall.
// TNonblockingServer frames every message, so it takes framed or header, not buffered.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <thrift/concurrency/ThreadFactory.h>
#include <thrift/concurrency/ThreadManager.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/server/TNonblockingServer.h>
#include <thrift/server/TSimpleServer.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TNonblockingServerSocket.h>
#include <thrift/transport/TServerSocket.h>

#include "Echo.h"

using namespace apache::thrift;
using namespace apache::thrift::protocol;
using namespace apache::thrift::server;
using namespace apache::thrift::transport;

namespace {

std::atomic<unsigned long> calls{0};
unsigned long stall_every = 0;
unsigned stall_ms = 0;

void maybe_stall()
{
	unsigned long n = ++calls;
	if (stall_every != 0 && n % stall_every == 0)
		std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
}

class EchoHandler : public gale::echo::EchoIf {
public:
	void echo(std::string &ret, const std::string &message) override
	{
		maybe_stall();
		ret = message;
	}
	void echo_binary(std::string &ret, const std::string &data) override
	{
		maybe_stall();
		ret = data;
	}
	void echo_all(gale::echo::AllTypes &ret, const gale::echo::AllTypes &v) override
	{
		maybe_stall();
		ret = v;
	}
	void ping() override { maybe_stall(); }
	int64_t add(const int64_t a, const int64_t b) override
	{
		maybe_stall();
		return a + b;
	}
	void echo_or_fail(std::string &ret, const std::string &message, const int32_t code) override
	{
		maybe_stall();
		if (code != 0) {
			gale::echo::EchoError err;
			err.code = code;
			err.message = message;
			throw err;
		}
		ret = message;
	}
	void notify(const std::string &) override { maybe_stall(); }
};

TServer *running = nullptr;

// Announces the server once it listens (preServe runs after listen), so tests wait for the port file.
class Ready : public TServerEventHandler {
public:
	Ready(std::string what, int port, std::string file) : what_(std::move(what)), port_(port), file_(std::move(file)) {}
	void preServe() override
	{
		std::printf("thrift-echo-server: %s, listening on port %d\n", what_.c_str(), port_);
		std::fflush(stdout);
		if (!file_.empty()) {
			std::string tmp = file_ + ".tmp";
			std::ofstream(tmp) << port_ << "\n";
			std::rename(tmp.c_str(), file_.c_str());
		}
	}

private:
	std::string what_;
	int port_;
	std::string file_;
};

// A free TCP port on host, chosen by the kernel (bind to port 0), for --port 0.
int free_port(const std::string &host)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	sockaddr_in a{};
	socklen_t len = sizeof(a);

	a.sin_family = AF_INET;
	a.sin_port = 0;
	inet_pton(AF_INET, host.c_str(), &a.sin_addr);
	if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0 &&
	    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

void on_signal(int) { if (running != nullptr) running->stop(); }

[[noreturn]] void usage(int status)
{
	std::fprintf(status == 0 ? stdout : stderr,
		     "usage: thrift-echo-server [--server nonblocking|threaded|simple] "
		     "[--transport framed|buffered|header] [--protocol binary|compact] [--host ADDR] [--port N] "
		     "[--port-file PATH] [--io-threads N] [--stall-every N --stall-ms M]\n");
	std::exit(status);
}

} // namespace

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, nullptr, 's'},    {"transport", required_argument, nullptr, 't'},
		{"protocol", required_argument, nullptr, 'p'},  {"host", required_argument, nullptr, 'H'},
		{"port", required_argument, nullptr, 'P'},      {"port-file", required_argument, nullptr, 'f'},
		{"io-threads", required_argument, nullptr, 'i'}, {"stall-every", required_argument, nullptr, 'e'},
		{"stall-ms", required_argument, nullptr, 'm'},  {"help", no_argument, nullptr, 'h'},
		{nullptr, 0, nullptr, 0},
	};
	std::string server = "threaded", transport = "framed", protocol = "binary", host = "127.0.0.1", port_file;
	int port = 0, io_threads = 1, c;

	while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 't': transport = optarg; break;
		case 'p': protocol = optarg; break;
		case 'H': host = optarg; break;
		case 'P': port = std::atoi(optarg); break;
		case 'f': port_file = optarg; break;
		case 'i': io_threads = std::atoi(optarg); break;
		case 'e': stall_every = std::strtoul(optarg, nullptr, 10); break;
		case 'm': stall_ms = static_cast<unsigned>(std::atoi(optarg)); break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if ((server != "nonblocking" && server != "threaded" && server != "simple") ||
	    (transport != "framed" && transport != "buffered" && transport != "header") ||
	    (protocol != "binary" && protocol != "compact") || port < 0 || port > 65535 || io_threads < 1)
		usage(2);
	if (server == "nonblocking" && transport == "buffered") {
		std::fprintf(stderr, "thrift-echo-server: TNonblockingServer frames every message: use framed or header\n");
		return 2;
	}

	auto handler = std::make_shared<EchoHandler>();
	auto processor = std::make_shared<gale::echo::EchoProcessor>(handler);
	std::shared_ptr<TProtocolFactory> proto;
	if (transport == "header")
		proto = std::make_shared<THeaderProtocolFactory>();
	else if (protocol == "compact")
		proto = std::make_shared<TCompactProtocolFactory>();
	else
		proto = std::make_shared<TBinaryProtocolFactory>();

	if (port == 0 && (port = free_port(host)) < 0) {
		std::perror("thrift-echo-server: no free port");
		return 1;
	}
	std::unique_ptr<TServer> srv;
	if (server == "nonblocking") {
		auto sock = std::make_shared<TNonblockingServerSocket>(host, port);
		auto nb = std::make_unique<TNonblockingServer>(processor, proto, sock);
		nb->setNumIOThreads(static_cast<size_t>(io_threads));
		// TNonblockingServer passes the frame length through to THeaderTransport (instead of stripping
		// it) only when it has no output protocol factory: that is how 0.17 spells "header transport".
		if (transport == "header")
			nb->setOutputProtocolFactory(nullptr);
		srv = std::move(nb);
	} else {
		auto sock = std::make_shared<TServerSocket>(host, port);
		std::shared_ptr<TTransportFactory> tf;
		if (transport == "framed")
			tf = std::make_shared<TFramedTransportFactory>();
		else if (transport == "buffered")
			tf = std::make_shared<TBufferedTransportFactory>();
		else
			tf = std::make_shared<TTransportFactory>(); // THeaderProtocol does its own framing
		if (server == "threaded")
			srv = std::make_unique<TThreadedServer>(processor, sock, tf, proto);
		else
			srv = std::make_unique<TSimpleServer>(processor, sock, tf, proto);
	}
	srv->setServerEventHandler(std::make_shared<Ready>(
		server + " server, " + transport + " transport, " + protocol + " protocol", port, port_file));
	running = srv.get();
	std::signal(SIGINT, on_signal);
	std::signal(SIGTERM, on_signal);
	srv->serve();
	std::printf("thrift-echo-server: stopped after %lu calls\n", calls.load());
	return 0;
}
