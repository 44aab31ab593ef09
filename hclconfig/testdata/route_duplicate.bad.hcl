plugin "slack" { source = "slack.wasm" }
notifier "team" { plugin = "slack" }
route { receiver = "team" }
route { receiver = "team" }
