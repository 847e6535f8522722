# SPDX-License-Identifier: Apache-2.0
# Messages of the codec benchmark (perf/codec). Apache Thrift's C++ code for these is generated at build time;
# gale's side is written in perf/codec/gale_msgs_tmpl.h in the shape generated code takes.
namespace cpp gale_bench

struct Request {
	1: i64 id
	2: string method
	3: i32 timeout_ms
	4: map<string, string> meta
	5: bool flag
}

struct Echo {
	1: binary data
}

struct Item {
	1: i64 id
	2: string name
	3: double price
	4: list<i32> tags
}

struct Address {
	1: string street
	2: string city
	3: i32 zip
}

struct Order {
	1: i64 id
	2: string customer
	3: list<Item> items
	4: map<string, i64> attrs
	5: Address addr
}
