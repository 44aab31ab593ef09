plugin "webhook" {
  source      = "vigil-notifier-webhook"
  allow_hosts = ["example.org"]
}
