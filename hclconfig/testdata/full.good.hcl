server {
  listen               = "127.0.0.1:9191"
  data_dir             = "./vigil-data"
  retention            = "15d"
  min_free_disk        = "1GB"
  max_exemplars        = 50000
  series_idle_timeout  = "3h"
  enable_admin_api     = true
  enable_push          = true
  route_prefix         = "/vigil/"
  push_group_ttl       = "6h"
  push_max_groups      = 1000
  push_body_size_limit = "1MB"
  read_timeout         = "2m"
  write_timeout        = "3m"
  max_connections      = 100
  cors_origin          = "https://grafana\\.example\\.com"
}

global {
  scrape_interval     = "15s"
  evaluation_interval = "30s"
  external_labels     = { cluster = "dev" }
  scrape_protocols    = ["OpenMetricsText1.0.0", "PrometheusText0.0.4"]
}

query {
  timeout          = "30s"
  max_samples      = 1000000
  max_concurrency  = 4
  lookback_delta   = "10m"
  max_query_length = 8192
}

scrape "self" {
  targets = ["127.0.0.1:9191"]
}

scrape "apps" {
  targets         = ["10.0.0.1:8080", "10.0.0.2:8080"]
  metrics_path    = "/internal/metrics"
  scheme          = "https"
  params          = { module = ["http_2xx"] }
  scrape_interval = "1m"
  scrape_timeout  = "20s"
  honor_labels    = true
  sample_limit    = 10000
  body_size_limit = "10MB"
  bearer_token    = file("token.txt")

  scrape_protocols         = ["PrometheusProto", "PrometheusText1.0.0"]
  fallback_scrape_protocol = "OpenMetricsText1.0.0"

  tls {
    ca_file     = "ca.pem"
    server_name = "apps.internal"
  }

  relabel {
    source_labels = ["__address__"]
    regex         = "([^:]+):.*"
    target_label  = "host"
  }

  metric_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}

rule_files = ["rules/*.yml"]

rules "example" {
  interval     = "30s"
  limit        = 100
  query_offset = "1m"
  labels       = { team = "infra" }

  record "job:up:sum" {
    expr   = "sum by (job) (up)"
    labels = { source = "vigil" }
  }

  alert "InstanceDown" {
    expr            = "up == 0"
    for             = "5m"
    keep_firing_for = "1m"
    labels          = { severity = "page" }
    annotations = {
      summary     = "Instance {{ $labels.instance }} down"
      description = "{{ $labels.instance }} of job {{ $labels.job }} has been down for more than 5 minutes (value {{ $value }})."
    }
  }
}

rules "defaults" {
  alert "AlwaysFiring" {
    expr = "vector(1)"
  }
}
