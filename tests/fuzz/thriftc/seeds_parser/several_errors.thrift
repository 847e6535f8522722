struct A {
	1: i32
}
struct B {
	1 i32 y
}
const i32 C = "c"
