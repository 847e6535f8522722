// SPDX-License-Identifier: Apache-2.0
//
// The echo service: gale-echo serves it, gale-bench calls it, and the Apache Thrift C++ peer in tests/peers
// serves the same IDL as the baseline. Small on purpose: what it measures is the runtime, not the handler.

namespace c gale_echo
namespace cpp gale.echo
namespace py gale_echo
namespace go echo

/** Raised by echo_or_fail when asked to. */
exception EchoError {
	1: i32 code,
	2: string message,
}

service Echo {
	/** Returns its argument. */
	string echo(1: string message),

	/** Returns its argument (bytes, not text). */
	binary echo_binary(1: binary data),

	/** Does nothing: the cheapest call. */
	void ping(),

	/** Returns a + b. */
	i64 add(1: i64 a, 2: i64 b),

	/** Returns message, or raises EchoError(code, message) when code != 0. */
	string echo_or_fail(1: string message, 2: i32 code) throws (1: EchoError err),

	/** Fire and forget. */
	oneway void notify(1: string message),
}
