time_interval "q1" {
  months = ["march:january"]
}
