# Send alerts to an incident.io HTTP alert source, as Alertmanager's
# incident.io receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-incidentio.wasm ./plugins/notifier/incidentio

plugin "incidentio" {
  source      = "vigil-notifier-incidentio.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["api.incident.io"]              # the only host the module may reach
}

notifier "incidentio" {
  plugin = "incidentio"
  config {
    url                = "https://api.incident.io/v2/alert_events/http/01JEXAMPLE" # the alert source's URL
    alert_source_token = env("INCIDENTIO_TOKEN")
  }
}
