// SPDX-License-Identifier: Apache-2.0
//
// gale-kv's service: an in-memory key-value store sharded by key over the server's workers. Keys and values
// are bytes; keys order as unsigned bytes (a prefix sorts first), the order scan returns them in.

namespace c gale_kv
namespace cpp gale.kv
namespace py gale_kv
namespace go kv

/** Why a request was refused. */
enum ErrorCode {
	KEY_TOO_LARGE = 1,   /**< a key (or scan start key) longer than the server's --max-key */
	VALUE_TOO_LARGE = 2, /**< a value longer than --max-value */
	SHARD_FULL = 3,      /**< the key's shard holds --max-keys keys or its --shard-mem is used up */
	BAD_ARGUMENT = 4,    /**< e.g. a scan limit below 1 */
}

/** get of a key that is not there. */
exception NotFound {
	1: binary key,
}

exception KvError {
	1: ErrorCode code,
	2: string message,
}

struct KeyValue {
	1: binary key,
	2: binary value,
}

/** A page of a scan: keys in increasing order; more = keys at or after start_key exist beyond the page. */
struct ScanResult {
	1: list<KeyValue> items,
	2: bool more,
}

/** One worker: its shard and what it counted (requests are those its own connections sent). */
struct WorkerStats {
	1: i32 worker,
	2: i64 keys,       /**< keys in its shard */
	3: i64 bytes,      /**< key and value bytes in its shard */
	4: i64 gets,
	5: i64 puts,
	6: i64 deletes,
	7: i64 scans,
	8: i64 stats,
	9: i64 local,      /**< get/put/delete run on this worker's own shard */
	10: i64 cross,     /**< get/put/delete sent to the owning worker over the rings */
	11: i64 rejected,  /**< get/put/delete refused before routing (key or value too large) */
	12: i64 fanout,    /**< scan/stats legs sent to other workers */
	13: i64 served,    /**< operations this worker's shard ran for other workers */
	14: i64 ring_full, /**< posts that found a ring full (queued, retried) */
	15: i64 busy,      /**< get/put/delete refused: no free message slot (TApplicationException) */
	16: i64 busy_fanout, /**< scan/stats refused: fewer free slots than workers (TApplicationException) */
}

service KV {
	/** The value of key, or NotFound. */
	binary get(1: binary key) throws (1: NotFound not_found, 2: KvError err),

	/** Set key to value (the value is copied into the owning shard). */
	void put(1: binary key, 2: binary value) throws (1: KvError err),

	/** Remove key; true when it was there. */
	bool delete(1: binary key) throws (1: KvError err),

	/** Up to limit pairs with key >= start_key, in key order, gathered from every shard. */
	ScanResult scan(1: binary start_key, 2: i32 limit) throws (1: KvError err),

	/** Every worker's counters and shard size, gathered from every worker. */
	list<WorkerStats> stats(),
}
