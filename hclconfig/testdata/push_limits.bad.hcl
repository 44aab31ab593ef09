server {
  enable_push          = true
  push_body_size_limit = "16 megs"
}
