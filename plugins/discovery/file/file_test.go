package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/discovery/discoverytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// wait bounds every wait for an update.
const wait = 10 * time.Second

func configure(t *testing.T, values map[string]any) (*fileDiscoverer, *discoverytest.LogBuffer) {
	t.Helper()
	cfg, err := filePlugin.Schema.Values(values)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newFileDiscoverer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &discoverytest.LogBuffer{}
	d.log = hclog.New(&hclog.LoggerOptions{Output: logs, JSONFormat: true})
	return d, logs
}

func none(t *testing.T, updates <-chan []sdk.TargetGroup, d time.Duration) {
	t.Helper()
	select {
	case u := <-updates:
		t.Fatalf("unexpected update %+v", u)
	case <-time.After(d):
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeAtomically writes content beside path and renames it into place,
// as configuration tools do.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	write(t, path+".tmp", content)
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func group(path string, i int, labels map[string]string, addrs ...string) sdk.TargetGroup {
	g := sdk.TargetGroup{Source: fmt.Sprintf("%s:%d", path, i), Labels: map[string]string{"__meta_filepath": path}, Targets: []map[string]string{}}
	for k, v := range labels {
		g.Labels[k] = v
	}
	for _, a := range addrs {
		g.Targets = append(g.Targets, map[string]string{"__address__": a})
	}
	return g
}

func TestConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		values map[string]any
		attr   string
	}{
		"no files":          {map[string]any{}, "files"},
		"empty list":        {map[string]any{"files": []string{}}, "files"},
		"wrong extension":   {map[string]any{"files": []string{"targets.txt"}}, "files"},
		"star in directory": {map[string]any{"files": []string{"dir*/targets.json"}}, "files"},
		"bad glob":          {map[string]any{"files": []string{"[.json"}}, "files"},
		"zero interval":     {map[string]any{"files": []string{"a.json"}, "refresh_interval": "0s"}, "refresh_interval"},
		"bad interval":      {map[string]any{"files": []string{"a.json"}, "refresh_interval": "soon"}, "refresh_interval"},
		"unknown":           {map[string]any{"files": []string{"a.json"}, "file": "a.json"}, "file"},
	} {
		cfg, err := filePlugin.Schema.Values(tc.values)
		if err == nil {
			_, err = newFileDiscoverer(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != tc.attr {
			t.Errorf("%s: %v, want an error about %q", name, err, tc.attr)
		}
	}
	d, _ := configure(t, map[string]any{"files": []string{"a.json", "conf.d/*.yml", "x.YAML"}})
	if d.interval != 5*time.Minute {
		t.Errorf("default refresh_interval %s", d.interval)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	jsonPath, yamlPath := filepath.Join(dir, "t.json"), filepath.Join(dir, "t.yaml")
	write(t, jsonPath, `[{"targets": ["127.0.0.1:9100", "db:5432"], "labels": {"env": "prod"}}, {"targets": ["127.0.0.1:9101"]}]`)
	write(t, yamlPath, "- targets: ['127.0.0.1:9100', 'db:5432']\n  labels:\n    env: prod\n- targets: ['127.0.0.1:9101']\n")
	want := func(path string) []sdk.TargetGroup {
		return []sdk.TargetGroup{
			group(path, 0, map[string]string{"env": "prod"}, "127.0.0.1:9100", "db:5432"),
			group(path, 1, nil, "127.0.0.1:9101"),
		}
	}
	for _, path := range []string{jsonPath, yamlPath} {
		got, err := readFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want(path), got); d != "" {
			t.Errorf("%s (-want +got):\n%s", path, d)
		}
	}

	empty := filepath.Join(dir, "empty.yml")
	write(t, empty, "")
	if got, err := readFile(empty); err != nil || len(got) != 0 {
		t.Errorf("an empty YAML file: %v, %v", got, err)
	}

	for name, tc := range map[string]struct{ file, content, err string }{
		"json syntax":        {"a.json", `[{"targets": ["a:1"]`, "cannot parse"},
		"json unknown field": {"a.json", `[{"targets": ["a:1"], "lables": {}}]`, `unknown field "lables"`},
		"json null group":    {"a.json", `[null]`, "target group 0 is null"},
		"yaml unknown field": {"a.yml", "- targets: ['a:1']\n  lables: {}\n", "lables"},
		"yaml null group":    {"a.yml", "- targets: ['a:1']\n-\n", "target group 1 is null"},
		"yaml not a list":    {"a.yml", "targets: ['a:1']\n", "cannot unmarshal"},
		"yaml two documents": {"a.yml", "- targets: ['a:1']\n---\n- targets: ['b:1']\n", "more than one YAML document"},
		"url target":         {"a.yml", "- targets: ['http://a:1/metrics']\n", "not a valid host:port"},
		"bad label name":     {"a.json", `[{"targets": ["a:1"], "labels": {"": "x"}}]`, "not a valid label name"},
		"unknown extension":  {"a.txt", `[]`, "unknown extension"},
	} {
		path := filepath.Join(dir, tc.file)
		write(t, path, tc.content)
		if _, err := readFile(path); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want an error containing %q", name, err, tc.err)
		}
	}
}

// TestWatch follows a directory's files through their changes; the
// refresh interval is an hour, so every update comes from watching.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.yml")
	write(t, a, `[{"targets": ["127.0.0.1:1"], "labels": {"team": "x"}}, {"targets": ["127.0.0.1:2"]}]`)
	write(t, filepath.Join(dir, "ignored.txt"), `not a target file`)
	d, logs := configure(t, map[string]any{
		"files":            []string{filepath.Join(dir, "*.json"), filepath.Join(dir, "*.yml")},
		"refresh_interval": "1h",
	})
	updates := discoverytest.Run(t, d)

	check := func(step string, want ...sdk.TargetGroup) {
		t.Helper()
		if diff := cmp.Diff(want, discoverytest.Next(t, updates)); diff != "" {
			t.Fatalf("%s: update (-want +got):\n%s", step, diff)
		}
	}
	check("start",
		group(a, 0, map[string]string{"team": "x"}, "127.0.0.1:1"),
		group(a, 1, nil, "127.0.0.1:2"))

	write(t, b, "- targets: ['127.0.0.1:3']\n")
	check("create", group(b, 0, nil, "127.0.0.1:3"))

	write(t, a, `[{"targets": ["127.0.0.1:1", "127.0.0.1:4"], "labels": {"team": "x"}}]`)
	check("modify and shrink",
		group(a, 0, map[string]string{"team": "x"}, "127.0.0.1:1", "127.0.0.1:4"),
		sdk.TargetGroup{Source: a + ":1"})

	write(t, a, `[{"targets": ["127.0.0.1:1"`)
	writeAtomically(t, b, "- targets: ['127.0.0.1:5']\n")
	// The malformed file keeps its groups: the next update is b's alone.
	check("malformed", group(b, 0, nil, "127.0.0.1:5"))
	if !strings.Contains(logs.String(), "cannot read target groups") || !strings.Contains(logs.String(), a) {
		t.Errorf("the malformed file was not logged:\n%s", logs.String())
	}

	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	check("delete", sdk.TargetGroup{Source: a + ":0"})

	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	check("delete the last", sdk.TargetGroup{Source: b + ":0"})

	write(t, filepath.Join(dir, "ignored.txt"), `still not a target file`)
	none(t, updates, 300*time.Millisecond)
}

