# Converted from prometheus-agent.yml by vigil config import.

global {
  scrape_interval     = "15s"
  scrape_timeout      = "10s"
  evaluation_interval = "15s"
  scrape_protocols    = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}

scrape "prometheus" {
  targets = ["localhost:9090"]
}

remote_write "remote-write-url" {
  url = "http://remote-write-url"
}
