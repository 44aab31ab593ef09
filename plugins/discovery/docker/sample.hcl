# Scrape Docker containers, as Prometheus's docker_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-docker ./plugins/discovery/docker

plugin "docker" {
  source = "vigil-discovery-docker" # beside vigil (make plugins), on PATH, or a path
}

discovery "containers" {
  plugin = "docker"
  config {
    host             = "unix:///var/run/docker.sock"
    filters          = ["{name: label, values: ['metrics=true']}"]
    refresh_interval = "60s" # default
  }
}

scrape "containers" {
  discovery = ["containers"]

  relabel {
    source_labels = ["__meta_docker_container_name"]
    regex         = "/(.*)"
    target_label  = "container"
  }
}
