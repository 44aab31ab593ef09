remote_read "archive" {
  url          = "http://a.example.com/api/v1/read"
  headers      = { "X-Scope-OrgID" = "team-a" }
  bearer_token = "t"

  oauth2 {
    client_id = "vigil"
    token_url = "https://auth.example.com/token"
  }
}
