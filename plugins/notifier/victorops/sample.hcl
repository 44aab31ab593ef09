# Send incidents to VictorOps (Splunk On-Call), as Alertmanager's
# VictorOps receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-victorops.wasm ./plugins/notifier/victorops

plugin "victorops" {
  source      = "vigil-notifier-victorops.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["alert.victorops.com"]         # the only host the module may reach
}

notifier "victorops" {
  plugin = "victorops"
  config {
    api_key     = env("VICTOROPS_API_KEY") # the REST integration's key
    routing_key = "ops"                    # the team's routing key
  }
}
