include "aux/cycle_b.thrift"

struct A {
}
