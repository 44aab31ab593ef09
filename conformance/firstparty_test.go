package conformance_test

import (
	"runtime"
	"testing"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/internal/testplugins"
)

// wasmTarget builds the module in pkg and precompiles it, so that the
// suite's loads, even under the race detector, take no time.
func wasmTarget(t *testing.T, pkg string) conformance.Target {
	t.Helper()
	module := testplugins.BuildWasm(t, pkg)
	return conformance.Target{Path: module, WasmCacheDir: testplugins.WasmCache(t, module)}
}

// TestFirstParty runs the suite against every first-party plugin, as
// its users build it; each must pass every MUST check.
func TestFirstParty(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every first-party plugin")
	}
	t.Run("exporter/node", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("the node exporter reads /proc and /sys")
		}
		conformance.Exporter(t, conformance.Program(testplugins.Build(t, "plugins/exporter/node")))
	})
	t.Run("exporter/blackbox", func(t *testing.T) {
		// It claims multi-target: the suite probes its loopback receiver
		// with the default module, http_2xx.
		conformance.Exporter(t, conformance.Program(testplugins.Build(t, "plugins/exporter/blackbox")))
	})
	t.Run("discovery/file", func(t *testing.T) {
		// It claims reads-files: the suite writes the files and removes one.
		conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/file")))
	})
	t.Run("discovery/http", func(t *testing.T) {
		// It claims polls-url: the suite points url at its receiver, which
		// lists two groups, and drops one.
		conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/http")))
	})
	t.Run("notifier/webhook", func(t *testing.T) {
		conformance.Notifier(t, conformance.Program(testplugins.Build(t, "plugins/notifier/webhook")))
	})
	t.Run("notifier/email", func(t *testing.T) {
		// It claims delivers-smtp: the suite points smarthost at its SMTP
		// server, which answers 451 and 554 for the failure checks.
		conformance.Notifier(t, conformance.Program(testplugins.Build(t, "plugins/notifier/email")))
	})
	t.Run("notifier/slack", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/slack"))
	})
	t.Run("notifier/pagerduty", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/pagerduty"))
	})
}
