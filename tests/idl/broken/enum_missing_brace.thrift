enum E
	A
}
