# Converted from migrate.yml by vigil config import.

rule_files = ["rules/*.yml"]

global {
  scrape_interval     = "15s"
  scrape_timeout      = "10s"
  evaluation_interval = "30s"
  external_labels = {
    cluster = "demo"
  }
  scrape_protocols = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}

plugin "file" {
  source = "vigil-discovery-file"
}

plugin "http" {
  source = "vigil-discovery-http"
}

scrape "prometheus" {
  targets = ["127.0.0.1:9090"]

  # The labels of static_configs.
  relabel {
    target_label = "team"
    replacement  = "infra"
  }
}

discovery "node-file" {
  plugin = "file"
  config {
    files = ["targets/node-*.json"]
  }
}

scrape "node" {
  discovery       = ["node-file"]
  scrape_interval = "30s"

  relabel {
    source_labels = ["__meta_filepath"]
    regex         = ".*/node-(.*)\\.json"
    target_label  = "fleet"
  }

  metric_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}

discovery "inventory-http" {
  plugin = "http"
  config {
    url                 = "https://inventory.example.com/targets"
    refresh_interval    = "5m"
    basic_auth_username = "vigil"
    basic_auth_password = "changeme"
  }
}

scrape "inventory" {
  discovery = ["inventory-http"]
  scheme    = "https"

  basic_auth {
    username = "scraper"
    password = "changeme"
  }

  tls {
    server_name = "apps.internal"
  }
}

alertmanager {
  urls = ["http://127.0.0.1:9093"]
}
