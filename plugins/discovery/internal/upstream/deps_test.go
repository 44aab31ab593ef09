package upstream

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEachPluginLinksOneMechanism keeps every plugin built on this
// package to the one upstream mechanism it serves: none imports
// Prometheus's discovery/install or another mechanism's package, which
// would swell its binary and build.
func TestEachPluginLinksOneMechanism(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the plugins' dependencies")
	}
	const prefix = "github.com/prometheus/prometheus/discovery/"
	shared := map[string]bool{prefix + "targetgroup": true, prefix + "refresh": true}
	mains, err := filepath.Glob("../../*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range mains {
		dir := filepath.Dir(m)
		src, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "plugins/discovery/internal/upstream") {
			continue // a plugin of its own making
		}
		n++
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+dir).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", dir, err, out)
		}
		var mechanisms []string
		for _, p := range strings.Fields(string(out)) {
			if rest, ok := strings.CutPrefix(p, prefix); ok && !shared[p] {
				mechanisms = append(mechanisms, strings.Split(rest, "/")[0])
			}
		}
		mechanisms = slices.Compact(slices.Sorted(slices.Values(mechanisms)))
		if len(mechanisms) != 1 {
			t.Errorf("%s links the upstream mechanisms %q, want one", filepath.Base(dir), mechanisms)
		}
	}
	if n < 10 {
		t.Errorf("found %d plugins built on the adapter, want at least 10", n)
	}
}
