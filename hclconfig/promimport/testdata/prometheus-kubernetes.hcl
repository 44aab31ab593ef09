# Converted from prometheus-kubernetes.yml by vigil config import.

global {
  scrape_interval     = "1m"
  scrape_timeout      = "10s"
  evaluation_interval = "1m"
  scrape_protocols    = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}

scrape "kubernetes-apiservers" {
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

scrape "kubernetes-nodes" {
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

scrape "kubernetes-cadvisor" {
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

scrape "kubernetes-service-endpoints" {
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

scrape "kubernetes-services" {
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

scrape "kubernetes-ingresses" {
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

scrape "kubernetes-pods" {
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
