# Every HTTP client setting, on each kind of block that makes requests.

scrape "proxied" {
  targets                = ["10.0.0.1:8080"]
  scheme                 = "https"
  headers                = { "X-Tenant" = "a" }
  proxy_url              = "http://proxy.example.com:3128"
  no_proxy               = "localhost,10.0.0.0/8"
  follow_redirects       = false
  enable_http2           = false

  basic_auth {
    username      = "vigil"
    password_file = "password.txt"
  }

  tls {
    ca_file     = "ca.pem"
    cert_file   = "client.pem"
    key_file    = "client-key.pem"
    min_version = "TLS13"
  }
}

scrape "token_file" {
  targets                = ["10.0.0.2:8080"]
  bearer_token_file      = "token.txt"
  proxy_from_environment = true
}

scrape "oauth" {
  targets = ["10.0.0.3:8080"]

  oauth2 {
    client_id          = "vigil"
    client_secret_file = "secret.txt"
    token_url          = "https://auth.example.com/token"
  }
}

alertmanager {
  urls              = ["https://am.example.com"]
  headers           = { "X-Scope-OrgID" = "ops" }
  bearer_token_file = "am-token.txt"
  proxy_url         = "http://proxy.example.com:3128"
  no_proxy          = "am.internal"
  follow_redirects  = false
  enable_http2      = false

  tls {
    ca_file = "ca.pem"
  }
}

alertmanager {
  urls                   = ["https://am2.example.com"]
  bearer_token           = "am-secret"
  proxy_from_environment = true
}

remote_write "proxied" {
  url               = "https://mimir.example.com/api/v1/push"
  bearer_token_file = "token.txt"
  proxy_url         = "http://proxy.example.com:3128"
  no_proxy          = "localhost"
  follow_redirects  = false
  enable_http2      = true
}

remote_write "from_environment" {
  url                    = "https://mimir.example.com/api/v1/push"
  proxy_from_environment = true
}

remote_read "proxied" {
  url               = "https://prometheus.example.com/api/v1/read"
  bearer_token_file = "token.txt"
  proxy_url         = "http://proxy.example.com:3128"
  no_proxy          = "localhost"
  follow_redirects  = false
  enable_http2      = false
}

remote_read "from_environment" {
  url                    = "https://prometheus.example.com/api/v1/read"
  proxy_from_environment = true
}
