# SPDX-License-Identifier: Apache-2.0
# Messages of the codec benchmark (perf/codec). Both sides are generated at build time from this one file:
# gale's C by gale-thriftc, Apache's C++ by `thrift --gen cpp`.
namespace c bench
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

/** gale-thriftc's first benchmark message: lists of strings and of i64, an optional field, a binary. */
struct CartItem {
	1: i64 id,
	2: string name,
	3: double price,
	4: list<string> tags,
	5: bool active,
	6: i32 quantity,
}

struct Cart {
	1: i64 order_id,
	2: string customer,
	3: list<CartItem> items,
	4: map<string, string> attrs,
	5: i32 status,
	6: optional string note,
	7: binary payload,
	8: list<i64> history,
}
