plugin "blackbox" { source = "vigil-exporter-blackbox" }

exporter "web" {
  plugin = "blackbox"
  module = "http_2xx"
}
