dashboard "extra" {
  panel "Up" {
    query {
      expr = "up"
    }
  }
}
