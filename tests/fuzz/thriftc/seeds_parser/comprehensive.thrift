/**
 * The comprehensive IDL of gale-thriftc's tests: every construct the compiler accepts, once at least.
 * It must compile with gale-thriftc and with Apache's `thrift --gen py` and `--gen cpp` alike.
 */
include "shared.thrift"
cpp_include "<vector>"

namespace c demo
namespace gale demo
namespace py gale_test.demo
namespace cpp gale_test_demo
namespace java org.example.demo
namespace * demo_any

/** Identifiers of users. */
typedef i64 UserId
typedef string Name (max_len = "64")
typedef list<UserId> UserIds
typedef map<string, list<i32>> Index
typedef shared.Point Location
typedef binary Blob

/** Colours, with explicit and implicit values. */
enum Color {
	/** Red is first. */
	RED = 1,
	GREEN,
	BLUE = 0x10,
	ALPHA (deprecated = "true"),
	BLACK = -1;
	WHITE = 2147483647
} (enum_note = "colours")

enum Empty {
}

// scalar constants, all literal forms
const bool FLAG_ON = true
const bool FLAG_OFF = 0
const byte SMALL = -128
const i8 TINY = 127
const i16 SHORT_MAX = 32767
const i32 HEX_VALUE = 0x7fffFFFF
const i64 BIG = -9223372036854775808
const i64 BIG_POS = +9223372036854775807
const double PI = 3.14159
const double AVOGADRO = 6.022e23
const double NEG_EXP = -1.5E-3
const double FROM_INT = 42
const string GREETING = "hello \"world\"\n\ttab"
const string SINGLE = 'it\'s single-quoted'
const binary MAGIC = "\\x00raw"
// references to other constants and to enum values
const i32 LIMIT_COPY = shared.SHARED_LIMIT
const string NAME_COPY = shared.SHARED_NAME
const Color FAVOURITE = Color.GREEN
const Color BY_NUMBER = 16
const shared.Priority URGENT = shared.Priority.CRITICAL
const UserId ROOT = 0
// containers and struct literals
const list<i32> PRIMES = [2, 3, 5, 7, 11];
const set<string> WORDS = ["a", "b"; "c"]
const map<string, i32> AGES = {"alice": 30, "bob": HEX_VALUE}
const map<Color, list<string>> BY_COLOR = {Color.RED: ["r"], Color.BLUE: []}
const list<list<i64>> MATRIX = [[1, 2], [3, 4]]
const shared.Point ORIGIN = {"x": 0, "y": 0.0, "label": "origin"}
const Location HOME = {"x": 1.5, "y": -2}
const Index EMPTY_INDEX = {}

/**
 * A struct with every field type, requiredness and default.
 */
struct Everything {
	/** A bool. */
	1: bool b = true,
	2: byte by = SMALL,
	3: i8 i_8 = 1,
	4: i16 i_16 = -2,
	5: i32 i_32 = HEX_VALUE,
	6: i64 i_64 = BIG,
	7: double d = PI,
	8: string s = "default",
	9: binary bin,
	11: required string must,
	12: optional string maybe,
	13: optional i32 maybe_int = 5,
	14: list<string> strings = ["x", "y"],
	15: set<i32> ints,
	16: map<string, double> scores = {"a": 1.0},
	17: list<map<string, set<i64>>> nested,
	18: Color color = Color.BLUE,
	19: optional Color maybe_color,
	20: shared.Point point = {"x": 1, "y": 2},
	21: optional Location where,
	22: UserIds users,
	23: Index index,
	24: map<Color, shared.Point> places,
	25: Blob blob (cpp.type = "std::string"),
	27: shared.Priority priority = shared.Priority.HIGH,
	28: list<Inner> inners,
	29: optional Inner one_inner,
	32767: i32 highest_id,
} (struct_note = "all", another)

struct Inner {
	1: i32 value;
	2: optional Inner2 deeper;
}

struct Inner2 {
	1: string text
}

/** Fields without ids get negative ids with a warning, as Apache does. */
struct Legacy {
	i32 first,
	string second,
	3: i64 third,
}

struct WithXsd xsd_all {
	1: i32 a xsd_optional,
	2: string b xsd_nillable,
}

struct Recursive {
	1: list<Recursive> children,
	2: optional string name,
}

struct ByReference {
	1: optional Inner & ref_field,
}

union Value {
	1: i64 int_value,
	2: double double_value,
	3: string string_value,
	4: list<Value> list_value,
	5: bool bool_value,
}

exception NotFound {
	1: string key,
	2: optional i32 code = 404,
}

exception Invalid {
	1: required string why,
	2: list<string> details,
} (message = "why")

/** A service that extends one from an include. */
service Store extends shared.Base {
	/** Reads a value. */
	Value get(1: string key, 2: optional i32 timeout_ms = 100) throws (1: NotFound nf, 2: shared.SharedError se),
	void put(1: required string key, 2: Value value) throws (1: Invalid bad);
	oneway void forget(1: string key),
	list<Everything> scan(1: Color color, 2: map<string, list<Inner>> filter, 3: set<UserId> users)
		(cpp.name = "scan_all")
	UserIds list_users()
	Location locate(1: UserId id)
	binary raw(1: binary data)
	Empty nothing_much(1: Empty e)
} (service_note = "store")

/** A service extending a local one. */
service AdminStore extends Store {
	void reset()
	i32 count(1: UserId owner)
}

/**
 * A service with no functions.
 */
service Quiet {
}
