server {
  tls {
    cert_file        = "server.pem"
    key_file         = "server-key.pem"
    client_auth_type = "RequireClientCertificate"
  }
}
