# The blocks that run the Python exporter; append them to a copy of
# examples/quickstart.hcl in the repository's root (see README.md).

plugin "pydirsize" {
  source = "examples/python-exporter/plugin.py" # relative to the config file's folder
}

exporter "pydirsize" {
  plugin   = "pydirsize"
  interval = "30s"
  config {
    paths = ["data"]
  }
}
