package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestExporter builds the example and collects it as Vigil would.
func TestExporter(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), make([]byte, 100), 0o644)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "b"), make([]byte, 23), 0o644)

	p, err := client.Start(client.Options{Path: testplugins.Build(t, "examples/custom-exporter")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx := context.Background()
	if err := p.Configure(ctx, []byte(`{"paths": []}`)); err == nil {
		t.Fatal("an empty paths list was accepted")
	}
	if err := p.Configure(ctx, []byte(`{"paths": ["`+dir+`"]}`)); err != nil {
		t.Fatal(err)
	}
	families, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		got[f.GetName()] = f.Metric[0].GetGauge().GetValue()
	}
	if got["dirsize_bytes"] != 123 || got["dirsize_files"] != 2 || got["dirsize_errors"] != 0 {
		t.Fatalf("collected %v", got)
	}
}
