remote_write "mimir" {
  url          = "https://mimir.example.com/api/v1/push"
  bearer_token = "t"
  basic_auth {
    username = "u"
  }
}
