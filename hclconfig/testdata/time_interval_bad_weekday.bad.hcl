time_interval "work" {
  weekdays = ["monday:fridy"]
}
