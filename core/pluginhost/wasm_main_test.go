package pluginhost

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
)

func TestMain(m *testing.M) {
	code := m.Run()
	if wasmGuests.dir != "" {
		os.RemoveAll(wasmGuests.dir)
	}
	os.Exit(code)
}

// wasmGuests are the test guests of testdata/wasmguest, built once per
// test process, and a compilation cache holding them compiled.
var wasmGuests struct {
	once  sync.Once
	dir   string
	cache string
	paths map[string]string
	err   error
}

// guestBuilds says how to build each test guest: its package and extra
// go build arguments.
var guestBuilds = map[string][]string{
	"exporter":    {"./testdata/wasmguest/exporter", "-buildmode=c-shared"},
	"notifier":    {"./testdata/wasmguest/notifier", "-buildmode=c-shared"},
	"minimal":     {"./testdata/wasmguest/minimal", "-buildmode=c-shared"},
	"discoverer":  {"./testdata/wasmguest/minimal", "-buildmode=c-shared", "-ldflags=-X=main.kind=2"},
	"v1exporter":  {"./testdata/wasmguest/minimal", "-buildmode=c-shared", "-ldflags=-X=main.kind=1"},
	"pollsd":      {"./testdata/wasmguest/pollsd", "-buildmode=c-shared"},
	"multitarget": {"./testdata/wasmguest/multitarget", "-buildmode=c-shared"},
	"abi3":        {"./testdata/wasmguest/abi3", "-buildmode=c-shared"},
	"command":     {"./testdata/wasmguest/minimal"},
}

// guest returns the path of the test guest called name, and the
// compilation cache that holds it compiled.
func guest(t *testing.T, name string) (path, cacheDir string) {
	t.Helper()
	wasmGuests.once.Do(buildGuests)
	if wasmGuests.err != nil {
		t.Fatal(wasmGuests.err)
	}
	path, ok := wasmGuests.paths[name]
	if !ok {
		t.Fatalf("no test guest %q", name)
	}
	return path, wasmGuests.cache
}

func buildGuests() {
	g := &wasmGuests
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if g.dir, g.err = os.MkdirTemp("", "vigil-wasm-test"); g.err != nil {
		return
	}
	g.cache = filepath.Join(g.dir, "cache")
	g.paths = map[string]string{}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	for name, args := range guestBuilds {
		out := filepath.Join(g.dir, name+".wasm")
		g.paths[name] = out
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", out}, append(args[1:], args[0])...)...)
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			if msg, err := cmd.CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("build test guest %s: %v\n%s", name, err, msg))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		g.err = fmt.Errorf("%s", strings.Join(errs, "\n"))
		return
	}
	// Compile the guests in a process of its own, without the race
	// detector that makes compiling a large module take minutes, into the
	// cache the tests load them from.
	version, err := wazeroCacheVersion(ctx, g.dir)
	if err != nil {
		g.err = err
		return
	}
	args := []string{"run", "-ldflags=-X=github.com/tetratelabs/wazero/internal/version.version=" + version,
		"./testdata/wasmprecompile", "-cache", g.cache}
	for _, path := range g.paths {
		args = append(args, path)
	}
	if msg, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err != nil {
		g.err = fmt.Errorf("precompile the test guests: %v\n%s", err, msg)
	}
}

// wazeroCacheVersion is the wazero version this binary keys its
// compilation cache with: "dev" in a test binary, which has no module
// versions.
func wazeroCacheVersion(ctx context.Context, dir string) (string, error) {
	probe := filepath.Join(dir, "probe")
	c, err := wazero.NewCompilationCacheWithDir(probe)
	if err != nil {
		return "", err
	}
	c.Close(ctx)
	entries, err := os.ReadDir(probe)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if v, ok := strings.CutPrefix(e.Name(), "wazero-"); ok {
			return strings.TrimSuffix(v, "-"+runtime.GOARCH+"-"+runtime.GOOS), nil
		}
	}
	return "", fmt.Errorf("wazero made no versioned directory in %s", probe)
}
