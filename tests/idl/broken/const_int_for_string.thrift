const string S = 5
