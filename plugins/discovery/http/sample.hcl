# Scrape targets that an HTTP endpoint lists, as Prometheus's http_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-http ./plugins/discovery/http

plugin "http" {
  source = "vigil-discovery-http" # beside vigil (make plugins), on PATH, or a path
}

discovery "inventory" {
  plugin = "http"
  config {
    url              = "https://inventory.example.com/prometheus/targets"
    refresh_interval = "60s"                  # default
    timeout          = "10s"                  # default: refresh_interval
    bearer_token     = env("INVENTORY_TOKEN") # or basic_auth_username and basic_auth_password
    # tls_insecure_skip_verify = true           # only for a test endpoint
  }
}

scrape "inventory" {
  discovery = ["inventory"]

  # Keep only the targets the inventory marks as production.
  relabel {
    source_labels = ["env"]
    regex         = "prod"
    action        = "keep"
  }
}
