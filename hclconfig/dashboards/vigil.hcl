# Vigil's own dashboard: the server's ingestion, queries, rules,
# notifications and plugins, from the metrics it serves at /metrics. It
# shows data when a scrape block collects the server's /metrics.

dashboard "vigil" {
  title       = "Vigil"
  description = "The server's ingestion, queries, rules, notifications and plugins, from its own /metrics (scrape it to fill the panels)."
  tags        = ["vigil"]
  range       = "1h"
  refresh     = "30s"

  variable "job" {
    label = "Job"
    query = "label_values(vigil_tsdb_series, job)"
  }
  variable "instance" {
    label       = "Instance"
    query       = "label_values(vigil_tsdb_series{job=\"$job\"}, instance)"
    include_all = true
  }

  panel "Series in memory" {
    type = "stat"
    unit = "short"
    grid = [0, 0, 4, 4]
    query {
      expr    = "sum(vigil_tsdb_series{job=\"$job\", instance=~\"$instance\"})"
      instant = true
    }
  }
  panel "Samples appended" {
    type = "stat"
    unit = "ops"
    grid = [4, 0, 4, 4]
    query {
      expr    = "sum(rate(vigil_tsdb_samples_appended_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
      instant = true
    }
  }
  panel "Targets" {
    type = "stat"
    unit = "short"
    grid = [8, 0, 4, 4]
    query {
      expr    = "sum(vigil_scrape_targets{job=\"$job\", instance=~\"$instance\"})"
      instant = true
    }
  }
  panel "Plugins up" {
    type = "stat"
    unit = "short"
    grid = [12, 0, 4, 4]
    query {
      expr    = "sum(vigil_plugin_up{job=\"$job\", instance=~\"$instance\"})"
      instant = true
    }
  }
  panel "Last reload successful" {
    type = "stat"
    unit = "bool_yes_no"
    grid = [16, 0, 4, 4]
    query {
      expr    = "min(vigil_config_last_reload_successful{job=\"$job\", instance=~\"$instance\"})"
      instant = true
    }
    threshold {
      value = 0
      color = "red"
    }
    threshold {
      value = 1
      color = "green"
    }
  }
  panel "Free disk" {
    type = "stat"
    unit = "bytes"
    grid = [20, 0, 4, 4]
    query {
      expr    = "min(vigil_storage_disk_free_bytes{job=\"$job\", instance=~\"$instance\"})"
      instant = true
    }
  }

  row "Ingestion" {
    panel "Samples appended and refused" {
      unit = "ops"
      grid = [0, 0, 12, 8]
      query {
        expr   = "sum(rate(vigil_tsdb_samples_appended_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "appended"
      }
      query {
        expr   = "sum(rate(vigil_tsdb_samples_refused_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "refused"
      }
    }
    panel "Series" {
      unit = "short"
      grid = [12, 0, 12, 8]
      query {
        expr   = "vigil_tsdb_series{job=\"$job\", instance=~\"$instance\"}"
        legend = "{{instance}}"
      }
    }
    panel "Scrape duration" {
      type = "heatmap"
      unit = "s"
      grid = [0, 8, 12, 8]
      query {
        expr = "sum by (le) (rate(vigil_scrape_duration_seconds_bucket{job=\"$job\", instance=~\"$instance\"}[$__rate_interval])) or sum(rate(vigil_scrape_duration_seconds{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
      }
    }
    panel "Write-ahead log" {
      unit = "bytes"
      grid = [12, 8, 12, 8]
      query {
        expr   = "vigil_tsdb_wal_bytes{job=\"$job\", instance=~\"$instance\"}"
        legend = "{{instance}}"
      }
    }
  }

  row "Queries" {
    panel "HTTP requests" {
      unit    = "reqps"
      stacked = true
      grid    = [0, 0, 12, 8]
      query {
        expr   = "sum by (handler) (rate(vigil_http_requests_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "{{handler}}"
      }
    }
    panel "HTTP request duration, 99th percentile" {
      unit = "s"
      grid = [12, 0, 12, 8]
      query {
        expr   = "histogram_quantile(0.99, sum by (le, handler) (rate(vigil_http_request_duration_seconds_bucket{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))) or histogram_quantile(0.99, sum by (handler) (rate(vigil_http_request_duration_seconds{job=\"$job\", instance=~\"$instance\"}[$__rate_interval])))"
        legend = "{{handler}}"
      }
    }
    panel "Query time, 90th percentile" {
      unit = "s"
      grid = [0, 8, 12, 8]
      query {
        expr   = "max by (slice) (prometheus_engine_query_duration_seconds{job=\"$job\", instance=~\"$instance\", quantile=\"0.9\"})"
        legend = "{{slice}}"
      }
    }
    panel "Samples read by queries" {
      unit = "ops"
      grid = [12, 8, 12, 8]
      query {
        expr   = "sum(rate(prometheus_engine_query_samples_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "samples"
      }
    }
  }

  row "Rules" {
    panel "Rule evaluations" {
      unit = "ops"
      grid = [0, 0, 12, 8]
      query {
        expr   = "sum(rate(prometheus_rule_evaluations_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "evaluations"
      }
      query {
        expr   = "sum(rate(prometheus_rule_evaluation_failures_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "failures"
      }
    }
    panel "Rule group duration" {
      unit = "s"
      grid = [12, 0, 12, 8]
      query {
        expr   = "max by (rule_group) (prometheus_rule_group_last_duration_seconds{job=\"$job\", instance=~\"$instance\"})"
        legend = "{{rule_group}}"
      }
    }
  }

  row "Notifications" {
    panel "Notifications sent" {
      unit = "ops"
      grid = [0, 0, 12, 8]
      query {
        expr   = "sum by (receiver) (rate(vigil_notifications_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "{{receiver}}"
      }
      query {
        expr   = "sum by (receiver) (rate(vigil_notifications_failed_total{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))"
        legend = "{{receiver}} failed"
      }
    }
    panel "Notification latency, 99th percentile" {
      unit = "s"
      grid = [12, 0, 12, 8]
      query {
        expr   = "histogram_quantile(0.99, sum by (le, receiver) (rate(vigil_notification_latency_seconds_bucket{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))) or histogram_quantile(0.99, sum by (receiver) (rate(vigil_notification_latency_seconds{job=\"$job\", instance=~\"$instance\"}[$__rate_interval])))"
        legend = "{{receiver}}"
      }
    }
  }

  row "Plugins" {
    panel "Plugins" {
      type = "table"
      grid = [0, 0, 12, 8]
      query {
        expr    = "vigil_plugin_up{job=\"$job\", instance=~\"$instance\"}"
        instant = true
      }
    }
    panel "Plugin call duration, 99th percentile" {
      unit = "s"
      grid = [12, 0, 12, 8]
      query {
        expr   = "histogram_quantile(0.99, sum by (le, plugin, call) (rate(vigil_plugin_call_duration_seconds_bucket{job=\"$job\", instance=~\"$instance\"}[$__rate_interval]))) or histogram_quantile(0.99, sum by (plugin, call) (rate(vigil_plugin_call_duration_seconds{job=\"$job\", instance=~\"$instance\"}[$__rate_interval])))"
        legend = "{{plugin}} {{call}}"
      }
    }
  }
}
