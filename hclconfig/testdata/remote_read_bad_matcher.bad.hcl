remote_read "archive" {
  url               = "http://archive.example.com:9090/api/v1/read"
  required_matchers = { job = "node", "" = "x" }
}
