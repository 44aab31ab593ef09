// Package testplugins builds plugins for tests from their sources, once
// per test process, so that tests load them exactly as a server loads a
// third-party plugin and nothing prebuilt is needed. Start with Build.
package testplugins

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"go.uber.org/goleak"
)

var (
	mu    sync.Mutex
	dir   string
	built = map[string]string{} // package path to binary
)

// Build builds the gRPC plugin in the module's directory pkg (for
// example "plugins/exporter/node") and returns the path of the program.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, false)
}

// BuildWasm builds the plugin in pkg as a WebAssembly module
// (GOOS=wasip1, -buildmode=c-shared) and returns the path of the .wasm.
func BuildWasm(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, true)
}

func build(t testing.TB, pkg string, wasm bool) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := pkg
	if wasm {
		key += ".wasm"
	}
	if path, ok := built[key]; ok {
		return path
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("cannot find the module: %v", err)
	}
	if dir == "" {
		// Shared by every test of the process, until Remove.
		if dir, err = os.MkdirTemp("", "vigil-test-plugins"); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "vigil-"+strings.ReplaceAll(strings.TrimPrefix(pkg, "plugins/"), "/", "-"))
	args := []string{"build", "-o", out}
	cmd := exec.Command("go")
	if wasm {
		out += ".wasm"
		args = []string{"build", "-buildmode=c-shared", "-o", out}
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	}
	cmd.Args = append([]string{"go"}, append(args, "./"+pkg)...)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot build plugin %s: %v\n%s", pkg, err, msg)
	}
	built[key] = out
	return out
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// Remove deletes what Build built; a TestMain calls it after m.Run.
func Remove() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
	}
	dir, built = "", map[string]string{}
}

// VerifyTestMain runs the tests of a package, removes what Build built,
// and fails the run when goroutines outlive the tests (goleak), then
// exits: a plugin package's TestMain is this one call.
func VerifyTestMain(m *testing.M) {
	code := m.Run()
	Remove()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines outlived the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// WasmCache compiles a Wasm module, as BuildWasm gives it, into a new
// compilation cache and returns the cache's directory, for
// pluginhost.WasmOptions.CacheDir. It compiles in a process without the
// race detector, under which compiling a module of the size Go produces
// takes minutes; the cache is keyed by the wazero version this test
// binary reports, which the compiling process is told.
func WasmCache(t testing.TB, module string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	c, err := wazero.NewCompilationCacheWithDir(probe)
	if err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	entries, _ := os.ReadDir(probe)
	if len(entries) != 1 {
		t.Fatalf("wazero made %d directories in its cache", len(entries))
	}
	version := strings.TrimSuffix(strings.TrimPrefix(entries[0].Name(), "wazero-"), "-"+runtime.GOARCH+"-"+runtime.GOOS)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	cmd := exec.CommandContext(ctx, "go", "run", "-ldflags=-X=github.com/tetratelabs/wazero/internal/version.version="+version,
		"./core/pluginhost/testdata/wasmprecompile", "-cache", cache, module)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot precompile %s: %v\n%s", module, err, out)
	}
	return cache
}
