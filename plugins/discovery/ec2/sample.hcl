# Scrape the EC2 instances of a region, as Prometheus's ec2_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-ec2 ./plugins/discovery/ec2

plugin "ec2" {
  source = "vigil-discovery-ec2" # beside vigil (make plugins), on PATH, or a path
}

discovery "instances" {
  plugin = "ec2"
  config {
    region           = "eu-west-2"
    access_key       = "AKIAEXAMPLE"
    secret_key       = env("AWS_SECRET_ACCESS_KEY")
    port             = 9100
    refresh_interval = "60s" # default
    filters          = ["{name: 'tag:env', values: [prod]}", "{name: instance-state-name, values: [running]}"]
  }
}

scrape "node" {
  discovery = ["instances"]

  # The instance's Name tag as the instance label.
  relabel {
    source_labels = ["__meta_ec2_tag_Name"]
    target_label  = "instance"
  }
  relabel {
    source_labels = ["__meta_ec2_availability_zone"]
    target_label  = "zone"
  }
}
