# Scrape the pods that ask for it, as Prometheus's kubernetes_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-kubernetes ./plugins/discovery/kubernetes

plugin "kubernetes" {
  source = "vigil-discovery-kubernetes" # beside vigil (make plugins), on PATH, or a path
}

# Inside the cluster, the pod's service account is used; outside it, name
# the API server (or a kubeconfig_file).
discovery "pods" {
  plugin = "kubernetes"
  config {
    role                      = "pod"
    api_server                = "https://kubernetes.example.com:6443"
    authorization_credentials = env("KUBERNETES_TOKEN")
    tls_config_ca_file        = "/etc/vigil/kubernetes-ca.pem"
    namespaces_names          = ["default", "shop"]
    selectors                 = ["{role: pod, label: 'app.kubernetes.io/part-of=shop'}"]
    attach_metadata_node      = true
  }
}

scrape "pods" {
  discovery = ["pods"]

  # Only pods annotated prometheus.io/scrape: "true".
  relabel {
    source_labels = ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    regex         = "true"
    action        = "keep"
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
