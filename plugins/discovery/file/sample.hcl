# Scrape targets listed in JSON or YAML files, as Prometheus's file_sd_configs.
# Build the plugin with: go build -o bin/vigil-discovery-file ./plugins/discovery/file

plugin "file" {
  source = "vigil-discovery-file" # beside vigil (make plugins), on PATH, or a path
}

discovery "files" {
  plugin = "file"
  config {
    # Paths or globs ("*" in the last element only), each ending in .json,
    # .yml or .yaml; relative paths start at the plugin's working directory.
    files            = ["/etc/vigil/targets/*.json", "/etc/vigil/targets/*.yml"]
    refresh_interval = "5m" # default; changes are also picked up as they happen
  }
}

scrape "apps" {
  discovery = ["files"]

  # Keep the name of the file each target came from.
  relabel {
    source_labels = ["__meta_filepath"]
    target_label  = "targets_file"
  }
}
