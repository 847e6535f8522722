/**
 * Names that could clash with C or with the generated code's own names: C keywords as field names, fields named
 * like the generated code's locals, methods named like the service-level functions, a struct named like a
 * container type. The generated C must compile cleanly (tests/unit/thriftc gencompile).
 */
namespace c names

struct list_i32 {
	1: i32 int,
	2: string default,
	3: bool register,
	4: i64 type,
	5: i16 id,
	6: double s,
	7: byte p,
	8: list<i32> w,
	9: map<string, i32> r,
	10: optional string isset_,
	11: i32 errno,
	12: string NULL,
}

enum switch {
	case = 1,
	while,
	EOF,
}

union union_ {
	1: i32 struct_,
	2: list_i32 inner,
}

exception error {
	1: string message,
}

service handlers {
	void dispatch(1: i32 methods),
	i32 methods(1: list_i32 handlers) throws (1: error e),
	oneway void method(1: switch s),
	list<list_i32> dispatch_call(1: union_ u),
}

service send extends handlers {
	void recv(),
}
