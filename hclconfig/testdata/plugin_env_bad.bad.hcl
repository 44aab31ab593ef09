plugin "p" {
  source = "p"
  env    = ["HOME=/root"]
}
