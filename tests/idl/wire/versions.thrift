/**
 * Two versions of one record for the unknown-field tests: a newer writer (RecordV2) and an older reader
 * (RecordV1) that must skip fields 3 to 7 of every type and still read 1 and 2.
 */
namespace c versions
namespace py gale_test.versions

struct Nested {
	1: string text,
	2: list<i32> numbers,
}

struct RecordV1 {
	1: i32 id,
	2: string name,
}

struct RecordV2 {
	1: i32 id,
	2: string name,
	3: list<string> tags,
	4: Nested nested,
	5: map<string, double> weights,
	6: double score,
	7: set<i64> seen,
	8: bool flag,
	9: binary raw,
}
