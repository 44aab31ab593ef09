//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// vigilServer is a vigil server a test runs with the node exporter
// plugin, on a loopback port.
type vigilServer struct {
	addr string
	api  v1.API

	mu   sync.Mutex
	logs strings.Builder
}

// startVigil builds vigil and the plugin, and runs `vigil server` with
// config, in which %[1]q is the plugin's path. It stops the server when
// the test ends.
func startVigil(t *testing.T, config string) *vigilServer {
	t.Helper()
	if testing.Short() {
		t.Skip("builds vigil and the plugin")
	}
	bin := testplugins.Build(t, "cmd/vigil")
	plugin := testplugins.Build(t, "plugins/exporter/node")
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(config, plugin)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "--listen", "127.0.0.1:0", "--config", path, "--data", filepath.Join(dir, "data"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &vigilServer{}
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		re := regexp.MustCompile(`listening: address=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	select {
	case s.addr = <-addr:
	case <-done:
		t.Fatalf("vigil ended before listening:\n%s", s.logText())
	case <-time.After(time.Minute):
		t.Fatalf("vigil did not listen within a minute:\n%s", s.logText())
	}
	client, err := api.NewClient(api.Config{Address: "http://" + s.addr})
	if err != nil {
		t.Fatal(err)
	}
	s.api = v1.NewAPI(client)
	return s
}

func (s *vigilServer) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// query runs an instant PromQL query now.
func (s *vigilServer) query(t *testing.T, q string) (model.Value, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, _, _, err := s.api.Query(ctx, q, time.Now())
	return v, err
}

// waitFor polls cond every 200ms for at most three minutes, which a
// loaded machine may need; a passing test goes on as soon as cond holds.
func (s *vigilServer) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; vigil's log:\n%s", what, s.logText())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// count returns the value of a query that gives one number, or -1.
func (s *vigilServer) count(t *testing.T, q string) float64 {
	t.Helper()
	v, err := s.query(t, q)
	if err != nil {
		return -1
	}
	if vec, ok := v.(model.Vector); ok && len(vec) == 1 {
		return float64(vec[0].Value)
	}
	return -1
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNodeExporter runs node_exporter at path on a loopback port with
// its default collectors, and returns its address once it answers.
func startNodeExporter(t *testing.T, path string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(path, "--web.listen-address="+addr)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("node_exporter ended: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node_exporter did not answer within a minute: %v", err)
		}
	}
}
