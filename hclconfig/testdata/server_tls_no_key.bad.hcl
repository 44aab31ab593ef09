server {
  tls {
    cert_file = "server.pem"
  }
}
