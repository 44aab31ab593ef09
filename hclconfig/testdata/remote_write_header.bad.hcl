remote_write "mimir" {
  url     = "https://mimir.example.com/api/v1/push"
  headers = { "X-Scope-OrgID" = "team-a", Authorization = "Bearer x" }
}
