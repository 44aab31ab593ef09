# Send alerts to PagerDuty through its Events API v2.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-pagerduty.wasm ./plugins/notifier/pagerduty

plugin "pagerduty" {
  source      = "vigil-notifier-pagerduty.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["events.pagerduty.com"]        # the only host the module may reach
}

notifier "pagerduty" {
  plugin = "pagerduty"
  config {
    routing_key = env("PAGERDUTY_ROUTING_KEY") # the service's Events API v2 integration key
    severity    = "critical"                   # default "error"; critical, error, warning or info
    source      = "vigil-prod"                 # default "vigil"
    client_url  = "https://vigil.example.com"  # optional: the notification's external URL otherwise
  }
}
