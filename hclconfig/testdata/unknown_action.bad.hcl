scrape "self" {
  targets = ["127.0.0.1:9090"]
  relabel {
    action = "rename"
  }
}
