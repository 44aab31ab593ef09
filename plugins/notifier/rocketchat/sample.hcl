# Post to a Rocket.Chat channel, as Alertmanager's Rocket.Chat receiver
# does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-rocketchat.wasm ./plugins/notifier/rocketchat

plugin "rocketchat" {
  source      = "vigil-notifier-rocketchat.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["chat.example.com"]             # your server, the only host the module may reach
}

notifier "rocketchat" {
  plugin = "rocketchat"
  config {
    api_url  = "https://chat.example.com/"
    token    = env("ROCKETCHAT_TOKEN") # a personal access token
    token_id = "aobEdbYhXfu5hkeqG"     # the id of its user
    channel  = "#alerts"
  }
}
