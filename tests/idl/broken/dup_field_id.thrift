struct A {
	1: i32 x,
	1: i32 y
}
