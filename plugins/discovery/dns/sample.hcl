# Scrape the targets that DNS names, as Prometheus's dns_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-dns ./plugins/discovery/dns

plugin "dns" {
  source = "vigil-discovery-dns" # beside vigil (make plugins), on PATH, or a path
}

# SRV records carry each target's host and port.
discovery "api" {
  plugin = "dns"
  config {
    names            = ["_api._tcp.example.com"]
    type             = "SRV" # default
    refresh_interval = "30s" # default
  }
}

# A records need the port; here asked of a name server of our own.
discovery "web" {
  plugin = "dns"
  config {
    names       = ["web.example.com"]
    type        = "A"
    port        = 9100
    nameservers = ["10.0.0.53:53"]
  }
}

scrape "dns" {
  discovery = ["api", "web"]

  # The record name, as a label, without the SRV prefix.
  relabel {
    source_labels = ["__meta_dns_name"]
    regex         = "(?:_[^.]+\\._tcp\\.)?(.*)"
    target_label  = "service"
  }
}
