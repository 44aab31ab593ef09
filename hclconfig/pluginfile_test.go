package hclconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/sdk"
)

// TestPluginConfigFileAttributes reads files of one plugin's config
// attributes, bare or in one config block, as --config took them first.
func TestPluginConfigFileAttributes(t *testing.T) {
	t.Setenv("VIGIL_TEST_TOKEN", "s3cret")
	schema := sdk.Schema{sdk.String("url", "", sdk.Required), sdk.String("token", "", sdk.Sensitive), sdk.Duration("timeout", "")}
	tests := map[string]struct {
		src, want, diag string
	}{
		"bare":         {src: "url = \"http://a\"\ntoken = env(\"VIGIL_TEST_TOKEN\")\n", want: `{"token":"s3cret","url":"http://a"}`},
		"config block": {src: "config {\n  url = \"http://a\"\n}\n", want: `{"url":"http://a"}`},
		"missing":      {src: "token = \"x\"\n", diag: `Missing required argument`},
		"unknown":      {src: "url = \"http://a\"\nport = 1\n", diag: `Unsupported argument`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plugin.hcl")
			if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			f, diags := LoadPluginConfigFile(path)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if f.Config != nil {
				t.Fatal("read as a Vigil configuration")
			}
			inst, err := f.Instance(PluginQuery{Path: "/bin/vigil-notifier-any", Name: "any", Kind: sdk.KindNotifier})
			if err != nil {
				t.Fatal(err)
			}
			out, diags := DecodePluginConfig(inst, schema)
			if tc.diag != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.diag) {
					t.Fatalf("diagnostics %v, want %q", diags, tc.diag)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if diff := cmp.Diff(tc.want, string(out)); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if _, err := f.Instance(PluginQuery{Path: "/bin/vigil-notifier-any", Block: "ops"}); err == nil || !strings.Contains(err.Error(), "not a Vigil configuration with blocks to choose \"ops\" from") {
				t.Errorf("a block of a file of attributes: %v", err)
			}
		})
	}
}

