rules "example" {
  record "job:up:sum" {
    expr = "sum by (job) (up"
  }
}
