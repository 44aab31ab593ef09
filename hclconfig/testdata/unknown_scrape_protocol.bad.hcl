scrape "self" {
  targets          = ["127.0.0.1:9090"]
  scrape_protocols = ["PrometheusProto", "OpenMetrics"]
}
