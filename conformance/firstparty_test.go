package conformance_test

import (
	"encoding/json"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

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
		addr := smtpServer(t)
		config, _ := json.Marshal(map[string]any{"smarthost": addr, "from": "vigil@example.com", "to": []string{"ops@example.com"}, "require_tls": false})
		conformance.Notifier(t, conformance.Program(testplugins.Build(t, "plugins/notifier/email")), conformance.Options{ConfigJSON: config})
	})
	t.Run("notifier/slack", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/slack"))
	})
	t.Run("notifier/pagerduty", func(t *testing.T) {
		conformance.Notifier(t, wasmTarget(t, "plugins/notifier/pagerduty"))
	})
}

// smtpServer starts an SMTP server on 127.0.0.1 that accepts every
// message, and returns its address.
func smtpServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return smtpSession{}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

type smtpSession struct{}

func (smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (smtpSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (smtpSession) Reset()        {}
func (smtpSession) Logout() error { return nil }
