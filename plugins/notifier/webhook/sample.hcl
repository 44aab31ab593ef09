# Deliver alerts as Alertmanager's webhook message, version 4.
# Build the plugin with: go build -o bin/vigil-notifier-webhook ./plugins/notifier/webhook

plugin "webhook" {
  source = "vigil-notifier-webhook" # beside vigil (make plugins), on PATH, or a path
}

notifier "oncall" {
  plugin = "webhook"
  config {
    url          = "https://hooks.example.com/alertmanager"
    bearer_token = env("ONCALL_WEBHOOK_TOKEN") # or basic_auth_username and basic_auth_password
    max_alerts   = 50                          # default 0: send every alert of a group
    timeout      = "10s"                       # default
    headers      = { "X-Team" = "ops" }
  }
}
