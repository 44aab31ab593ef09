# The blocks that run the example exporter; append them to a copy of
# examples/quickstart.hcl in the repository's root (see README.md).

plugin "dirsize" {
  source = "bin/vigil-exporter-dirsize" # relative to the config file's folder
}

exporter "dirsize" {
  plugin   = "dirsize"
  interval = "30s"
  config {
    paths = ["data"]
  }
}
