server {
  auth {
  }
}
