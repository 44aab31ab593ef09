//go:build !windows

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilmon/vigil/sdk/plugintest"
)

// TestServerOffWindows runs vigil server on a loopback port with an
// exporter block of the plugin built for this system: the target is
// down, with the Windows-only error in /api/v1/targets, and up is 0,
// while vigil goes on serving. It runs the vigil that VIGIL_BINARY
// names (make test sets it), and is skipped without one.
func TestServerOffWindows(t *testing.T) {
	p := plugintest.Build(t, "vigil-exporter-windows.exe")
	config := filepath.Join(p.Dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(`
plugin "windows" {
  source = "vigil-exporter-windows.exe"
}

exporter "windows" {
  plugin   = "windows"
  interval = "1s"

  config {
    collectors      = ["cpu", "service"]
    net_nic_exclude = "isatap.*"
  }
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.Vigil, "server", "--listen", "127.0.0.1:0", "--config", config, "--data", filepath.Join(p.Dir, "data"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		logs strings.Builder
	)
	logText := func() string { mu.Lock(); defer mu.Unlock(); return logs.String() }
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		re := regexp.MustCompile(`listening: address=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
	}()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-done:
		t.Fatalf("vigil ended before listening:\n%s", logText())
	case <-time.After(time.Minute):
		t.Fatalf("vigil did not listen within a minute:\n%s", logText())
	}

	// The target is down with the plugin's error once collected; a loaded
	// machine may take long, a passing test goes on at once.
	var target struct {
		Labels    map[string]string `json:"labels"`
		Health    string            `json:"health"`
		LastError string            `json:"lastError"`
	}
	collected := func() bool {
		var targets struct {
			Data struct {
				ActiveTargets []json.RawMessage `json:"activeTargets"`
			} `json:"data"`
		}
		if err := getJSON(base+"/api/v1/targets", &targets); err != nil {
			t.Fatal(err)
		}
		for _, raw := range targets.Data.ActiveTargets {
			if err := json.Unmarshal(raw, &target); err != nil {
				t.Fatal(err)
			}
			if target.Labels["job"] == "windows" {
				return target.Health != "unknown"
			}
		}
		return false
	}
	for deadline := time.Now().Add(2 * time.Minute); !collected(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the windows target was not collected within two minutes; vigil's log:\n%s", logText())
		}
	}
	t.Logf("target %v: %s, %q", target.Labels, target.Health, target.LastError)
	if target.Health != "down" || !strings.Contains(target.LastError, errWindowsOnly.Error()) {
		t.Errorf("target %v: health %q, lastError %q; want down with %q", target.Labels, target.Health, target.LastError, errWindowsOnly)
	}

	var query struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(base+"/api/v1/query?query="+url.QueryEscape(`up{job="windows"}`), &query); err != nil {
		t.Fatal(err)
	}
	if len(query.Data.Result) != 1 || fmt.Sprint(query.Data.Result[0].Value[1]) != "0" {
		t.Errorf(`up{job="windows"}: %+v, want one series at 0`, query.Data.Result)
	}
}

// getJSON decodes the JSON answer of a GET of u into v.
func getJSON(u string, v any) error {
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
