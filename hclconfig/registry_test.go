package hclconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/registry"
)

// TestIsRegistryAddress tells registry addresses from paths.
func TestIsRegistryAddress(t *testing.T) {
	for source, want := range map[string]bool{
		"registry.example.com/acme/webhook": true,
		"127.0.0.1:8080/acme/webhook":       true,
		"localhost/acme/webhook":            true,
		"bin/vigil-exporter-node":           false,
		"./bin/x/y":                         false,
		"plugins/bin/x":                     false, // no host name first
		"/opt/vigil/plugins/x":              false,
		"registry.example.com/acme":         false,
		"registry.example.com/a/b/c":        false,
	} {
		if got := isRegistryAddress(source); got != want {
			t.Errorf("%s: %v, want %v", source, got, want)
		}
	}
}

// writeLock writes a lock file into dir with webhook 1.2.3 for this
// platform and wasm.
func writeLock(t *testing.T, dir string) (fileHash []byte) {
	t.Helper()
	src, err := registry.ParseSource("registry.example.com/acme/webhook")
	if err != nil {
		t.Fatal(err)
	}
	fileHash = bytes.Repeat([]byte{0xab}, 32)
	lock := registry.NewLockFile()
	lock.SetPlugin(&registry.LockedPlugin{
		Source: src, Version: "1.2.3", Constraints: "~> 1.2", Protocols: []string{"1"},
		Platforms: map[registry.Platform]registry.PlatformHashes{
			registry.CurrentPlatform(): {Archive: bytes.Repeat([]byte{0xcd}, 32), File: fileHash},
		},
	})
	if err := lock.Write(filepath.Join(dir, registry.LockFileName)); err != nil {
		t.Fatal(err)
	}
	return fileHash
}

