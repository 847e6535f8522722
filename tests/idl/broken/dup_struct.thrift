struct A {
}

struct A {
}
