scrape "self" {
  targets         = ["127.0.0.1:9090"]
  scrape_interval = "10s"
  scrape_timeout  = "30s"
}
