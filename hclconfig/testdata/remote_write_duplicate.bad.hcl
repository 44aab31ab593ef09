remote_write "mimir" {
  url = "https://a.example.com/api/v1/push"
}

remote_write "mimir" {
  url = "https://b.example.com/api/v1/push"
}
