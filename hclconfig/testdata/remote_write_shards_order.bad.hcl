remote_write "mimir" {
  url = "https://mimir.example.com/api/v1/push"
  queue {
    min_shards = 10
    max_shards = 4
  }
}
