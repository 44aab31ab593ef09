server {
  listen =
}
