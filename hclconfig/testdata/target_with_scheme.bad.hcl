scrape "self" {
  targets = ["http://127.0.0.1:9090/metrics"]
}
