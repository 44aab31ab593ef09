# Post to a Discord channel through a webhook, as Alertmanager's Discord
# receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-discord.wasm ./plugins/notifier/discord

plugin "discord" {
  source      = "vigil-notifier-discord.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["discord.com"]               # the only host the module may reach
}

notifier "discord" {
  plugin = "discord"
  config {
    webhook_url = env("DISCORD_WEBHOOK_URL") # the webhook's URL, a secret
    username    = "Vigil"
  }
}
