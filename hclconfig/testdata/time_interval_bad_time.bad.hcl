time_interval "night" {
  times {
    start_time = "22:00"
    end_time   = "06:00"
  }
}
