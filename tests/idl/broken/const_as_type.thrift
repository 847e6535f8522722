const i32 C = 1
struct A {
	1: C c
}
