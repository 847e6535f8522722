const string S = "a"
const i32 X = S
