# Send alerts as email through an SMTP server.
# Build the plugin with: go build -o bin/vigil-notifier-email ./plugins/notifier/email

plugin "email" {
  source = "vigil-notifier-email" # beside vigil (make plugins), on PATH, or a path
}

notifier "ops-mail" {
  plugin = "email"
  config {
    smarthost     = "smtp.example.com:587"
    from          = "Vigil <vigil@example.com>"
    to            = ["ops@example.com", "Oncall <oncall@example.com>"]
    auth_username = "vigil@example.com"
    auth_password = env("SMTP_PASSWORD")
    require_tls   = true        # default: the server must offer STARTTLS
    hello         = "localhost" # default: the name given in EHLO
    # subject, text and html are Go templates over the notification; see README.md.
    subject = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"
  }
}
