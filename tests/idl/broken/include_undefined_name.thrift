include "aux/ok.thrift"

struct A {
	1: ok.Nope n
}
