include "does_not_exist.thrift"

struct A {
}
