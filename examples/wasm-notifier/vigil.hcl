# The blocks that run the example notifier; append them to a copy of
# examples/quickstart.hcl in the repository's root (see README.md).

plugin "hello" {
  source      = "bin/vigil-notifier-hello.wasm" # relative to the config file's folder
  allow_hosts = ["127.0.0.1:8000"]              # the only host the module may reach
}

notifier "hello" {
  plugin = "hello"
  config {
    url = "http://127.0.0.1:8000/hook"
  }
}
