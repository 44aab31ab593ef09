registry "x" {
  url   = 42
  bogus = true
}
