# Post to a Microsoft Teams channel through an incoming webhook (an
# Office 365 connector), as Alertmanager's msteams receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-msteams.wasm ./plugins/notifier/msteams

plugin "msteams" {
  source      = "vigil-notifier-msteams.wasm"    # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["example.webhook.office.com"] # the host of your webhook's URL
}

notifier "msteams" {
  plugin = "msteams"
  config {
    webhook_url = env("MSTEAMS_WEBHOOK_URL") # the webhook's URL, a secret
  }
}
