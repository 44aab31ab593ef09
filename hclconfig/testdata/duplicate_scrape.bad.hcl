scrape "self" {
  targets = ["127.0.0.1:9090"]
}

scrape "self" {
  targets = ["127.0.0.1:9091"]
}
