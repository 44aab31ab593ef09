scrape "self" {
  targets = ["127.0.0.1:9090"]
  relabel {
    action = "hashmod"
    source_labels = ["__address__"]
    target_label  = "shard"
  }
}
