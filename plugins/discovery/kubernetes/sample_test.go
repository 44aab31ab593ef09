package main

import (
	"testing"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config blocks.
func TestSample(t *testing.T) {
	t.Setenv("KUBERNETES_TOKEN", "t")
	upstreamtest.CheckSample(t, mechanism, "sample.hcl")
}

// TestREADME checks that the README documents every attribute.
func TestREADME(t *testing.T) { upstreamtest.CheckREADME(t, mechanism, "README.md") }

// TestImport: vigil config import writes a kubernetes_sd_configs entry
// as a discovery block that configures the plugin as Prometheus reads
// the entry: nested blocks, lists of blocks, secrets, YAML-valued fields.
func TestImport(t *testing.T) {
	upstreamtest.CheckImport(t, mechanism, `
role: endpoints
api_server: https://kube.example.org:6443
namespaces:
  names: [web, "db"]
selectors:
  - role: pod
    label: "app=web,tier!=cache"
    field: "spec.nodeName=n1"
  - {role: service, label: "zone=a"}
attach_metadata:
  node: true
basic_auth:
  username: prom
  password: s3cret
tls_config:
  ca_file: ca.pem
  insecure_skip_verify: true
  min_version: TLS12
follow_redirects: false
http_headers:
  X-Team:
    values: [infra, ops]
`)
}
