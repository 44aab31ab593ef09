# Dashboards: one here, one in a file of dashboard_files.
dashboard_files = ["dashboards/*.hcl"]

server {
  builtin_dashboards = false
}

dashboard "hosts" {
  title       = "Hosts"
  description = "CPU and memory of the hosts."
  tags        = ["node", "hosts"]
  range       = "6h"
  refresh     = "30s"

  variable "job" {
    query = "label_values(node_uname_info, job)"
  }
  variable "instance" {
    kind        = "query"
    label       = "Host"
    query       = "label_values(node_uname_info{job=\"$job\"}, instance)"
    regex       = "(.*):9100"
    multi       = true
    include_all = true
  }
  variable "interval" {
    kind    = "interval"
    values  = ["1m", "5m", "1h"]
    default = "5m"
  }
  variable "mode" {
    kind   = "custom"
    values = ["user", "system"]
    hidden = true
  }

  panel "Load" {
    type     = "stat"
    unit     = "short"
    decimals = 2
    grid     = [0, 0, 6, 4]
    query {
      expr    = "node_load1{instance=~\"$instance\"}"
      legend  = "{{instance}}"
      instant = true
    }
    query {
      expr = "node_load5{instance=~\"$instance\"}"
      step = "30s"
    }
    threshold {
      value = 4
      color = "orange"
    }
    threshold {
      value = 8
      color = "red"
    }
  }

  row "CPU" {
    collapsed = true

    panel "CPU busy" {
      description = "The share of time the CPUs are busy."
      unit        = "percentunit"
      min         = 0
      max         = 1
      stacked     = true
      grid        = [0, 0, 12, 8]
      query {
        expr   = "sum by (mode) (rate(node_cpu_seconds_total{instance=~\"$instance\", mode=\"$mode\"}[$__rate_interval]))"
        legend = "{{mode}}"
      }
    }
  }
}
