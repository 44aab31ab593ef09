# Scrape the services registered in Nomad, as Prometheus's nomad_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-nomad ./plugins/discovery/nomad

plugin "nomad" {
  source = "vigil-discovery-nomad" # beside vigil (make plugins), on PATH, or a path
}

discovery "services" {
  plugin = "nomad"
  config {
    server                    = "http://nomad.example.com:4646"
    namespace                 = "default" # default
    authorization_credentials = env("NOMAD_TOKEN")
    authorization_type        = "Bearer"
  }
}

scrape "services" {
  discovery = ["services"]

  relabel {
    source_labels = ["__meta_nomad_service"]
    target_label  = "service"
  }
}
