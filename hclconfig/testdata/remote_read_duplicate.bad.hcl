remote_read "archive" {
  url = "http://a.example.com/api/v1/read"
}

remote_read "archive" {
  url = "http://b.example.com/api/v1/read"
}
