plugin "slack" { source = "slack.wasm" }
notifier "team" { plugin = "slack" }
time_interval "weekends" { weekdays = ["saturday", "sunday"] }
route {
  receiver = "team"
  route {
    matchers            = ["env=prod"]
    mute_time_intervals = ["weekend"]
  }
}
