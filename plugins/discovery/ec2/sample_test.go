package main

import (
	"testing"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config blocks.
func TestSample(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "t")
	upstreamtest.CheckSample(t, mechanism, "sample.hcl")
}

// TestREADME checks that the README documents every attribute.
func TestREADME(t *testing.T) { upstreamtest.CheckREADME(t, mechanism, "README.md") }

// TestImport: vigil config import writes an ec2_sd_configs entry as a
// discovery block that configures the plugin as Prometheus reads it.
func TestImport(t *testing.T) {
	upstreamtest.CheckImport(t, mechanism, `
region: eu-west-1
access_key: AKIAEXAMPLE
secret_key: s3cret
port: 9100
refresh_interval: 2m
filters:
  - name: "tag:env"
    values: [prod, staging]
  - {name: instance-state-name, values: [running]}
`)
}
