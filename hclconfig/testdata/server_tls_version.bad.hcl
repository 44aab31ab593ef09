server {
  tls {
    cert_file   = "server.pem"
    key_file    = "server-key.pem"
    min_version = "TLS10"
  }
}
