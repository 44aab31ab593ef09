package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEncryptionAtRestEndToEnd: a server with encryption_key_file keeps
// a pushed group and its samples across a restart; the same data folder
// is refused, with a message saying why, under another key; and vigil tsdb
// analyze reads it with its key only.
func TestEncryptionAtRestEndToEnd(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("key.hex", strings.Repeat("3c", 32)+"\n")
	write("other.hex", strings.Repeat("3d", 32)+"\n")
	config := func(keyFile string) string {
		return write(keyFile+".hcl", `
global {
  scrape_interval = "1s"
}
server {
  enable_push         = true
  encryption_key_file = "`+keyFile+`"
}
`)
	}
	srv := startServer(t, "--config", config("key.hex"), "--data", data)
	srv.put(t, "/metrics/job/billing", "invoices_total{customer=\"acme\"} 42\n")
	prom := srv.api(t)
	waitFor(t, "the pushed sample", func() bool {
		v, ok := queryValue(t, prom, `invoices_total{customer="acme"}`)
		return ok && v == 42
	})
	srv.stop(t)
	stopped := time.Now()

	srv = startServer(t, "--config", config("key.hex"), "--data", data)
	if code, body := srv.get(t, "/api/v1/metrics"); code != http.StatusOK || !strings.Contains(body, "acme") {
		t.Errorf("after the restart, the push store lost the group: %d %s", code, body)
	}
	before := 0
	for _, series := range rawSamples(t, srv, `invoices_total{customer="acme"}`) {
		for _, s := range series {
			if s.Timestamp.Time().Before(stopped) {
				before++
			}
		}
	}
	if before == 0 {
		t.Error("after the restart, no sample of before it")
	}
	srv.stop(t)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, vigilBinary(t), "server", "--listen", "127.0.0.1:0", "--config", config("other.hex"), "--data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "from its creation") || !strings.Contains(string(out), data) {
		t.Errorf("another key: %v\n%s", err, out)
	}

	out, err = exec.CommandContext(ctx, vigilBinary(t), "tsdb", "analyze", "--data", data, "--encryption-key-file", filepath.Join(dir, "key.hex")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "invoices_total") {
		t.Errorf("tsdb analyze with the key: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, vigilBinary(t), "tsdb", "analyze", "--data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "encrypt") {
		t.Errorf("tsdb analyze without the key: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "KEYREGISTRY")); err != nil {
		t.Errorf("the store has no key registry: %v", err)
	}
}
