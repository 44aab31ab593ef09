# The attributes the other good configurations leave out, so that the
# round trip of rendering and parsing (TestRenderRoundTrip) goes through
# every attribute. vigil.lock.hcl beside it locks the registry plugin.

global {
  scrape_interval = "30s"
  scrape_timeout  = "5s"
}

plugin "webhook" {
  source  = "registry.example.com/acme/webhook"
  version = "~> 1.2"
}

plugin "node" {
  source = "../bin/vigil-exporter-node"
}

registry "registry.example.com" {
  url          = "http://127.0.0.1:8080/mirror/"
  trusted_keys = ["ed25519:Zh2LLXYHXPUtkMKh03wayIKpqW1QCFCHnUKntut+QJA="]
}

scrape "secured" {
  targets                  = ["127.0.0.1:9443"]
  scheme                   = "https"
  honor_timestamps         = false
  label_limit              = 64
  label_name_length_limit  = 128
  label_value_length_limit = 1024

  basic_auth {
    username = "vigil"
    password = "s3cr3t"
  }

  tls {
    cert_file            = "client.pem"
    key_file             = "client-key.pem"
    insecure_skip_verify = true
  }

  relabel {
    source_labels = ["__address__", "__scheme__"]
    separator     = "|"
    modulus       = 8
    target_label  = "__tmp_shard"
    action        = "hashmod"
  }

  relabel {
    source_labels = ["__tmp_shard"]
    target_label  = "shard"
    replacement   = "shard-$1"
  }
}

exporter "node" {
  plugin                   = "node"
  interval                 = "20s"
  timeout                  = "15s"
  honor_labels             = true
  honor_timestamps         = false
  label_limit              = 10
  label_name_length_limit  = 20
  label_value_length_limit = 30
  body_size_limit          = "0B"
}
