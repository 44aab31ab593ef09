rules "example" {
  alert "InstanceDown" {
    expr   = "up == 0"
    labels = { "__name__" = "down" }
  }
}
