server {
  otlp_body_size_limit = "0B"
}
