time_interval "berlin" {
  weekdays = ["monday"]
  location = "Europe/Berlinn"
}
