# The node exporter plugin collecting the host's statistics every 15s, as
# the job "node", with node_exporter's default collectors and the
# processes collector. A source that is a bare file name is looked for in
# the config file's folder, beside the vigil program (where make plugins
# puts the first-party plugins) and on PATH, so this file validates where
# it sits and wherever it is copied.

plugin "node" {
  source = "vigil-exporter-node" # beside vigil (make plugins), on PATH, or a path
}

exporter "node" {
  plugin   = "node"
  interval = "15s"

  config {
    enable_collectors     = ["processes"]
    netdev_device_exclude = "^(veth|docker|br-)"
    # The *.prom files of the textfile collector:
    # textfile_directory = ["/var/lib/node_exporter/textfile_collector"]
  }
}
