# Scrape the applications registered in Eureka, as Prometheus's eureka_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-eureka ./plugins/discovery/eureka

plugin "eureka" {
  source = "vigil-discovery-eureka" # beside vigil (make plugins), on PATH, or a path
}

discovery "apps" {
  plugin = "eureka"
  config {
    server           = "http://eureka.example.com:8761/eureka"
    refresh_interval = "30s" # default
  }
}

scrape "apps" {
  discovery = ["apps"]

  relabel {
    source_labels = ["__meta_eureka_app_instance_status"]
    regex         = "UP"
    action        = "keep"
  }
  relabel {
    source_labels = ["__meta_eureka_app_name"]
    target_label  = "app"
  }
}
