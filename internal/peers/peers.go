// Package peers finds the peer servers that end-to-end tests run beside
// Vigil: Prometheus and promtool, VictoriaMetrics, and node_exporter. `make peers` builds
// them with go install, at the versions the Makefile pins, into
// .cache/peers/ of the checkout, once; later runs reuse them.
//
// Start with Path. A test asking for a peer that was not built skips,
// unless VIGIL_REQUIRE_PEERS is set (as CI sets it), when it fails.
package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv names the environment variable that, when set, makes a
// missing peer binary fail the test instead of skipping it.
const RequireEnv = "VIGIL_REQUIRE_PEERS"

// A Peer is one peer binary: the environment variable the Makefile sets
// to its path, and where `make peers` puts it under .cache/peers.
type Peer struct {
	// Env names the environment variable holding the binary's path.
	Env string
	// Dir is the folder under .cache/peers, named after the version.
	Dir string
	// Name is the binary's file name.
	Name string
}

// The peers `make peers` builds. Their versions are the Makefile's
// PROMETHEUS_VERSION, VICTORIAMETRICS_VERSION and NODE_EXPORTER_VERSION.
var (
	// Prometheus is the Prometheus server.
	Prometheus = Peer{Env: "VIGIL_PROMETHEUS", Dir: "prometheus-v0.316.0", Name: "prometheus"}
	// Promtool is Prometheus's command-line client.
	Promtool = Peer{Env: "VIGIL_PROMTOOL", Dir: "prometheus-v0.316.0", Name: "promtool"}
	// VictoriaMetrics is the single-node VictoriaMetrics server.
	VictoriaMetrics = Peer{Env: "VIGIL_VICTORIAMETRICS", Dir: "victoria-metrics-v1.151.0", Name: "victoria-metrics"}
	// NodeExporter is node_exporter, whose families the node exporter
	// plugin's are compared with.
	NodeExporter = Peer{Env: "VIGIL_NODE_EXPORTER", Dir: "node_exporter-v1.12.1", Name: "node_exporter"}
)

// Path returns the path of p's binary: the one its environment variable
// names, or else the one `make peers` built in the checkout's
// .cache/peers. Without either, it skips t, or fails it when
// VIGIL_REQUIRE_PEERS is set.
func Path(t testing.TB, p Peer) string {
	t.Helper()
	path, err := find(p)
	if err == nil {
		return path
	}
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s is required (%s is set) but missing: %v", p.Name, RequireEnv, err)
	}
	t.Skipf("needs %s: run make peers, or set %s to its path (%v); set %s=1 to fail instead of skipping", p.Name, p.Env, err, RequireEnv)
	return ""
}

// find looks for p's binary where Path says.
func find(p Peer) (string, error) {
	if path := os.Getenv(p.Env); path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%s names %q: %w", p.Env, path, err)
		}
		return path, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	path := filepath.Join(root, ".cache", "peers", p.Dir, p.Name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s is not set and %s was not built: %w", p.Env, path, err)
	}
	return path, nil
}

// moduleRoot walks up from the working directory (a test's package
// folder) to the folder holding the root module's go.mod, the one that
// has the sdk folder beside it.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot find the checkout: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "sdk", "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no checkout root (go.mod beside sdk/) above the working directory")
		}
		dir = parent
	}
}
