server {
  retention = "-1d"
}
