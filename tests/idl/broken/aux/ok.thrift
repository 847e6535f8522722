struct Fine {
	1: i32 x
}
