server {
  auth {
    jwt {
      jwks_url = "https://idp.example.com/.well-known/jwks.json"
      issuer   = "https://idp.example.com/"
      audience = "vigil"
    }
  }
}
