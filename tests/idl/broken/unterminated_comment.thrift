struct A {
}
/* no end
