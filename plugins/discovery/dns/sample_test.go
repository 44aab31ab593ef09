package main

import (
	"testing"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config blocks.
func TestSample(t *testing.T) { upstreamtest.CheckSample(t, mechanism, "sample.hcl") }

// TestREADME checks that the README documents every attribute.
func TestREADME(t *testing.T) { upstreamtest.CheckREADME(t, mechanism, "README.md") }

// TestImport: vigil config import writes a dns_sd_configs entry as a
// discovery block that configures the plugin as Prometheus reads it.
func TestImport(t *testing.T) {
	upstreamtest.CheckImport(t, mechanism, `
names: [_prometheus._tcp.example.org]
type: A
port: 9100
refresh_interval: 45s
`)
}
