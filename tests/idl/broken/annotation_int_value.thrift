struct A {
	1: i32 x (len = 5)
}
