time_interval "day" {
  times {
    start_time = "9:00"
    end_time   = "17:00"
  }
}
