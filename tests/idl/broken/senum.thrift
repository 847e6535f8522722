senum S {
	"a"
}
