# Converted from prometheus-kubernetes.yml by vigil config import.

global {
  scrape_interval     = "1m"
  scrape_timeout      = "10s"
  evaluation_interval = "1m"
  scrape_protocols    = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}

plugin "kubernetes" {
  source = "vigil-discovery-kubernetes"
}

discovery "kubernetes-apiservers-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "endpoints"
  }
}

scrape "kubernetes-apiservers" {
  discovery         = ["kubernetes-apiservers-kubernetes"]
  scheme            = "https"
  bearer_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token"

  tls {
    ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
  }

  relabel {
    source_labels = ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"]
    regex         = "default;kubernetes;https"
    action        = "keep"
  }
}

discovery "kubernetes-nodes-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "node"
  }
}

scrape "kubernetes-nodes" {
  discovery         = ["kubernetes-nodes-kubernetes"]
  scheme            = "https"
  bearer_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token"

  tls {
    ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
  }

  relabel {
    regex  = "__meta_kubernetes_node_label_(.+)"
    action = "labelmap"
  }
}

discovery "kubernetes-cadvisor-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "node"
  }
}

scrape "kubernetes-cadvisor" {
  discovery         = ["kubernetes-cadvisor-kubernetes"]
  metrics_path      = "/metrics/cadvisor"
  scheme            = "https"
  bearer_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token"

  tls {
    ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
  }

  relabel {
    regex  = "__meta_kubernetes_node_label_(.+)"
    action = "labelmap"
  }
}

discovery "kubernetes-service-endpoints-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "endpoints"
  }
}

scrape "kubernetes-service-endpoints" {
  discovery = ["kubernetes-service-endpoints-kubernetes"]

  relabel {
    regex  = "__meta_kubernetes_service_label_(.+)"
    action = "labelmap"
  }

  relabel {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }

  relabel {
    source_labels = ["__meta_kubernetes_service_name"]
    target_label  = "service"
  }
}

discovery "kubernetes-services-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "service"
  }
}

scrape "kubernetes-services" {
  discovery    = ["kubernetes-services-kubernetes"]
  metrics_path = "/probe"
  params = {
    module = ["http_2xx"]
  }

  relabel {
    source_labels = ["__address__"]
    target_label  = "__param_target"
  }

  relabel {
    target_label = "__address__"
    replacement  = "blackbox-exporter.example.com:9115"
  }

  relabel {
    source_labels = ["__param_target"]
    target_label  = "instance"
  }

  relabel {
    regex  = "__meta_kubernetes_service_label_(.+)"
    action = "labelmap"
  }

  relabel {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }

  relabel {
    source_labels = ["__meta_kubernetes_service_name"]
    target_label  = "service"
  }
}

discovery "kubernetes-ingresses-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "ingress"
  }
}

scrape "kubernetes-ingresses" {
  discovery    = ["kubernetes-ingresses-kubernetes"]
  metrics_path = "/probe"
  params = {
    module = ["http_2xx"]
  }

  relabel {
    source_labels = ["__meta_kubernetes_ingress_scheme", "__address__", "__meta_kubernetes_ingress_path"]
    regex         = "(.+);(.+);(.+)"
    target_label  = "__param_target"
    replacement   = "$${1}://$${2}$${3}"
  }

  relabel {
    target_label = "__address__"
    replacement  = "blackbox-exporter.example.com:9115"
  }

  relabel {
    source_labels = ["__param_target"]
    target_label  = "instance"
  }

  relabel {
    regex  = "__meta_kubernetes_ingress_label_(.+)"
    action = "labelmap"
  }

  relabel {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }

  relabel {
    source_labels = ["__meta_kubernetes_ingress_name"]
    target_label  = "ingress"
  }
}

discovery "kubernetes-pods-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "pod"
  }
}

scrape "kubernetes-pods" {
  discovery = ["kubernetes-pods-kubernetes"]

  relabel {
    regex  = "__meta_kubernetes_pod_label_(.+)"
    action = "labelmap"
  }

  relabel {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }

  relabel {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
}