// TestRegistryPluginResolvedThroughLockFile resolves a plugin block with a
// registry address to the installed file and the locked checksum, and
// renders it back as written.
func TestRegistryPluginResolvedThroughLockFile(t *testing.T) {
	dir := t.TempDir()
	hash := writeLock(t, dir)
	file := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(file, []byte(`plugin "webhook" {
  source  = "registry.example.com/acme/webhook"
  version = "~> 1.2"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(file)
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	p := cfg.Plugins[0]
	want, err := registry.PluginPath(filepath.Join(dir, filepath.FromSlash(registry.DefaultPluginDir)), "registry.example.com/acme/webhook", "1.2.3", registry.CurrentPlatform())
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != want || !bytes.Equal(p.Checksum, hash) || p.Registry == nil || p.Registry.Version != "1.2.3" {
		t.Fatalf("plugin %+v, registry %+v; want source %s", p, p.Registry, want)
	}
	text := string(cfg.HCL())
	if !strings.Contains(text, `source  = "registry.example.com/acme/webhook"`) || !strings.Contains(text, `version = "~> 1.2"`) || strings.Contains(text, "checksum") {
		t.Errorf("rendered:\n%s", text)
	}
}

// TestRegistryPluginErrors reports each way a registry plugin cannot be
// resolved at its attribute.
func TestRegistryPluginErrors(t *testing.T) {
	dir := t.TempDir()
	writeLock(t, dir)
	for name, tc := range map[string]struct{ body, want string }{
		"not installed": {`source = "registry.example.com/acme/slack"`,
			`vigil.hcl:2:12: Plugin not installed; registry.example.com/acme/slack is not in the lock file ` + filepath.Join(dir, "vigil.lock.hcl") + `; run vigil plugin install registry.example.com/acme/slack.`},
		"constraint refuses": {"source = \"registry.example.com/acme/webhook\"\n  version = \">= 2.0\"",
			`vigil.hcl:3:13: Locked version does not match; registry.example.com/acme/webhook is locked at 1.2.3`},
		"bad constraint": {"source = \"registry.example.com/acme/webhook\"\n  version = \"two\"",
			`vigil.hcl:3:13: Invalid version constraint; "two": `},
		"bad address": {`source = "registry.example.com/Acme/webhook"`,
			`vigil.hcl:2:12: Invalid plugin source; plugin source "registry.example.com/Acme/webhook": namespace "Acme" must be lower-case`},
		"checksum": {"source = \"registry.example.com/acme/webhook\"\n  checksum = \"sha256:" + strings.Repeat("00", 32) + "\"",
			`vigil.hcl:3:14: Checksum of a registry plugin; The checksum of registry.example.com/acme/webhook comes from the lock file`},
		"version of a path": {"source = \"bin/webhook\"\n  version = \"1.0\"",
			`vigil.hcl:3:13: Version of a plugin file; version applies to registry addresses`},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, "vigil.hcl")
			if err := os.WriteFile(file, []byte("plugin \"p\" {\n  "+tc.body+"\n}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, diags := Load(file)
			if got := diagText(diags); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant them to contain:\n%s", got, tc.want)
			}
		})
	}
}

// TestRegistryPlugins lists the plugin blocks with registry addresses,
// without a lock file, and reports a broken plugin block.
func TestRegistryPlugins(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.hcl")
	os.WriteFile(file, []byte(`
plugin "local" { source = "bin/x" }
plugin "a" {
  source  = "registry.example.com/acme/a"
  version = "~> 1.0"
}
plugin "b" { source = "registry.example.com/acme/b" }
scrape "self" { targets = ["127.0.0.1:9090"] }
`), 0o644)
	got, diags := RegistryPlugins(file)
	if diags.HasErrors() || len(got) != 2 || got[0].Address != "registry.example.com/acme/a" || got[0].Constraint != "~> 1.0" ||
		got[1].Address != "registry.example.com/acme/b" || got[1].Constraint != "" {
		t.Fatalf("registry plugins %+v, %s", got, diagText(diags))
	}
	os.WriteFile(file, []byte("plugin \"a\" {\n  source = 3 +\n}\n"), 0o644)
	if _, diags := RegistryPlugins(file); !diags.HasErrors() {
		t.Error("a broken plugin block gave no diagnostic")
	}
}

// TestRegistries decodes the registry blocks of a configuration as the
// vigil plugin commands read them, the other blocks left alone, and
// reports each mistake at its place.
func TestRegistries(t *testing.T) {
	dir := t.TempDir()
	pub, err := registry.GenerateKey(filepath.Join(dir, "acme"))
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "vigil.hcl")
	os.WriteFile(config, []byte(`
server { listen = "127.0.0.1:9090" }
plugin "x" { source = "registry.example.com/acme/x" }
scrape "broken" { bogus = true }
registry "Plugins.Example.com" {
  url          = "http://127.0.0.1:8080/mirror"
  trusted_keys = [file("acme.pub")]
}
registry "other.example" {}
`), 0o644)
	regs, diags := Registries(config)
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if len(regs) != 2 || regs[0].Host != "plugins.example.com" || regs[0].URL.String() != "http://127.0.0.1:8080/mirror/" ||
		len(regs[0].TrustedKeys) != 1 || !bytes.Equal(regs[0].TrustedKeys[0], pub) || regs[1].URL.String() != "https://other.example/" {
		t.Fatalf("registries %+v", regs)
	}
	for name, tc := range map[string]struct{ src, want string }{
		"bad key":   {`registry "a" { trusted_keys = ["ed25519:AAAA", "ssh-rsa AAAA"] }`, `vigil.hcl:1:48: Invalid trusted key; public key "ssh-rsa AAAA" does not start with "ed25519:".`},
		"bad url":   {`registry "a" { url = "ftp://x" }`, `vigil.hcl:1:22: Invalid registry url; registry URL "ftp://x" is not an http:// or https:// URL.`},
		"duplicate": {"registry \"a\" {}\nregistry \"A\" {}", `vigil.hcl:2:10: Duplicate registry name; A registry named "a" is already defined at`},
		"bad host":  {`registry "a b" {}`, `vigil.hcl:1:10: Invalid registry host; "a b" is not a host name with an optional :port.`},
		"bad attr":  {`registry "a" { keys = [] }`, `vigil.hcl:1:16: Unsupported argument; An argument named "keys" is not expected here.`},
	} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(config, []byte(tc.src), 0o644)
			_, diags := Registries(config)
			if got := diagText(diags); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant them to contain:\n%s", got, tc.want)
			}
		})
	}
}
