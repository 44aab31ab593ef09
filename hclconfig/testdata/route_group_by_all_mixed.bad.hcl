plugin "slack" { source = "slack.wasm" }
notifier "team" { plugin = "slack" }
route {
  receiver = "team"
  group_by = ["job", "..."]
}
