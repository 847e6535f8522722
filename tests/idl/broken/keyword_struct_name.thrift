struct struct {
}
