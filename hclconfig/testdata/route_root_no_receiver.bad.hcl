route {
  group_by = ["alertname"]
}
