plugin "node" { source = "vigil-exporter-node" }

exporter "node" {
  plugin = "nod"
}
