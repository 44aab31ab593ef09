package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// TestExporterTargetFailures runs a server with the haproxy exporter
// pointed at targets that fail each their own way, beside the node
// exporter: a target that is down or answers garbage gives haproxy_up 0,
// which is stored, and the plugin reports its target's error, which
// /api/v1/targets shows with the target down (up 0); one slower than the
// exporter block's timeout fails the collection, which /api/v1/targets
// reports as down with the error; and none of them holds up the node
// exporter, whose collections go on.
func TestExporterTargetFailures(t *testing.T) {
	haproxy := testplugins.Build(t, "plugins/exporter/haproxy")
	node := testplugins.Build(t, "plugins/exporter/node")

	// A server that accepts connections and never answers.
	slow, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			conn, err := slow.Accept()
			if err != nil {
				return
			}
			conns = append(conns, conn)
		}
	}()
	defer func() {
		slow.Close()
		<-accepting
		for _, c := range conns {
			c.Close()
		}
	}()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "<html>not HAProxy's statistics</html>\n")
	}))
	defer garbage.Close()
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := down.Addr().String()
	down.Close()

	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
plugin "haproxy" { source = %q }
plugin "node" { source = %q }

exporter "node" {
  plugin   = "node"
  interval = "1s"
  timeout  = "1s"
  config {
    collectors = ["loadavg"]
  }
}

exporter "haproxy_slow" {
  plugin   = "haproxy"
  interval = "1s"
  timeout  = "1s"
  config {
    scrape_uri = "http://%s/;csv"
    timeout    = "1m"
  }
}

exporter "haproxy_down" {
  plugin   = "haproxy"
  interval = "1s"
  timeout  = "1s"
  config {
    scrape_uri = "http://%s/;csv"
  }
}

exporter "haproxy_garbage" {
  plugin   = "haproxy"
  interval = "1s"
  timeout  = "1s"
  config {
    scrape_uri = "%s/;csv"
  }
}
`, haproxy, node, slow.Addr(), downAddr, garbage.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config, "--data", filepath.Join(dir, "data"))
	prom := srv.api(t)

	for _, job := range []string{"haproxy_down", "haproxy_garbage"} {
		waitFor(t, job+" to report haproxy_up 0", func() bool {
			v, ok := queryValue(t, prom, fmt.Sprintf(`haproxy_up{job=%q}`, job))
			return ok && v == 0
		})
	}
	// target returns the active target of job once it is down with an
	// error.
	target := func(job string) v1.ActiveTarget {
		var found v1.ActiveTarget
		waitFor(t, job+" to be down with its error", func() bool {
			res, err := prom.Targets(context.Background())
			if err != nil {
				return false
			}
			for _, at := range res.Active {
				if at.Labels["job"] == model.LabelValue(job) {
					found = at
					return at.Health == v1.HealthBad && at.LastError != ""
				}
			}
			return false
		})
		t.Logf("%s: health %s, error %q", job, found.Health, found.LastError)
		return found
	}
	for job, want := range map[string]string{
		"haproxy_down":    "connection refused",
		"haproxy_garbage": "the answer holds no row of HAProxy's statistics CSV",
	} {
		at := target(job)
		if !strings.Contains(at.LastError, "cannot read HAProxy's statistics") || !strings.Contains(at.LastError, want) {
			t.Errorf("%s: error %q, want the plugin's target error, saying %q", job, at.LastError, want)
		}
	}
	slowTarget := target("haproxy_slow")
	if !strings.Contains(strings.ToLower(slowTarget.LastError), "deadline") {
		t.Errorf("the slow exporter's error %q does not say it ran out of time", slowTarget.LastError)
	}
	if v, ok := queryValue(t, prom, `up{job="haproxy_slow"}`); !ok || v != 0 {
		t.Errorf(`up{job="haproxy_slow"} %v (%v), want 0`, v, ok)
	}

	// Meanwhile the node exporter goes on: its newest sample is newer
	// than the slow exporter's first failure.
	since := time.Now()
	waitFor(t, "node metrics after the failures", func() bool {
		ts, ok := queryValue(t, prom, `timestamp(node_load1{job="node"})`)
		return ok && ts > float64(since.Unix())
	})
	if v, ok := queryValue(t, prom, `up{job="node"}`); !ok || v != 1 {
		t.Errorf(`up{job="node"} %v (%v), want 1`, v, ok)
	}
	// The targets reported down are up 0, and their haproxy_up 0 goes
	// on being stored.
	for _, job := range []string{"haproxy_down", "haproxy_garbage"} {
		if v, ok := queryValue(t, prom, fmt.Sprintf(`up{job=%q}`, job)); !ok || v != 0 {
			t.Errorf(`up{job=%q} %v (%v), want 0: the plugin reported its target down`, job, v, ok)
		}
		waitFor(t, job+"'s haproxy_up 0 stored after the failures", func() bool {
			ts, ok := queryValue(t, prom, fmt.Sprintf(`timestamp(haproxy_up{job=%q} == 0)`, job))
			return ok && ts > float64(since.Unix())
		})
	}
}
