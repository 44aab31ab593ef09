server {
  auth {
    jwt {
      jwks_file = "jwks.json"
      issuer    = "https://idp.example.com/"
    }
  }
}
