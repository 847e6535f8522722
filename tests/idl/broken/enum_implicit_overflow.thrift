enum F {
	C = 2147483647,
	D
}
