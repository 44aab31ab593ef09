remote_read "archive" {
  url     = "http://a.example.com/api/v1/read"
  headers = { "X-Prometheus-Remote-Read-Version" = "0.1.0" }
}
