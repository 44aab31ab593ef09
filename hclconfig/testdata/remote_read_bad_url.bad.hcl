remote_read "archive" {
  url = "archive.example.com:9090/api/v1/read"
}
