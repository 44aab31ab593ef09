# A first configuration: Vigil scrapes its own metrics, and a node_exporter
# if one runs on this machine. Run it with
#   bin/vigil server --config examples/quickstart.hcl

server {
  listen    = "127.0.0.1:9090"
  data_dir  = "./data"
  retention = "15d"
}

global {
  scrape_interval = "15s"
  external_labels = { cluster = "dev" }
}

query {
  timeout = "2m"
}

scrape "vigil" {
  targets = ["127.0.0.1:9090"]
}

scrape "node" {
  targets = ["127.0.0.1:9100"]

  # Keep the host name as a label of its own.
  relabel {
    source_labels = ["__address__"]
    regex         = "([^:]+):.*"
    target_label  = "host"
  }

  # Go runtime metrics of the exporter are not interesting here.
  metric_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}

# Rules run every global evaluation_interval (1m unless set); /api/v1/rules
# and /api/v1/alerts show them.
rules "targets" {
  record "job:up:sum" {
    expr = "sum by (job) (up)"
  }

  alert "TargetDown" {
    expr        = "up == 0"
    for         = "5m"
    labels      = { severity = "warning" }
    annotations = { summary = "Target {{ $labels.instance }} of job {{ $labels.job }} is down." }
  }
}
