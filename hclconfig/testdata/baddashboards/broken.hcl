dashboard "included" {
  panel "Sum" {
    query {
      expr = "sum(up"
    }
  }
}
