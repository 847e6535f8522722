const i32 X = "a"
