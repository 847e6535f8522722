struct A {
}
message B {
}
