inhibit {
  source_matchers = ["severity=critical"]
  target_matchers = ["severity=="]
  equal           = ["alertname"]
}
