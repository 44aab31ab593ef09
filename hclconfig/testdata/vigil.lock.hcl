# This file is maintained by "vigil plugin install" and "vigil plugin lock".
# Keep it under version control; do not edit it by hand.

plugin "registry.example.com/acme/webhook" {
  version     = "1.2.3"
  constraints = "~> 1.2"
  protocols   = ["1"]

  platform "wasm" {
    archive = "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
    file    = "sha256:abababababababababababababababababababababababababababababababab"
  }
}
