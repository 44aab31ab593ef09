package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// TestKindNames checks that every command naming a kind takes the same
// names, the names of the config blocks, and says the same when refused.
func TestKindNames(t *testing.T) {
	if got, want := strings.Join(kindNames(), " "), "exporter discovery notifier"; got != want {
		t.Fatalf("kind names %q, want %q", got, want)
	}

	// Each name is the block that configures a plugin of the kind.
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("plugin \"p\" { source = \"./p\" }\n")
	for _, name := range kindNames() {
		cfg.WriteString(name + " \"x\" { plugin = \"p\" }\n")
	}
	path := filepath.Join(dir, "kinds.hcl")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, diags := hclconfig.Load(path)
	if diags.HasErrors() {
		t.Fatalf("a block per kind name: %s", diags.Error())
	}
	got := map[string]bool{}
	for _, inst := range loaded.Instances() {
		got[inst.Kind.String()] = true
	}
	for _, name := range kindNames() {
		if !got[name] {
			t.Errorf("no %s block was decoded as a plugin of kind %s: %v", name, name, got)
		}
	}

	for name, args := range map[string][]string{
		// --sdk names no SDK, so nothing is written once the kind is read.
		"plugin new":      {"plugin", "new", "--sdk", t.TempDir(), "demo"},
		"conformance run": {"conformance", "run", "missing-plugin"},
	} {
		t.Run(name, func(t *testing.T) {
			with := func(kind string) []string {
				return append(append(append([]string{}, args[:len(args)-1]...), "--kind", kind), args[len(args)-1])
			}
			code, _, stderr := runCLI(with("scraper")...)
			if want := `--kind must be exporter, discovery or notifier, not "scraper"`; code != exitUsage || !strings.Contains(stderr, want) {
				t.Errorf("--kind scraper: exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, want)
			}
			_, _, stderr = runCLI(with("discoverer")...)
			if want := "note: --kind discoverer is spelled discovery now"; !strings.Contains(stderr, want) {
				t.Errorf("--kind discoverer: stderr %q, want %q", stderr, want)
			}
			_, _, stderr = runCLI(with("discovery")...)
			if strings.Contains(stderr, "note:") || strings.Contains(stderr, "--kind") {
				t.Errorf("--kind discovery: stderr %q", stderr)
			}
			code, stdout, _ := runCLI(append([]string{"__complete"}, append(args[:len(args)-1], "--kind", "")...)...)
			if code != exitOK || !strings.HasPrefix(stdout, "exporter\ndiscovery\nnotifier\n:") {
				t.Errorf("completion of --kind: exit %d, %q", code, stdout)
			}
		})
	}
}

// TestParseKind checks each name, and the old one, against its kind.
func TestParseKind(t *testing.T) {
	for name, want := range map[string]sdk.Kind{"exporter": sdk.KindExporter, "discovery": sdk.KindDiscoverer, "notifier": sdk.KindNotifier, "discoverer": sdk.KindDiscoverer} {
		var note strings.Builder
		got, err := parseKind(name, &note)
		if err != nil || got != want {
			t.Errorf("parseKind(%q) = %v, %v; want %v", name, got, err, want)
		}
		if (name == "discoverer") != (note.Len() > 0) {
			t.Errorf("parseKind(%q) noted %q", name, note.String())
		}
	}
	for _, name := range []string{"", "Exporter", "discover", "notifiers"} {
		if k, err := parseKind(name, &strings.Builder{}); err == nil {
			t.Errorf("parseKind(%q) = %v, want an error", name, k)
		}
	}
}
