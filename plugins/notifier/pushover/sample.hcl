# Send Pushover messages, as Alertmanager's Pushover receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-pushover.wasm ./plugins/notifier/pushover

plugin "pushover" {
  source      = "vigil-notifier-pushover.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["api.pushover.net"]           # the only host the module may reach
}

notifier "pushover" {
  plugin = "pushover"
  config {
    user_key = env("PUSHOVER_USER_KEY") # the recipient's user or group key
    token    = env("PUSHOVER_TOKEN")    # the application's API token
    sound    = "siren"
  }
}
