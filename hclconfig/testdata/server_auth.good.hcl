server {
  tls {
    cert_file        = "certs/server.pem"
    key_file         = "certs/server-key.pem"
    client_auth_type = "VerifyClientCertIfGiven"
    client_ca_file   = "certs/ca.pem"
    min_version      = "TLS13"
    cipher_suites    = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
  }

  auth {
    user "alice" {
      password_hash = "$2a$10$75Np6JbcU.LLM7HKi2RJmuvREsDd0D.L7KP3Ko0EWgvLrtMSoUAg."
      role          = "viewer"
      matchers      = ["team=\"a\"", "env=~\"prod|staging\""]
    }
    user "ops" {
      password_hash = "$2a$10$6fhX0URkj3uNAXiMU./7zO04tkr6ujdRfotLkbJ8.RC8JlDGHKwJi"
      role          = "admin"
    }
    token "ci" {
      sha256   = "948b8c2427cd29047839b8e4a27a08763f8befbafa86be5cce8e46217d75e58a"
      role     = "writer"
      matchers = ["team=\"a\""]
    }
    jwt {
      jwks_file  = "jwks.json"
      issuer     = "https://idp.example.com/"
      audience   = "vigil"
      role       = "operator"
      role_claim     = "vigil_role"
      name_claim     = "email"
      matchers_claim = "vigil_tenant"
    }
  }

  audit {
    enabled = true
    file    = "audit.log"
  }
}
