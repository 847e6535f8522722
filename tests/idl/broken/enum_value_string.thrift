enum E {
	A = "one"
}
