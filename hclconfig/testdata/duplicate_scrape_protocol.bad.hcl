global {
  scrape_protocols = ["PrometheusText0.0.4", "PrometheusText0.0.4"]
}
