# Post to a Cisco Webex room as a bot, as Alertmanager's Webex receiver
# does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-webex.wasm ./plugins/notifier/webex

plugin "webex" {
  source      = "vigil-notifier-webex.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["webexapis.com"]           # the only host the module may reach
}

notifier "webex" {
  plugin = "webex"
  config {
    bot_token = env("WEBEX_BOT_TOKEN") # the bot's access token
    room_id   = "Y2lzY29zcGFyazovL3VzL1JPT00vexample"
  }
}
