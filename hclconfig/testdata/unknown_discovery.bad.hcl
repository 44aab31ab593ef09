plugin "file" { source = "vigil-discovery-file" }
discovery "files" { plugin = "file" }

scrape "apps" {
  discovery = ["file"]
}
