plugin "slack" { source = "../bin/vigil-notifier-slack.wasm" }

notifier "team" { plugin = "slack" }
notifier "oncall" { plugin = "slack" }
notifier "db" {
  plugin        = "slack"
  send_resolved = false
  timeout       = "30s"
}

server {
  external_url = "https://vigil.example.com/prefix"
}

global {
  resolve_timeout = "10m"
  max_alerts      = 5000
}

alertmanager {
  urls    = ["http://127.0.0.1:9093", "https://user:pass@am.example.com/am"]
  timeout = "5s"
}

alertmanager {
  urls = ["http://127.0.0.1:9094"]
}

time_interval "offhours" {
  times {
    start_time = "00:00"
    end_time   = "09:00"
  }
  times {
    start_time = "17:00"
    end_time   = "24:00"
  }
  weekdays = ["monday:friday"]
  location = "Europe/Berlin"
}

time_interval "holidays" {
  days_of_month = ["1:5", "-1"]
  months        = ["january:march", "12"]
  years         = ["2026:2027"]
}

time_interval "weekends" {
  weekdays = ["saturday", "sunday"]
}

route {
  receiver        = "team"
  group_by        = ["alertname", "job"]
  group_interval  = "10m"

  route {
    receiver            = "oncall"
    matchers            = ["severity=\"page\""]
    group_wait          = "0s"
    continue            = true
    mute_time_intervals = ["holidays"]

    route {
      matchers              = ["{service=~\"db.*\", \"k8s.io/team\"=storage}"]
      receiver              = "db"
      group_by              = ["..."]
      active_time_intervals = ["offhours", "weekends"]
    }
  }

  route {
    matchers        = ["env!=dev", "team!~\"a|b\""]
    repeat_interval = "1h"
  }
}

inhibit {
  source_matchers = ["severity=\"critical\""]
  target_matchers = ["severity=~\"warning|info\""]
  equal           = ["alertname", "cluster"]
}

inhibit {
  source_matchers = ["alertname=ClusterDown"]
  target_matchers = ["alertname!=ClusterDown"]
  equal           = ["cluster"]
}
