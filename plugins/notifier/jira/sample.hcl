# Open a Jira issue per alert group, as Alertmanager's Jira receiver does.
# Build the plugin with:
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/vigil-notifier-jira.wasm ./plugins/notifier/jira

plugin "jira" {
  source      = "vigil-notifier-jira.wasm" # beside vigil (make plugins), on PATH, or a path
  allow_hosts = ["example.atlassian.net"]  # your Jira, the only host the module may reach
}

notifier "jira" {
  plugin = "jira"
  config {
    api_url            = "https://example.atlassian.net/rest/api/2"
    username           = "alerts@example.com"
    password           = env("JIRA_API_TOKEN") # an API token
    project            = "OPS"
    issue_type         = "Bug"
    resolve_transition = "Done"
  }
}
