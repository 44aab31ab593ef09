server {
  enable_remote_write_receiver   = true
  remote_read_sample_limit       = 1000
  remote_read_concurrent_limit   = 0
  remote_read_max_bytes_in_frame = "512KB"
}

global {
  external_labels = { cluster = "dev" }
}

remote_write "mimir" {
  url              = "https://mimir.example.com/api/v1/push"
  protobuf_message = "io.prometheus.write.v2.Request"
  remote_timeout   = "10s"
  headers          = { "X-Scope-OrgID" = "team-a" }
  send_exemplars   = true
  send_native_histograms = true

  basic_auth {
    username = "vigil"
    password = file("token.txt")
  }

  tls {
    ca_file = "ca.pem"
  }

  queue {
    capacity             = 2500
    min_shards           = 2
    max_shards           = 10
    max_samples_per_send = 500
    batch_send_deadline  = "1s"
    min_backoff          = "100ms"
    max_backoff          = "10s"
    retry_on_http_429    = true
  }

  write_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}

remote_write "thanos" {
  url = "http://ops:s3cr3t-url@thanos.example.com:19291/api/v1/receive?tenant=a"

  oauth2 {
    client_id       = "vigil"
    client_secret   = file("token.txt")
    token_url       = "https://auth.example.com/token"
    scopes          = ["write"]
    endpoint_params = { audience = "thanos" }
  }
}

remote_write "plain" {
  url          = "http://127.0.0.1:9091/api/v1/write"
  bearer_token = file("token.txt")
}

remote_read "archive" {
  url                    = "https://archive.example.com/api/v1/read"
  remote_timeout         = "20s"
  headers                = { "X-Scope-OrgID" = "team-a" }
  read_recent            = true
  required_matchers      = { job = "node", "service.name" = "api" }
  filter_external_labels = false
  bearer_token           = file("token.txt")

  tls {
    insecure_skip_verify = true
  }
}

remote_read "plain" {
  url = "http://ops:s3cr3t-url@127.0.0.1:9092/api/v1/read"

  basic_auth {
    username = "vigil"
    password = file("token.txt")
  }
}
