# Scrape the services registered in Consul, as Prometheus's consul_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-consul ./plugins/discovery/consul

plugin "consul" {
  source = "vigil-discovery-consul" # beside vigil (make plugins), on PATH, or a path
}

discovery "services" {
  plugin = "consul"
  config {
    server           = "consul.example.com:8500"
    token            = env("CONSUL_TOKEN")
    services         = ["web", "api"]
    tags             = ["metrics"]
    refresh_interval = "30s" # default
  }
}

scrape "services" {
  discovery = ["services"]

  # Only healthy instances, labelled by service.
  relabel {
    source_labels = ["__meta_consul_health"]
    regex         = "passing"
    action        = "keep"
  }
  relabel {
    source_labels = ["__meta_consul_service"]
    target_label  = "service"
  }
}
