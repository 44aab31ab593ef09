server {
  auth {
    user "alice" {
      password_hash = "alice-pass"
      role          = "viewer"
    }
  }
}
