# The HAProxy exporter plugin reading HAProxy's statistics every 15s, as
# the job "haproxy". A source that is a bare file name is looked for in the
# config file's folder, beside the vigil program (where make plugins puts
# the first-party plugins) and on PATH.

plugin "haproxy" {
  source = "vigil-exporter-haproxy" # beside vigil (make plugins), on PATH, or a path
}

exporter "haproxy" {
  plugin   = "haproxy"
  interval = "15s"

  config {
    # The statistics page of a "listen stats" section with "stats uri /stats",
    # or the stats socket: "unix:/run/haproxy/admin.sock".
    scrape_uri = "http://127.0.0.1:8404/stats;csv"
  }
}
