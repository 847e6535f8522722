const i8 X = 128
