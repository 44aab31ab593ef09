# The node exporter plugin collecting the host's statistics every 15s, as
# the job "node". A relative source is resolved against the folder of the
# config file: this one expects to sit at the repository's root, next to
# bin/ (see README.md).

plugin "node" {
  source = "./bin/vigil-exporter-node"
}

exporter "node" {
  plugin   = "node"
  interval = "15s"

  config {
    collectors = ["cpu", "meminfo", "loadavg", "filesystem", "netdev", "diskstats"]
  }
}
