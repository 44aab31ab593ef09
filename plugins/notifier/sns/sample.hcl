# Publish to an Amazon SNS topic, as Alertmanager's SNS receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-sns.wasm ./plugins/notifier/sns

plugin "sns" {
  source      = "vigil-notifier-sns.wasm"         # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["sns.eu-west-1.amazonaws.com"] # the region's endpoint, the only host the module may reach
}

notifier "sns" {
  plugin = "sns"
  config {
    region     = "eu-west-1"
    access_key = "AKIAIOSFODNN7EXAMPLE"
    secret_key = env("AWS_SECRET_ACCESS_KEY")
    topic_arn  = "arn:aws:sns:eu-west-1:123456789012:alerts"
  }
}
