server {
  external_url = "vigil.example.com"
}
