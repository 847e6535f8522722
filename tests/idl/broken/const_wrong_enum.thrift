enum E {
	A
}
enum F {
	B
}
const E X = F.B
