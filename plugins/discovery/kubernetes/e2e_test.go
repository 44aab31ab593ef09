package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestConformance runs the suite with the plugin watching pods of the
// replaying API server; removing a pod removes a group.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	api := newAPIServer(t)
	api.add(pod("web-1", "10.1.0.5"))
	api.add(pod("web-2", "10.1.0.7"))
	config, _ := json.Marshal(map[string]any{"api_server": api.URL, "role": "pod"})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/kubernetes")), conformance.Options{
		ConfigJSON: config,
		RemoveGroup: func(context.Context) error {
			api.remove(pod("web-2", "10.1.0.7"))
			return nil
		},
	})
}

// TestVigil runs the vigil server with the plugin: a pod of the API
// server becomes a target on /api/v1/targets, relabelled from its
// __meta_kubernetes_* labels, and leaves when the pod is deleted. And
// `vigil config validate` points at a misspelt attribute.
func TestVigil(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vigil and the plugin")
	}
	vigil := testplugins.Build(t, "cmd/vigil")
	plugin := testplugins.Build(t, "plugins/discovery/kubernetes")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "app_up 1")
	}))
	defer app.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(app.URL, "http://"))
	p, _ := strconv.Atoi(port)

	api := newAPIServer(t)
	web := pod("web-1", "127.0.0.1")
	web["spec"].(obj)["containers"].([]obj)[0]["ports"].([]obj)[0]["containerPort"] = p
	api.add(web)

	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	write := func(body string) {
		if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf(`plugin "kubernetes" { source = %q }

discovery "pods" {
  plugin = "kubernetes"
  config {
    api_server = %q
    rol        = "pod"
  }
}

scrape "pods" {
  discovery = ["pods"]
}
`, plugin, api.URL))
	out, err := exec.Command(vigil, "config", "validate", config).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "vigil.hcl:7:") || !strings.Contains(string(out), `Did you mean "role"?`) {
		t.Errorf("validate of a misspelt attribute: %v\n%s", err, out)
	}

	write(fmt.Sprintf(`plugin "kubernetes" { source = %q }

discovery "pods" {
  plugin = "kubernetes"
  config {
    api_server       = %q
    role             = "pod"
    namespaces_names = ["default"]
    selectors        = ["{role: pod, label: 'app=web'}"]
  }
}

scrape "pods" {
  discovery       = ["pods"]
  scrape_interval = "1s"
  scrape_timeout  = "1s"

  relabel {
    source_labels = ["__meta_kubernetes_pod_label_app"]
    target_label  = "app"
  }
}
`, plugin, api.URL))
	if out, err := exec.Command(vigil, "config", "validate", config).CombinedOutput(); err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	addr := startVigil(t, vigil, "server", "--listen", "127.0.0.1:0", "--config", config, "--data", filepath.Join(dir, "data"))
	target := strings.TrimPrefix(app.URL, "http://")
	awaitTargets(t, addr, "the pod as a target", func(ts []activeTarget) bool {
		return len(ts) == 1 && ts[0].Labels["app"] == "web" && ts[0].Labels["instance"] == target &&
			ts[0].DiscoveredLabels["__meta_kubernetes_pod_name"] == "web-1" && ts[0].Health == "up"
	})
	api.remove(web)
	awaitTargets(t, addr, "no targets", func(ts []activeTarget) bool { return len(ts) == 0 })
}

type activeTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	Labels           map[string]string `json:"labels"`
	Health           string            `json:"health"`
}

// awaitTargets polls /api/v1/targets until ok holds for the active
// targets, for at most a minute.
func awaitTargets(t *testing.T, addr, what string, ok func([]activeTarget) bool) {
	t.Helper()
	var last []activeTarget
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/api/v1/targets")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Data struct {
				ActiveTargets []activeTarget `json:"activeTargets"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if last = body.Data.ActiveTargets; ok(last) {
			return
		}
	}
	t.Fatalf("waited a minute for %s; the targets are %+v", what, last)
}

// startVigil runs vigil with args until the test ends and returns the
// address it listens on.
func startVigil(t *testing.T, vigil string, args ...string) string {
	t.Helper()
	cmd := exec.Command(vigil, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs strings.Builder
	addrs := make(chan string, 1)
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
				addrs <- m[1]
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("vigil's log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	select {
	case a := <-addrs:
		return a
	case <-done:
		t.Fatal("vigil exited before it listened")
	case <-time.After(30 * time.Second):
		t.Fatal("vigil did not listen within 30s")
	}
	return ""
}
