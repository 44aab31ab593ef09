# The blocks that run the notifier written in Rust; append them to a copy
# of examples/quickstart.hcl in the repository's root (see README.md).

plugin "rswebhook" {
  source      = "bin/rswebhook.wasm" # relative to the config file's folder
  allow_hosts = ["127.0.0.1:8000"]   # the only host the module may reach
}

notifier "ops" {
  plugin = "rswebhook"
  config {
    url        = "http://127.0.0.1:8000/hook"
    max_alerts = 10
  }
}

route {
  receiver = "ops"
}
