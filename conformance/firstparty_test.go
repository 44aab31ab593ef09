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
	t.Run("exporter/mysql", func(t *testing.T) {
		// With the default config, no server answers: the collections
		// report mysql_up 0 with a target error and must conform all
		// the same.
		conformance.Exporter(t, conformance.Program(testplugins.Build(t, "plugins/exporter/mysql")))
	})
	t.Run("exporter/haproxy", func(t *testing.T) {
		// With the default config, no HAProxy answers: the collections
		// report haproxy_up 0 with a target error and must conform all
		// the same.
		conformance.Exporter(t, conformance.Program(testplugins.Build(t, "plugins/exporter/haproxy")))
	})
	t.Run("exporter/apache", func(t *testing.T) {
		// With the default config, the module may not reach localhost:
		// the collections report apache_up 0 with a target error and
		// must conform all the same.
		conformance.Exporter(t, wasmTarget(t, "plugins/exporter/apache"))
	})
	t.Run("exporter/blackbox", func(t *testing.T) {
		// It claims multi-target: the suite probes its loopback receiver
		// with the default module, http_2xx.
		conformance.Exporter(t, conformance.Program(testplugins.Build(t, "plugins/exporter/blackbox")))
	})
	t.Run("wasm multi-target exporter", func(t *testing.T) {
		// A module of Wasm ABI version 2 that claims multi-target: the
		// multi-target checks apply to it as to a gRPC plugin.
		conformance.Exporter(t, wasmTarget(t, "core/pluginhost/testdata/wasmguest/multitarget"))
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
	t.Run("discovery/http module", func(t *testing.T) {
		// The same plugin built as a WebAssembly module, polled through
		// vigil_discover; it reaches the receiver through http_request.
		conformance.Discoverer(t, wasmTarget(t, "plugins/discovery/http"))
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
	t.Run("notifier/opsgenie", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/opsgenie"))
	})
	t.Run("notifier/msteams", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/msteams"))
	})
	t.Run("notifier/msteamsv2", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/msteamsv2"))
	})
	t.Run("notifier/telegram", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/telegram"))
	})
	t.Run("notifier/discord", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/discord"))
	})
	t.Run("notifier/pushover", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/pushover"))
	})
	t.Run("notifier/victorops", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/victorops"))
	})
	t.Run("notifier/webex", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/webex"))
	})
	t.Run("notifier/sns", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/sns"),
			// A destination: the schema cannot say that one of three is needed.
			conformance.Options{ConfigJSON: []byte(`{"topic_arn": "arn:aws:sns:us-east-1:123456789012:alerts"}`)})
	})
	t.Run("notifier/jira", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/jira"))
	})
	t.Run("notifier/rocketchat", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/rocketchat"))
	})
	t.Run("notifier/incidentio", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/incidentio"))
	})
}
