server {
  auth {
    token "ci" {
      sha256 = "ci-token"
      role   = "writer"
    }
  }
}