// TestRefreshInterval reads files in a directory that does not exist
// when discovery starts, so that it cannot be watched at first.
func TestRefreshInterval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	path := filepath.Join(dir, "t.json")
	d, logs := configure(t, map[string]any{"files": []string{path}, "refresh_interval": "100ms"})
	updates := discoverytest.Run(t, d)
	if u := discoverytest.Next(t, updates); len(u) != 0 {
		t.Fatalf("groups from no files: %+v", u)
	}
	if !strings.Contains(logs.String(), "cannot watch directory") {
		t.Errorf("the directory that cannot be watched was not logged:\n%s", logs.String())
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, path, `[{"targets": ["127.0.0.1:1"]}]`)
	if diff := cmp.Diff([]sdk.TargetGroup{group(path, 0, nil, "127.0.0.1:1")}, discoverytest.Next(t, updates)); diff != "" {
		t.Fatalf("update (-want +got):\n%s", diff)
	}
}

func TestSendError(t *testing.T) {
	d, _ := configure(t, map[string]any{"files": []string{filepath.Join(t.TempDir(), "*.json")}})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	gone := errors.New("host gone")
	if err := d.Discover(ctx, func([]sdk.TargetGroup) error { return gone }); !errors.Is(err, gone) {
		t.Fatalf("Discover returned %v, want the send error", err)
	}
}
