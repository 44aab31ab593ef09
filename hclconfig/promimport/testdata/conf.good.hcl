# Converted from conf.good.yml by vigil config import.

rule_files = ["first.rules", "my/*.rules"]

server {
  retention = "1d"
}

global {
  scrape_interval     = "15s"
  scrape_timeout      = "10s"
  evaluation_interval = "30s"
  external_labels = {
    foo     = "bar"
    monitor = "codelab"
  }
  scrape_protocols = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}

otlp {
  # The receiver is on with server { enable_otlp_receiver = true }, as --web.enable-otlp-receiver.
  promote_resource_attributes = ["k8s.cluster.name", "k8s.job.name", "k8s.namespace.name"]
}

plugin "file" {
  source = "vigil-discovery-file"
}

plugin "http" {
  source = "vigil-discovery-http"
}

discovery "prometheus-file" {
  plugin = "file"
  config {
    files            = ["foo/*.slow.json", "foo/*.slow.yml", "single/file.yml"]
    refresh_interval = "10m"
  }
}

discovery "prometheus-file-2" {
  plugin = "file"
  config {
    files = ["bar/*.yaml"]
  }
}

scrape "prometheus" {
  targets                  = ["localhost:9090", "localhost:9191"]
  discovery                = ["prometheus-file", "prometheus-file-2"]
  honor_labels             = true
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
  fallback_scrape_protocol = "PrometheusText0.0.4"
  bearer_token_file        = "valid_token_file"

  tls {
    min_version = "TLS10"
  }

  # The labels of static_configs.
  relabel {
    source_labels = ["__address__"]
    regex         = "localhost:9090|localhost:9191"
    target_label  = "my"
    replacement   = "label"
  }

  relabel {
    source_labels = ["__address__"]
    regex         = "localhost:9090|localhost:9191"
    target_label  = "your"
    replacement   = "label"
  }

  relabel {
    source_labels = ["job", "__meta_dns_name"]
    regex         = "(.*)some-[regex]"
    target_label  = "job"
    replacement   = "foo-$${1}"
  }

  relabel {
    source_labels = ["abc"]
    target_label  = "cde"
  }

  relabel {
    target_label = "abc"
    replacement  = "static"
  }

  relabel {
    regex        = ""
    target_label = "abc"
    replacement  = "static"
  }

  relabel {
    source_labels = ["foo"]
    target_label  = "abc"
    action        = "keepequal"
  }

  relabel {
    source_labels = ["foo"]
    target_label  = "abc"
    action        = "dropequal"
  }
}

scrape "service-x" {
  metrics_path             = "/my_path"
  scheme                   = "https"
  scrape_interval          = "50s"
  scrape_timeout           = "5s"
  sample_limit             = 1000
  label_limit              = 35
  label_name_length_limit  = 210
  label_value_length_limit = 210
  body_size_limit          = "10MB"
  scrape_protocols         = ["PrometheusText0.0.4"]

  basic_auth {
    username = "admin_name"
    password = "multiline\nmysecret\ntest"
  }

  relabel {
    source_labels = ["job"]
    regex         = "(.*)some-[regex]"
    action        = "drop"
  }

  relabel {
    source_labels = ["__address__"]
    modulus       = 8
    target_label  = "__tmp_hash"
    action        = "hashmod"
  }

  relabel {
    source_labels = ["__tmp_hash"]
    regex         = "1"
    action        = "keep"
  }

  relabel {
    regex  = "1"
    action = "labelmap"
  }

  relabel {
    regex  = "d"
    action = "labeldrop"
  }

  relabel {
    regex  = "k"
    action = "labelkeep"
  }

  metric_relabel {
    source_labels = ["__name__"]
    regex         = "expensive_metric.*"
    action        = "drop"
  }
}

scrape "service-y" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"

  relabel {
    source_labels = ["__meta_sd_consul_tags"]
    separator     = ","
    regex         = "label:([^=]+)=([^,]+)"
    target_label  = "$${1}"
    replacement   = "$${2}"
  }
}

scrape "service-z" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
  bearer_token             = "mysecret"

  tls {
    cert_file = "valid_cert_file"
    key_file  = "valid_key_file"
  }
}

scrape "service-kubernetes" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-kubernetes-namespaces" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"

  basic_auth {
    username      = "myusername"
    password_file = "valid_password_file"
  }
}

scrape "service-kuma" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-marathon" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-nomad" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-ec2" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-lightsail" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-azure" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-nerve" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "0123service-xxx" {
  targets                  = ["localhost:9090"]
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "badfederation" {
  targets                  = ["localhost:9090"]
  metrics_path             = "/federate"
  honor_timestamps         = false
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "測試" {
  targets                  = ["localhost:9090"]
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

discovery "httpsd-http" {
  plugin = "http"
  config {
    url = "http://example.com/prometheus"
  }
}

scrape "httpsd" {
  discovery                = ["httpsd-http"]
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-triton" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "digitalocean-droplets" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "docker" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "dockerswarm" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-oci" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-openstack" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "service-puppetdb" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "hetzner" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
  scrape_protocols         = ["PrometheusProto", "OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]

  relabel {
    source_labels = ["instance"]
    target_label  = "instance"
    action        = "uppercase"
  }
}

scrape "service-eureka" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "ovhcloud" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "scaleway" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "linode-instances" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "stackit-servers" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "uyuni" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "ionos" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "vultr" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

scrape "outscale" {
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

alertmanager {
  urls = ["https://1.2.3.4:9093", "https://1.2.3.5:9093", "https://1.2.3.6:9093"]
}

remote_write "drop_expensive" {
  url = "http://remote1/push"

  oauth2 {
    client_id     = "123"
    client_secret = "456"
    token_url     = "http://remote1/auth"
  }

  write_relabel {
    source_labels = ["__name__"]
    regex         = "expensive.*"
    action        = "drop"
  }
}

remote_write "rw_tls" {
  url              = "http://remote2/push"
  protobuf_message = "io.prometheus.write.v2.Request"
  headers = {
    name = "value"
  }

  tls {
    cert_file = "valid_cert_file"
    key_file  = "valid_key_file"
  }
}

remote_read "default" {
  url          = "http://remote1/read"
  read_recent  = true
  enable_http2 = false
}

remote_read "read_special" {
  url = "http://remote3/read"
  required_matchers = {
    job = "special"
  }

  tls {
    cert_file = "valid_cert_file"
    key_file  = "valid_key_file"
  }
}
