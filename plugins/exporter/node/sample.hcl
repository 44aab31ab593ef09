# The node exporter plugin collecting the host's statistics every 15s, as
# the job "node". A source that is a bare file name is looked for in the
# config file's folder, beside the vigil program (where make plugins puts
# the first-party plugins) and on PATH, so this file validates where it
# sits and wherever it is copied.

plugin "node" {
  source = "vigil-exporter-node" # beside vigil (make plugins), on PATH, or a path
}

exporter "node" {
  plugin   = "node"
  interval = "15s"

  config {
    collectors = ["cpu", "meminfo", "loadavg", "filesystem", "netdev", "diskstats"]
  }
}
