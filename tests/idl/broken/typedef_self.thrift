typedef T T
