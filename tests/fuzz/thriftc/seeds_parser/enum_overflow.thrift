enum E {
	A = 0x7fffffffffffffff,
	B
}
enum F {
	C = 2147483647,
	D
}
