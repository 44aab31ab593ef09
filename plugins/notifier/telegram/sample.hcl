# Send to a Telegram chat through a bot, as Alertmanager's Telegram
# receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-telegram.wasm ./plugins/notifier/telegram

plugin "telegram" {
  source      = "vigil-notifier-telegram.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["api.telegram.org"]           # the only host the module may reach
}

notifier "telegram" {
  plugin = "telegram"
  config {
    bot_token = env("TELEGRAM_BOT_TOKEN") # from @BotFather, a secret
    chat_id   = -1001234567890            # the chat: a group's id is negative
  }
}
