remote_write "mimir" {
  url = "mimir.example.com/api/v1/push"
}
