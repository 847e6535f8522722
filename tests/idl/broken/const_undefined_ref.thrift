const i32 X = NOPE
