package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
)

// StartCPUProfile starts a CPU profile of this process into
// dir/<name>.cpu.pprof, creating dir, and returns the function that ends
// it, which may be called more than once. With dir empty it does nothing.
func StartCPUProfile(dir, name string) (stop func() error, err error) {
	if dir == "" {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the profile directory: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		return nil, fmt.Errorf("create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return sync.OnceValue(func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("close CPU profile %s: %w", f.Name(), err)
		}
		return nil
	}), nil
}

// WriteHeapProfile runs a garbage collection and writes a heap profile of
// this process into dir/<name>.heap.pprof, creating dir, and returns the
// file's path. With dir empty it does nothing and returns "".
func WriteHeapProfile(dir, name string) (string, error) {
	if dir == "" {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create the profile directory: %w", err)
	}
	path := filepath.Join(dir, name+".heap.pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("create heap profile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("write heap profile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close heap profile %s: %w", path, err)
	}
	return path, nil
}
