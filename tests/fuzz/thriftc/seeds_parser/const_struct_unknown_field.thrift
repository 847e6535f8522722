struct P {
	1: i32 x
}
const P ORIGIN = {"x": 1, "z": 2}
