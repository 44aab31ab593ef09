dashboard "broken" {
  panel "Wide" {
    grid = [20, 0, 8, 4]
    query {
      expr = "up"
    }
  }
}
