# Scrape OpenStack instances, as Prometheus's openstack_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-openstack ./plugins/discovery/openstack

plugin "openstack" {
  source = "vigil-discovery-openstack" # beside vigil (make plugins), on PATH, or a path
}

discovery "instances" {
  plugin = "openstack"
  config {
    identity_endpoint = "https://keystone.example.com:5000/v3"
    username          = "vigil"
    password          = env("OS_PASSWORD")
    domain_name       = "Default"
    project_name      = "shop"
    role              = "instance"
    region            = "RegionOne"
    port              = 9100
  }
}

scrape "node" {
  discovery = ["instances"]

  relabel {
    source_labels = ["__meta_openstack_instance_status"]
    regex         = "ACTIVE"
    action        = "keep"
  }
  relabel {
    source_labels = ["__meta_openstack_instance_name"]
    target_label  = "instance"
  }
}
