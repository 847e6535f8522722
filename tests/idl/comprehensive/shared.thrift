/**
 * Shared definitions included by comprehensive.thrift: an enum, a struct, an exception, constants and a base
 * service, so that names across includes (`shared.Name`, `shared.Enum.VALUE`, `extends shared.Base`) are used.
 */
namespace c shared
namespace gale shared
namespace py gale_test.shared
namespace cpp gale_test_shared

/** Priority of a request. */
enum Priority {
	LOW = 1,
	MEDIUM,
	HIGH = 10,
	CRITICAL
}

const i32 SHARED_LIMIT = 1000
const string SHARED_NAME = "shared"

/** A point in the plane. */
struct Point {
	1: required double x,
	2: required double y = 0.5,
	3: optional string label
}

exception SharedError {
	1: i32 code = 7,
	2: string message
}

/** The base service every test service extends. */
service Base {
	/** Liveness probe. */
	string ping(),
	i64 uptime() throws (1: SharedError err)
}
