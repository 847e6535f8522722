const i32 X 5
