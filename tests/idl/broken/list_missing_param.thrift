struct A {
	1: list<> x
}
