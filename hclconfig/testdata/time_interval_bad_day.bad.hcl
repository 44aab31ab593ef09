time_interval "end" {
  days_of_month = ["-3:5"]
}
