struct A {
}
include "aux/ok.thrift"
