scrap "self" {
  targets = ["127.0.0.1:9090"]
}
