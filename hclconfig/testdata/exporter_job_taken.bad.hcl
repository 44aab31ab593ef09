plugin "node" { source = "vigil-exporter-node" }

scrape "node" { targets = ["127.0.0.1:9100"] }

exporter "node" { plugin = "node" }
