rules "example" {
  record "job:up:sum{job=\"a\"}" {
    expr = "sum by (job) (up)"
  }
}
