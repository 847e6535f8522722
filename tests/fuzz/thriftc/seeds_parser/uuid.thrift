/**
 * uuid (Thrift 0.19+): kept apart from comprehensive.thrift because Debian's Apache compiler (0.17) predates it.
 */
namespace c uuids
namespace py gale_test.uuids

typedef uuid Guid

const Guid NIL_ID = "00000000-0000-0000-0000-000000000000"
const uuid SOME_ID = "{123e4567-e89b-12d3-a456-426614174000}"

struct Tagged {
	1: uuid id = SOME_ID,
	2: optional Guid other,
	3: list<uuid> many,
	4: map<uuid, string> names,
}

service Lookup {
	Tagged find(1: Guid id)
}
