package main

import (
	"testing"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
)

// TestSample loads sample.hcl as the server does and configures the
// plugin with its config blocks.
func TestSample(t *testing.T) {
	t.Setenv("AZURE_CLIENT_SECRET", "t")
	upstreamtest.CheckSample(t, mechanism, "sample.hcl")
}

// TestREADME checks that the README documents every attribute.
func TestREADME(t *testing.T) { upstreamtest.CheckREADME(t, mechanism, "README.md") }
