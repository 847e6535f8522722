const bool B = 2
