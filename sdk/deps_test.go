package sdk_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the SDK free of Vigil's core and of the Prometheus
// server's module, so plugins stay small and build on their own.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/vigilmon/vigil/sdk/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/vigilmon/vigil/core",
		"github.com/vigilmon/vigil/hclconfig",
		"github.com/dgraph-io/badger",
		"github.com/prometheus/prometheus",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				t.Errorf("the SDK depends on %s", pkg)
			}
		}
	}
}
