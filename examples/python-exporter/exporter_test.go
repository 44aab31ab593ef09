// Package pythonexporter tests the Python exporter beside it: its stubs are
// what protoc makes of the .proto files, and Vigil's plugin client starts
// it, shakes hands over mutual TLS and collects it. The example itself is
// plugin.py; cmd/vigil's tests run the conformance suite on it and have a
// vigil server scrape it.
package pythonexporter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

var update = flag.Bool("update", false, "write the generated stubs into gen/")

// generate runs protoc on the plugin protocol's .proto files and those of
// proto/ into dir: the messages with protoc's Python generator, the
// services with grpcio-tools' (python3 -m grpc_tools.protoc).
func generate(t *testing.T, dir string) {
	t.Helper()
	includes := []string{"-I", "../../sdk/proto", "-I", "proto"}
	messages := []string{"vigil/plugin/v1/plugin.proto", "vigil/plugin/v1/services.proto",
		"prometheus/metrics.proto", "health/health.proto", "goplugin/go_plugin.proto"}
	services := []string{"vigil/plugin/v1/services.proto", "health/health.proto", "goplugin/go_plugin.proto"}
	for _, args := range [][]string{
		append(append([]string{"protoc"}, includes...), append([]string{"--python_out=" + dir}, messages...)...),
		append(append([]string{testplugins.Python, "-m", "grpc_tools.protoc"}, includes...), append([]string{"--grpc_python_out=" + dir}, services...)...),
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

// files reads every file under dir, by path relative to dir.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	all := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".py" {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		all[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestStubs checks that gen/ holds what protoc generates from the .proto
// files today; go test -run TestStubs -update writes it.
func TestStubs(t *testing.T) {
	testplugins.RequirePythonGRPC(t)
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("needs protoc (apt-get install protobuf-compiler)")
	}
	dir := t.TempDir()
	generate(t, dir)
	if *update {
		if err := os.RemoveAll("gen"); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir("gen", 0o755); err != nil {
			t.Fatal(err)
		}
		generate(t, "gen")
	}
	want, got := files(t, dir), files(t, "gen")
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("gen/%s is not what protoc generates; run go test -run TestStubs -update", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("gen/%s is not generated from a .proto file", name)
		}
	}
}

// TestExporter starts the plugin as Vigil's host does and collects it.
func TestExporter(t *testing.T) {
	testplugins.RequirePythonGRPC(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), make([]byte, 100), 0o644)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "b"), make([]byte, 23), 0o644)
	plugin, err := filepath.Abs("plugin.py")
	if err != nil {
		t.Fatal(err)
	}

	p, err := client.Start(client.Options{Path: plugin})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx := context.Background()
	info, kind, err := p.Info(ctx)
	if err != nil || info.Name != "pydirsize" || kind != sdk.KindExporter {
		t.Fatalf("info %+v, kind %v: %v", info, kind, err)
	}
	var ae *sdk.AttributeError
	for _, bad := range []string{`{"paths": []}`, `{"paths": "x"}`, `{}`} {
		if err := p.Configure(ctx, []byte(bad)); !errors.As(err, &ae) || ae.Attribute != "paths" {
			t.Errorf("config %s: %v, want an error about paths", bad, err)
		}
	}
	if _, err := p.Collect(ctx); err == nil {
		t.Error("an unconfigured plugin collected")
	}
	if err := p.Configure(ctx, []byte(`{"paths": ["`+dir+`", "`+filepath.Join(dir, "missing")+`"]}`)); err != nil {
		t.Fatal(err)
	}
	families, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.Metric {
			got[f.GetName()+" "+m.Label[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"dirsize_bytes " + dir: 123, "dirsize_files " + dir: 2, "dirsize_errors " + dir: 0,
		"dirsize_bytes " + dir + "/missing": 0, "dirsize_files " + dir + "/missing": 0, "dirsize_errors " + dir + "/missing": 1,
	}
	if len(got) != len(want) {
		t.Errorf("collected %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}

	// A collection of more than 1 MiB, which the plugin sends in several
	// messages, arrives whole.
	var paths []string
	for i := range 6000 {
		paths = append(paths, fmt.Sprintf("%s/missing-folder-with-a-long-name-to-fill-the-messages-%05d", dir, i))
	}
	config, _ := json.Marshal(map[string]any{"paths": paths})
	if err := p.Configure(ctx, config); err != nil {
		t.Fatal(err)
	}
	raw, err := p.CollectDelimited(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) <= 1<<20 {
		t.Fatalf("the collection is %d bytes, too small to need more than one message", len(raw))
	}
	if families, err = p.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if len(f.Metric) != len(paths) {
			t.Errorf("%s has %d series, want %d", f.GetName(), len(f.Metric), len(paths))
		}
	}
}
