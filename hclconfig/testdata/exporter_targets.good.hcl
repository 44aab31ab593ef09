plugin "file" { source = "../bin/vigil-discovery-file" }

discovery "files" {
  plugin = "file"
  config {
    files = ["targets/*.json"]
  }
}

plugin "blackbox" { source = "../bin/vigil-exporter-blackbox" }

exporter "web" {
  plugin    = "blackbox"
  targets   = ["https://example.org", "http://127.0.0.1:8080/health"]
  discovery = ["files"]
  module    = "http_2xx"
}

exporter "dns" {
  plugin  = "blackbox"
  targets = ["127.0.0.1:53"]
  params  = { module = ["dns_a"] }

  relabel {
    source_labels = ["__address__"]
    target_label  = "__param_target"
  }
}
