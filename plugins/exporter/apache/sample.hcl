# The Apache exporter plugin, a WebAssembly module, reading Apache's
# mod_status page every 15s as the job "apache". Build it with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-exporter-apache.wasm ./plugins/exporter/apache

plugin "apache" {
  source      = "vigil-exporter-apache.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["127.0.0.1"]                # the only host the module may reach
}

exporter "apache" {
  plugin   = "apache"
  interval = "15s"

  config {
    # mod_status's machine-readable page: "?auto".
    scrape_uri = "http://127.0.0.1/server-status?auto"
  }
}
