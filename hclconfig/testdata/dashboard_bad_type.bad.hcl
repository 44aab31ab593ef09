dashboard "broken" {
  panel "Pie" {
    type = "pie"
    query {
      expr = "up"
    }
  }
}
