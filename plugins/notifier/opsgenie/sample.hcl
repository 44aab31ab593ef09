# Create Opsgenie alerts, as Alertmanager's Opsgenie receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-opsgenie.wasm ./plugins/notifier/opsgenie

plugin "opsgenie" {
  source      = "vigil-notifier-opsgenie.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["api.opsgenie.com"]           # the only host the module may reach
}

notifier "opsgenie" {
  plugin = "opsgenie"
  config {
    api_key    = env("OPSGENIE_API_KEY") # the key of an API integration
    responders = ["team:ops"]
    priority   = "{{ if eq .CommonLabels.severity \"critical\" }}P1{{ else }}P3{{ end }}"
    tags       = "vigil,{{ .CommonLabels.job }}"
  }
}
