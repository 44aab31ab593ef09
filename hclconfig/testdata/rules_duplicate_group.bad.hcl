rules "example" {
  record "job:up:sum" {
    expr = "sum by (job) (up)"
  }
}

rules "example" {
  alert "AlwaysFiring" {
    expr = "vector(1)"
  }
}
