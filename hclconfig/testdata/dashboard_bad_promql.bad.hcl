dashboard "broken" {
  panel "Rate" {
    query {
      expr = "rate(x[5m]"
    }
  }
}
