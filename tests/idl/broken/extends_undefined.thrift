service S extends Nope {
}
