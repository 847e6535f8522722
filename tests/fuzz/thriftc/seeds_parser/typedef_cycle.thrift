typedef B A
typedef A B
