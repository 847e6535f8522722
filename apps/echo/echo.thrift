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

/** For AllTypes. */
enum Color {
	RED = 1,
	GREEN = 2,
	BLUE = 3,
}

/** For AllTypes. */
struct Inner {
	1: i32 id,
	2: string name,
}

/** Every Thrift type, for interop checks of whole RPCs (echo_all returns it unchanged). */
struct AllTypes {
	1: bool b,
	2: byte i8v,
	3: i16 i16v,
	4: i32 i32v,
	5: i64 i64v,
	6: double d,
	7: string s,
	8: binary bin,
	9: list<i32> li,
	10: set<string> ss,
	11: map<string, i64> m,
	12: Inner inner,
	13: list<Inner> inners,
	14: map<i32, list<string>> nested,
	15: Color color,
	16: optional string opt,
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

	/** Returns its argument: every type through a whole RPC. */
	AllTypes echo_all(1: AllTypes v),

	/** Fire and forget. */
	oneway void notify(1: string message),
}
