plugin "node" {
  source   = "../bin/vigil-exporter-node"
  checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  env      = ["HTTPS_PROXY", "NO_PROXY"]
}

plugin "file" { source = "../bin/vigil-discovery-file" }

plugin "slack" {
  source       = "../bin/vigil-notifier-slack.wasm"
  allow_hosts  = ["hooks.slack.com"]
  memory_limit = "32MB"
  call_timeout = "5s"
}

exporter "node" {
  plugin       = "node"
  interval     = "10s"
  sample_limit = 50000

  config {
    collectors = ["cpu", "meminfo"]
  }

  metric_relabel {
    source_labels = ["__name__"]
    regex         = "node_scrape_.*"
    action        = "drop"
  }
}

discovery "files" {
  plugin = "file"
  config {
    files = ["targets/*.json"]
  }
}

notifier "team" {
  plugin = "slack"
  config {
    webhook_url = env("HOME")
  }
}

scrape "apps" {
  discovery = ["files"]
}
