scrape "self" {
  targets = ["127.0.0.1:9090"]
  relabel {
    source_labels = ["__address__"]
    regex         = "(unclosed"
    target_label  = "host"
  }
}
