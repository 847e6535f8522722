/**
 * The message of the wire compatibility check with Apache Thrift's generated C++ (thriftc_cpp_compat): an
 * order with ten items, a small map and a binary payload, the shape of a typical RPC request. perf/codec's
 * bench.thrift has the same message as Cart.
 */
namespace c bench
namespace cpp gale_bench

struct Item {
	1: i64 id,
	2: string name,
	3: double price,
	4: list<string> tags,
	5: bool active,
	6: i32 quantity,
}

struct Order {
	1: i64 order_id,
	2: string customer,
	3: list<Item> items,
	4: map<string, string> attrs,
	5: i32 status,
	6: optional string note,
	7: binary payload,
	8: list<i64> history,
}
