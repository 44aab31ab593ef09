package peers

import (
	"os/exec"
	"testing"
)

// TestPeersRun runs each peer binary with --version: what `make peers`
// built is a program that runs here.
func TestPeersRun(t *testing.T) {
	for _, p := range []Peer{Prometheus, Promtool, VictoriaMetrics, NodeExporter} {
		t.Run(p.Name, func(t *testing.T) {
			out, err := exec.Command(Path(t, p), "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s --version: %v\n%s", p.Name, err, out)
			}
		})
	}
}
