rules "example" {
  alert "InstanceDown" {
    expr        = "up == 0"
    annotations = { summary = "Instance {{ $labels.instance " }
  }
}
