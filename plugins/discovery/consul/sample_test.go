package main

import (
	"testing"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config blocks.
func TestSample(t *testing.T) {
	t.Setenv("CONSUL_TOKEN", "t")
	upstreamtest.CheckSample(t, mechanism, "sample.hcl")
}

// TestREADME checks that the README documents every attribute.
func TestREADME(t *testing.T) { upstreamtest.CheckREADME(t, mechanism, "README.md") }

// TestImport: vigil config import writes a consul_sd_configs entry as a
// discovery block that configures the plugin as Prometheus reads it.
func TestImport(t *testing.T) {
	upstreamtest.CheckImport(t, mechanism, `
server: consul.example.org:8500
token: s3cret
datacenter: dc1
scheme: https
services: [web, api]
tags: [prod]
node_meta:
  rack: r1
allow_stale: false
refresh_interval: 1m
`)
}
