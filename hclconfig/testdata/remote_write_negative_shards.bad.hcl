remote_write "mimir" {
  url = "https://mimir.example.com/api/v1/push"
  queue {
    max_shards = -2
  }
}
