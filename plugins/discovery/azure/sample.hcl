# Scrape Azure virtual machines, as Prometheus's azure_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-azure ./plugins/discovery/azure

plugin "azure" {
  source = "vigil-discovery-azure" # beside vigil (make plugins), on PATH, or a path
}

discovery "vms" {
  plugin = "azure"
  config {
    subscription_id  = "11111111-2222-3333-4444-555555555555"
    tenant_id        = "66666666-7777-8888-9999-000000000000"
    client_id        = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    client_secret    = env("AZURE_CLIENT_SECRET")
    resource_group   = "shop"
    port             = 9100
    refresh_interval = "300s" # default
  }
}

scrape "node" {
  discovery = ["vms"]

  relabel {
    source_labels = ["__meta_azure_machine_name"]
    target_label  = "instance"
  }
}
