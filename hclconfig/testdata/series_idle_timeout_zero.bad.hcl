server {
  series_idle_timeout = "0s"
}
