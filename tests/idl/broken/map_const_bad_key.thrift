const map<i32, string> M = {"k": "v"}
