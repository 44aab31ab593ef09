# Post Adaptive Cards to a Microsoft Teams channel through a Workflows
# (Power Automate) webhook, as Alertmanager's msteamsv2 receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-msteamsv2.wasm ./plugins/notifier/msteamsv2

plugin "msteamsv2" {
  source      = "vigil-notifier-msteamsv2.wasm"         # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["prod-00.westeurope.logic.azure.com"] # the host of your workflow's URL
}

notifier "msteams" {
  plugin = "msteamsv2"
  config {
    webhook_url = env("MSTEAMS_WORKFLOW_URL") # the trigger's URL, a secret
  }
}