// TestPluginConfigFileInstance finds the block of a Vigil configuration
// that uses the plugin checked: by its source's file, then by the plugin
// block's name, the only one or the one named.
func TestPluginConfigFileInstance(t *testing.T) {
	dir := t.TempDir()
	// A plugin file, and a link of another name to it.
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	mailer := filepath.Join(dir, "bin", "mailer")
	if err := os.WriteFile(mailer, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "linked-mailer")
	if err := os.Symlink(mailer, link); err != nil {
		t.Fatal(err)
	}
	const config = `
plugin "email" {
  source = "vigil-notifier-email" # found nowhere here: matched by its name
}
plugin "mailer" {
  source = "./bin/mailer"
}
plugin "hook" {
  source = "/opt/vigil/hook"
}
plugin "node" {
  source = "vigil-exporter-node"
}

notifier "ops-mail" {
  plugin = "email"
  config { to = ["ops@example.com"] }
}
notifier "dev-mail" {
  plugin = "email"
  config { to = ["dev@example.com"] }
}
notifier "local" {
  plugin = "mailer"
  config { to = ["local@example.com"] }
}
notifier "oncall" {
  plugin = "hook"
  config { to = ["oncall@example.com"] }
}
exporter "node" {
  plugin = "node"
}
`
	path := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	f, diags := LoadPluginConfigFile(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if f.Config == nil {
		t.Fatal("not read as a Vigil configuration")
	}
	for name, tc := range map[string]struct {
		q         PluginQuery
		want, err string
	}{
		"bare source by file name": {q: PluginQuery{Path: "/build/bin/vigil-notifier-email", Kind: sdk.KindNotifier, Block: "dev-mail"}, want: "dev-mail"},
		"same file":                {q: PluginQuery{Path: mailer, Name: "email", Kind: sdk.KindNotifier}, want: "local"},
		"same file through a link": {q: PluginQuery{Path: link, Kind: sdk.KindNotifier}, want: "local"},
		"plugin block's name":      {q: PluginQuery{Path: "/build/webhook", Name: "hook", Kind: sdk.KindNotifier}, want: "oncall"},
		"any kind":                 {q: PluginQuery{Path: "/build/vigil-exporter-node"}, want: "node"},
		"another kind": {
			q:   PluginQuery{Path: "/build/vigil-exporter-node", Kind: sdk.KindNotifier},
			err: path + ` has no notifier block that uses the plugin: looked for a plugin block whose source is /build/vigil-exporter-node or a file named "vigil-exporter-node"`,
		},
		"several": {
			q:   PluginQuery{Path: "/build/vigil-notifier-email", Name: "email", Kind: sdk.KindNotifier},
			err: path + ` has several blocks that use the plugin, notifier "ops-mail", notifier "dev-mail": name the one to take (--block NAME)`,
		},
		"a block that does not use it": {
			q:   PluginQuery{Path: "/build/vigil-notifier-email", Kind: sdk.KindNotifier, Block: "oncall"},
			err: path + ` has no notifier block named "oncall" that uses the plugin; notifier "ops-mail", notifier "dev-mail" do`,
		},
		"none": {
			q:   PluginQuery{Path: "/build/vigil-notifier-pager", Name: "pager", Kind: sdk.KindNotifier},
			err: path + ` has no notifier block that uses the plugin: looked for a plugin block whose source is /build/vigil-notifier-pager or a file named "vigil-notifier-pager", then a plugin block named "pager", the plugin's name`,
		},
		"none, with a block": {
			q:   PluginQuery{Path: "/build/vigil-notifier-pager", Kind: sdk.KindNotifier, Block: "ops-mail"},
			err: path + ` has no notifier block that uses the plugin, so none named "ops-mail"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			inst, err := f.Instance(tc.q)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inst.Name != tc.want {
				t.Errorf("block %q, want %q", inst.Name, tc.want)
			}
		})
	}

	// The block found decodes against the plugin's schema.
	inst, err := f.Instance(PluginQuery{Path: mailer, Kind: sdk.KindNotifier})
	if err != nil {
		t.Fatal(err)
	}
	out, diags := DecodePluginConfig(inst, sdk.Schema{sdk.StringList("to", "", sdk.Required)})
	if diags.HasErrors() || string(out) != `{"to":["local@example.com"]}` {
		t.Errorf("config %s: %v", out, diags)
	}
}

// TestPluginConfigFileSamples finds the block of every first-party
// plugin's sample.hcl for the plugin as make plugins names it.
func TestPluginConfigFileSamples(t *testing.T) {
	samples, err := filepath.Glob("../plugins/*/*/sample.hcl")
	if err != nil || len(samples) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, sample := range samples {
		kind, name := filepath.Base(filepath.Dir(filepath.Dir(sample))), filepath.Base(filepath.Dir(sample))
		t.Run(kind+"/"+name, func(t *testing.T) {
			for _, env := range []string{"INVENTORY_TOKEN", "SMTP_PASSWORD", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL", "ONCALL_WEBHOOK_TOKEN", "MYSQL_EXPORTER_PASSWORD"} {
				t.Setenv(env, "x")
			}
			f, diags := LoadPluginConfigFile(sample)
			var err error
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			// The sample names the plugin's file: a program, a module
			// (.wasm) or a program built for Windows (.exe). One with
			// several blocks of the plugin gives the first, by its name.
			var inst *PluginInstance
			for _, ext := range []string{"", ".wasm", ".exe"} {
				q := PluginQuery{Path: filepath.Join("/build/bin", "vigil-"+kind+"-"+name+ext), Kind: parseKind(t, kind)}
				if inst, err = f.Instance(q); err != nil && strings.Contains(err.Error(), "several blocks") {
					for _, i := range f.Config.Instances() {
						if i.Kind == q.Kind {
							q.Block = i.Name
							break
						}
					}
					inst, err = f.Instance(q)
				}
				if err == nil {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if inst.Body == nil {
				t.Errorf("block %q has no config block", inst.Name)
			}
		})
	}
}

func parseKind(t *testing.T, s string) sdk.Kind {
	t.Helper()
	for _, k := range []sdk.Kind{sdk.KindExporter, sdk.KindDiscoverer, sdk.KindNotifier} {
		if k.String() == s {
			return k
		}
	}
	t.Fatalf("unknown kind %q", s)
	return 0
}
