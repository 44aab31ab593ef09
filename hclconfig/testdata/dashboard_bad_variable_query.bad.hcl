dashboard "broken" {
  variable "job" {
    query = "label_values(up{job=, job)"
  }
}
