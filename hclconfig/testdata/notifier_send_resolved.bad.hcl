plugin "webhook" { source = "webhook" }
notifier "ops" {
  plugin        = "webhook"
  send_resolved = "sometimes"
}
