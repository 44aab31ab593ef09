# Scrape targets that an HTTP endpoint lists, as Prometheus's http_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-http ./plugins/discovery/http
# and the same plugin as a WebAssembly module with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-discovery-http.wasm ./plugins/discovery/http

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

# The module: sandboxed, it reaches only the hosts allow_hosts lists.
plugin "http_module" {
  source      = "vigil-discovery-http.wasm"
  allow_hosts = ["cmdb.example.com"]
}

discovery "cmdb" {
  plugin = "http_module"
  config {
    url              = "https://cmdb.example.com/prometheus/targets"
    refresh_interval = "30s" # the host polls the module this often
  }
}

scrape "inventory" {
  discovery = ["inventory", "cmdb"]

  # Keep only the targets the inventory marks as production.
  relabel {
    source_labels = ["env"]
    regex         = "prod"
    action        = "keep"
  }
}
