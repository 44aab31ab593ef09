server {
  route_prefix = "vigil"
}
