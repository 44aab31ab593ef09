dashboard "broken" {
  variable "job" {
    query = "label_values(up, job)"
  }
  panel "Up" {
    query {
      expr = "up{job=\"$job\", instance=\"$host\"}"
    }
  }
}
