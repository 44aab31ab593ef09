# The blackbox prober probing two web sites every 30s with the module
# http_2xx, each target a target of its own with its own up and
# instance, as the job "web". A source that is a bare file name is
# looked for in the config file's folder, beside the vigil program
# (where make plugins puts the first-party plugins) and on PATH, so this
# file validates where it sits and wherever it is copied.

plugin "blackbox" {
  source = "vigil-exporter-blackbox" # beside vigil (make plugins), on PATH, or a path
}

exporter "web" {
  plugin   = "blackbox"
  interval = "30s"
  module   = "http_2xx"
  targets  = ["https://example.org", "http://127.0.0.1:9090/-/healthy"]

  config {
    # blackbox_exporter's configuration, as its blackbox.yml; or
    # config_file = "/etc/prometheus/blackbox.yml". Without either, its
    # example modules (http_2xx, tcp_connect, icmp, grpc, ...).
    modules = <<-EOT
      modules:
        http_2xx:
          prober: http
          http:
            preferred_ip_protocol: ip4
            valid_status_codes: [200]
        tcp_connect:
          prober: tcp
        icmp:
          prober: icmp
    EOT
  }
}
