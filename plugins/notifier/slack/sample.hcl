# Post alerts to Slack through an incoming webhook.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-slack.wasm ./plugins/notifier/slack

plugin "slack" {
  source      = "vigil-notifier-slack.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["hooks.slack.com"]         # the only host the module may reach
}

notifier "slack" {
  plugin = "slack"
  config {
    webhook_url = env("SLACK_WEBHOOK_URL") # https://hooks.slack.com/services/...
    channel     = "#alerts"                # optional: the webhook's channel otherwise
    username    = "Vigil"                  # optional
    icon_emoji  = ":rotating_light:"       # optional
    # title and text are Go templates over the notification; see README.md.
    title = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"
  }
}
