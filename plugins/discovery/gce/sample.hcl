# Scrape Google Compute Engine instances, as Prometheus's gce_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-gce ./plugins/discovery/gce

plugin "gce" {
  source = "vigil-discovery-gce" # beside vigil (make plugins), on PATH, or a path
}

discovery "instances" {
  plugin = "gce"
  config {
    project          = "shop-prod"
    zone             = "europe-west2-a"
    filter           = "labels.env = \"prod\""
    port             = 9100
    # credentials_file = "/etc/vigil/gce-account.json" # else the application default credentials
  }
}

scrape "node" {
  discovery = ["instances"]

  relabel {
    source_labels = ["__meta_gce_instance_name"]
    target_label  = "instance"
  }
}
