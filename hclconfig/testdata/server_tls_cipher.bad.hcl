server {
  tls {
    cert_file     = "server.pem"
    key_file      = "server-key.pem"
    cipher_suites = ["TLS_RSA_WITH_RC4_128_SHA"]
  }
}
