struct A {
	1: foo x
}
