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

plugin "azure" {
  source = "vigil-discovery-azure"
}

plugin "consul" {
  source = "vigil-discovery-consul"
}

plugin "dns" {
  source = "vigil-discovery-dns"
}

plugin "docker" {
  source = "vigil-discovery-docker"
}

plugin "ec2" {
  source = "vigil-discovery-ec2"
}

plugin "eureka" {
  source = "vigil-discovery-eureka"
}

plugin "kubernetes" {
  source = "vigil-discovery-kubernetes"
}

plugin "nomad" {
  source = "vigil-discovery-nomad"
}

plugin "openstack" {
  source = "vigil-discovery-openstack"
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

discovery "service-x-dns" {
  plugin = "dns"
  config {
    refresh_interval = "15s"
    names            = ["first.dns.address.domain.com", "second.dns.address.domain.com"]
  }
}

discovery "service-x-dns-2" {
  plugin = "dns"
  config {
    names = ["first.dns.address.domain.com"]
  }
}

scrape "service-x" {
  discovery                = ["service-x-dns", "service-x-dns-2"]
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

discovery "service-y-consul" {
  plugin = "consul"
  config {
    server        = "localhost:1234"
    token         = "mysecret"
    path_prefix   = "/consul"
    services      = ["nginx", "cache", "mysql"]
    health_filter = "Service.Tags contains \"canary\""
    tags          = ["canary", "v1"]
    node_meta = {
      rack = "123"
    }
    allow_stale                     = true
    scheme                          = "https"
    tls_config_ca_file              = "valid_ca_file"
    tls_config_cert_file            = "valid_cert_file"
    tls_config_key_file             = "valid_key_file"
    tls_config_insecure_skip_verify = false
  }
}

scrape "service-y" {
  discovery                = ["service-y-consul"]
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

discovery "service-kubernetes-kubernetes" {
  plugin = "kubernetes"
  config {
    role                 = "endpoints"
    api_server           = "https://localhost:1234"
    tls_config_cert_file = "valid_cert_file"
    tls_config_key_file  = "valid_key_file"
    basic_auth_username  = "myusername"
    basic_auth_password  = "mysecret"
  }
}

scrape "service-kubernetes" {
  discovery                = ["service-kubernetes-kubernetes"]
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

discovery "service-kubernetes-namespaces-kubernetes" {
  plugin = "kubernetes"
  config {
    role             = "endpoints"
    api_server       = "https://localhost:1234"
    namespaces_names = ["default"]
  }
}

scrape "service-kubernetes-namespaces" {
  discovery                = ["service-kubernetes-namespaces-kubernetes"]
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

discovery "service-nomad-nomad" {
  plugin = "nomad"
  config {
    server = "http://localhost:4646"
  }
}

scrape "service-nomad" {
  discovery                = ["service-nomad-nomad"]
  sample_limit             = 1500
  label_limit              = 30
  label_name_length_limit  = 200
  label_value_length_limit = 200
  body_size_limit          = "15MB"
}

discovery "service-ec2-ec2" {
  plugin = "ec2"
  config {
    region     = "us-east-1"
    access_key = "access"
    secret_key = "mysecret"
    profile    = "profile"
    filters    = ["{name: 'tag:environment', values: [prod]}", "{name: 'tag:service', values: [web, db]}"]
  }
}

scrape "service-ec2" {
  discovery                = ["service-ec2-ec2"]
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

discovery "service-azure-azure" {
  plugin = "azure"
  config {
    environment           = "AzurePublicCloud"
    authentication_method = "OAuth"
    subscription_id       = "11AAAA11-A11A-111A-A111-1111A1111A11"
    resource_group        = "my-resource-group"
    tenant_id             = "BBBB222B-B2B2-2B22-B222-2BB2222BB2B2"
    client_id             = "333333CC-3C33-3333-CCC3-33C3CCCCC33C"
    client_secret         = "mysecret"
    port                  = 9100
  }
}

scrape "service-azure" {
  discovery                = ["service-azure-azure"]
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

discovery "docker-docker" {
  plugin = "docker"
  config {
    host = "unix:///var/run/docker.sock"
  }
}

scrape "docker" {
  discovery                = ["docker-docker"]
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

discovery "service-openstack-openstack" {
  plugin = "openstack"
  config {
    role                 = "instance"
    region               = "RegionOne"
    port                 = 80
    refresh_interval     = "1m"
    tls_config_ca_file   = "valid_ca_file"
    tls_config_cert_file = "valid_cert_file"
    tls_config_key_file  = "valid_key_file"
  }
}

scrape "service-openstack" {
  discovery                = ["service-openstack-openstack"]
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

discovery "service-eureka-eureka" {
  plugin = "eureka"
  config {
    server = "http://eureka.example.com:8761/eureka"
  }
}

scrape "service-eureka" {
  discovery                = ["service-eureka-eureka"]
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
