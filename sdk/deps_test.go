package sdk_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goCommand runs the go command on the SDK's module alone, whatever
// workspace the test runs in, and returns its standard output.
func goCommand(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = string(exit.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// TestImports keeps the SDK free of Vigil's core and of the Prometheus
// server's module, so plugins stay small and build on their own.
func TestImports(t *testing.T) {
	forbidden := []string{
		"github.com/vigilmon/vigil/core",
		"github.com/vigilmon/vigil/hclconfig",
		"github.com/vigilmon/vigil/conformance",
		"github.com/vigilmon/vigil/internal",
		"github.com/dgraph-io/badger",
		"github.com/prometheus/prometheus",
	}
	for _, pkg := range strings.Fields(goCommand(t, "list", "-deps", "-test", "./...")) {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				t.Errorf("the SDK depends on %s", pkg)
			}
		}
	}
}

// allowedRequirements are the modules the SDK may require directly;
// everything else in its module graph must come through them.
var allowedRequirements = []string{
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"github.com/hashicorp/go-plugin",
	"github.com/hashicorp/go-hclog",
	"github.com/prometheus/client_model",
	"github.com/prometheus/client_golang",
	"github.com/google/go-cmp", // tests only
}

// forbiddenModules must not be in the SDK's module graph at all: Vigil's
// own module, its storage, the Prometheus server, the browser driver, and
// the AWS, Azure and Kubernetes client libraries.
var forbiddenModules = []string{
	"github.com/vigilmon/vigil",
	"github.com/dgraph-io/badger",
	"github.com/prometheus/prometheus",
	"github.com/prometheus/alertmanager",
	"github.com/chromedp",
	"github.com/aws",
	"github.com/Azure",
	"github.com/AzureAD",
	"k8s.io",
}

// maxModules bounds the lines of `go list -m all`, the SDK's whole
// module graph, which every plugin's graph contains. It is 63 with gRPC
// v1.84.0, whose go.mod alone names 42 modules (its GCP and xDS
// integrations among them, none of which a plugin compiles); even the
// oldest gRPC the generated code supports (v1.64) gives 43 with go-plugin
// and hclog.
const maxModules = 65

// TestModuleGraph keeps the SDK module small: it requires only
// allowedRequirements directly, none of forbiddenModules is in its module
// graph, and the graph has at most maxModules modules.
func TestModuleGraph(t *testing.T) {
	var mod struct {
		Module  struct{ Path string }
		Require []struct {
			Path     string
			Indirect bool
		}
	}
	if err := json.Unmarshal([]byte(goCommand(t, "mod", "edit", "-json")), &mod); err != nil {
		t.Fatal(err)
	}
	if mod.Module.Path != "github.com/vigilmon/vigil/sdk" {
		t.Fatalf("the test runs in module %q, not the SDK's", mod.Module.Path)
	}
	for _, r := range mod.Require {
		if !r.Indirect && !slices.Contains(allowedRequirements, r.Path) {
			t.Errorf("go.mod requires %s directly; the SDK may require only %v", r.Path, allowedRequirements)
		}
	}

	lines := strings.Split(strings.TrimSpace(goCommand(t, "list", "-m", "all")), "\n")
	for _, line := range lines[1:] { // the first is the SDK itself
		path, _, _ := strings.Cut(line, " ")
		for _, f := range forbiddenModules {
			if path == f || strings.HasPrefix(path, f+"/") {
				t.Errorf("the SDK's module graph holds %s", line)
			}
		}
	}
	if len(lines) > maxModules {
		t.Errorf("go list -m all lists %d modules, more than %d:\n%s", len(lines), maxModules, strings.Join(lines, "\n"))
	}
}
