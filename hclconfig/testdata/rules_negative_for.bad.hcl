rules "example" {
  alert "InstanceDown" {
    expr = "up == 0"
    for  = "-5m"
  }
}
