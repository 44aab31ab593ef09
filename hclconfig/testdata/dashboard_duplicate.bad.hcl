dashboard "a" {
}

dashboard "a" {
}
