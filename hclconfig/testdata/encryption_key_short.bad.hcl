server {
  encryption_key_file = "short.key"
}
