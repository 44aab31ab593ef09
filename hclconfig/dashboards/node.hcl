# The dashboard of the node exporter plugin (plugins/exporter/node): a
# host's CPU, memory, load, disks, filesystems and network, from the
# metrics of node_exporter's names the plugin collects.

dashboard "node" {
  title       = "Node"
  description = "A host's CPU, memory, load, disks, filesystems and network, from the node exporter plugin."
  tags        = ["node"]
  range       = "1h"
  refresh     = "30s"

  variable "job" {
    label = "Job"
    query = "label_values(node_uname_info, job)"
  }
  variable "instance" {
    label = "Host"
    query = "label_values(node_uname_info{job=\"$job\"}, instance)"
  }

  panel "CPU busy" {
    type = "gauge"
    unit = "percentunit"
    min  = 0
    max  = 1
    grid = [0, 0, 4, 5]
    query {
      expr    = "1 - avg(rate(node_cpu_seconds_total{job=\"$job\", instance=\"$instance\", mode=\"idle\"}[$__rate_interval]))"
      instant = true
    }
    threshold {
      value = 0.8
      color = "orange"
    }
    threshold {
      value = 0.95
      color = "red"
    }
  }
  panel "Memory used" {
    type = "gauge"
    unit = "percentunit"
    min  = 0
    max  = 1
    grid = [4, 0, 4, 5]
    query {
      expr    = "1 - node_memory_MemAvailable_bytes{job=\"$job\", instance=\"$instance\"} / node_memory_MemTotal_bytes{job=\"$job\", instance=\"$instance\"}"
      instant = true
    }
    threshold {
      value = 0.8
      color = "orange"
    }
    threshold {
      value = 0.95
      color = "red"
    }
  }
  panel "Root filesystem used" {
    type = "gauge"
    unit = "percentunit"
    min  = 0
    max  = 1
    grid = [8, 0, 4, 5]
    query {
      expr    = "max(1 - node_filesystem_avail_bytes{job=\"$job\", instance=\"$instance\", mountpoint=\"/\"} / node_filesystem_size_bytes{job=\"$job\", instance=\"$instance\", mountpoint=\"/\"})"
      instant = true
    }
    threshold {
      value = 0.8
      color = "orange"
    }
    threshold {
      value = 0.9
      color = "red"
    }
  }
  panel "Load, 5 minutes" {
    type     = "stat"
    unit     = "short"
    decimals = 2
    grid     = [12, 0, 4, 5]
    query {
      expr    = "node_load5{job=\"$job\", instance=\"$instance\"}"
      instant = true
    }
  }
  panel "CPUs" {
    type = "stat"
    unit = "short"
    grid = [16, 0, 4, 5]
    query {
      expr    = "count(count by (cpu) (node_cpu_seconds_total{job=\"$job\", instance=\"$instance\"}))"
      instant = true
    }
  }
  panel "Up for" {
    type = "stat"
    unit = "dtdurations"
    grid = [20, 0, 4, 5]
    query {
      expr    = "node_time_seconds{job=\"$job\", instance=\"$instance\"} - node_boot_time_seconds{job=\"$job\", instance=\"$instance\"}"
      instant = true
    }
  }

  row "CPU and memory" {
    panel "CPU" {
      unit    = "percentunit"
      stacked = true
      min     = 0
      grid    = [0, 0, 12, 8]
      query {
        expr   = "sum by (mode) (rate(node_cpu_seconds_total{job=\"$job\", instance=\"$instance\", mode!=\"idle\"}[$__rate_interval])) / scalar(count(count by (cpu) (node_cpu_seconds_total{job=\"$job\", instance=\"$instance\"})))"
        legend = "{{mode}}"
      }
    }
    panel "Memory" {
      unit    = "bytes"
      stacked = true
      grid    = [12, 0, 12, 8]
      query {
        expr   = "node_memory_MemTotal_bytes{job=\"$job\", instance=\"$instance\"} - node_memory_MemAvailable_bytes{job=\"$job\", instance=\"$instance\"}"
        legend = "used"
      }
      query {
        expr   = "node_memory_Cached_bytes{job=\"$job\", instance=\"$instance\"} + node_memory_Buffers_bytes{job=\"$job\", instance=\"$instance\"}"
        legend = "cache and buffers"
      }
      query {
        expr   = "node_memory_MemFree_bytes{job=\"$job\", instance=\"$instance\"}"
        legend = "free"
      }
    }
    panel "Load" {
      unit = "short"
      min  = 0
      grid = [0, 8, 12, 8]
      query {
        expr   = "node_load1{job=\"$job\", instance=\"$instance\"}"
        legend = "1 minute"
      }
      query {
        expr   = "node_load5{job=\"$job\", instance=\"$instance\"}"
        legend = "5 minutes"
      }
      query {
        expr   = "node_load15{job=\"$job\", instance=\"$instance\"}"
        legend = "15 minutes"
      }
    }
    panel "Context switches and interrupts" {
      unit = "ops"
      grid = [12, 8, 12, 8]
      query {
        expr   = "rate(node_context_switches_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval])"
        legend = "context switches"
      }
      query {
        expr   = "rate(node_intr_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval])"
        legend = "interrupts"
      }
    }
  }

  row "Disks and filesystems" {
    panel "Disk throughput" {
      unit = "Bps"
      grid = [0, 0, 12, 8]
      query {
        expr   = "rate(node_disk_read_bytes_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval])"
        legend = "{{device}} read"
      }
      query {
        expr   = "rate(node_disk_written_bytes_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval])"
        legend = "{{device}} written"
      }
    }
    panel "Disk busy" {
      unit = "percentunit"
      min  = 0
      grid = [12, 0, 12, 8]
      query {
        expr   = "rate(node_disk_io_time_seconds_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval])"
        legend = "{{device}}"
      }
      threshold {
        value = 0.8
        color = "orange"
      }
    }
    panel "Filesystems" {
      type = "bar"
      unit = "percentunit"
      min  = 0
      max  = 1
      grid = [0, 8, 24, 8]
      query {
        expr    = "1 - node_filesystem_avail_bytes{job=\"$job\", instance=\"$instance\", fstype!~\"tmpfs|ramfs\"} / node_filesystem_size_bytes{job=\"$job\", instance=\"$instance\", fstype!~\"tmpfs|ramfs\"}"
        legend  = "{{mountpoint}}"
        instant = true
      }
      threshold {
        value = 0.8
        color = "orange"
      }
      threshold {
        value = 0.9
        color = "red"
      }
    }
  }

  row "Network" {
    panel "Network traffic" {
      unit = "bps"
      grid = [0, 0, 12, 8]
      query {
        expr   = "rate(node_network_receive_bytes_total{job=\"$job\", instance=\"$instance\", device!=\"lo\"}[$__rate_interval]) * 8"
        legend = "{{device}} received"
      }
      query {
        expr   = "rate(node_network_transmit_bytes_total{job=\"$job\", instance=\"$instance\", device!=\"lo\"}[$__rate_interval]) * 8"
        legend = "{{device}} sent"
      }
    }
    panel "Network errors and drops" {
      unit = "pps"
      grid = [12, 0, 12, 8]
      query {
        expr   = "rate(node_network_receive_errs_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval]) + rate(node_network_receive_drop_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval])"
        legend = "{{device}} received"
      }
      query {
        expr   = "rate(node_network_transmit_errs_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval]) + rate(node_network_transmit_drop_total{job=\"$job\", instance=\"$instance\"}[$__rate_interval])"
        legend = "{{device}} sent"
      }
    }
    panel "Host" {
      type = "table"
      grid = [0, 8, 24, 5]
      query {
        expr    = "node_uname_info{job=\"$job\", instance=\"$instance\"}"
        instant = true
      }
    }
  }
}
