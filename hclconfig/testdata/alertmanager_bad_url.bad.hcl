alertmanager {
  urls = ["http://127.0.0.1:9093", "127.0.0.1:9093"]
}
