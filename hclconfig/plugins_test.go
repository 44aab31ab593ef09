package hclconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/sdk"
)

var testSchema = sdk.Schema{
	sdk.StringList("collectors", "Which collectors run.", sdk.Default([]string{"cpu"})),
	sdk.String("path", "Where to look.", sdk.Required),
	sdk.Number("depth", "How deep."),
	sdk.Duration("every", "How often."),
	sdk.String("token", "A secret.", sdk.Sensitive),
}

func exporterWithConfig(t *testing.T, config string) *PluginInstance {
	t.Helper()
	cfg, diags := Parse("plugins.hcl", []byte(`plugin "p" { source = "p" }
exporter "e" {
  plugin = "p"
  config {
`+config+`
  }
}
`))
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	return cfg.Scrapes[0].Exporter
}

func TestDecodePluginConfig(t *testing.T) {
	inst := exporterWithConfig(t, `    path       = "/proc"
    collectors = ["cpu", "meminfo"]
    depth      = 3
    every      = "1m"
    token      = "s3cr3t"`)
	if inst.Kind != sdk.KindExporter || inst.Plugin.Name != "p" {
		t.Fatalf("instance %+v", inst)
	}
	out, diags := DecodePluginConfig(inst, testSchema)
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"path": "/proc", "collectors": []any{"cpu", "meminfo"}, "depth": float64(3), "every": "1m", "token": "s3cr3t"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config JSON (-want +got):\n%s", diff)
	}
	values, err := testSchema.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	inst.Values = &values
}

func TestDecodePluginConfigErrors(t *testing.T) {
	for config, want := range map[string]string{
		`path = "/proc"
    colectors = ["cpu"]`: `plugins.hcl:6:5: Unsupported argument; An argument named "colectors" is not expected here. Did you mean "collectors"?`,
		`depth = 1`: `Missing required argument; The argument "path" is required`,
		`path = "/proc"` + "\n" + `depth = "deep"`:  `plugins.hcl:6:9: Incorrect attribute value type; Inappropriate value for attribute "depth": number required.`,
		`path = "/proc"` + "\n" + `every = "often"`: `plugins.hcl:6:9: Invalid duration; "often" is not a valid duration for every`,
		`path = ["/proc"]`:                          `plugins.hcl:5:12: Incorrect attribute value type; Inappropriate value for attribute "path": string required.`,
	} {
		inst := exporterWithConfig(t, "    "+config)
		_, diags := DecodePluginConfig(inst, testSchema)
		if got := diagText(diags); !strings.Contains(got, want) {
			t.Errorf("config %s:\n%s\nwant it to contain:\n%s", config, got, want)
		}
	}
}

func TestRenderedPluginsHideSecrets(t *testing.T) {
	cfg, diags := Load("testdata/plugins.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	for _, inst := range cfg.Instances() {
		if inst.Kind != sdk.KindNotifier {
			continue
		}
		schema := sdk.Schema{sdk.String("webhook_url", "Where to post.", sdk.Required, sdk.Sensitive)}
		out, diags := DecodePluginConfig(inst, schema)
		if diags.HasErrors() {
			t.Fatal(diagText(diags))
		}
		values, err := schema.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		inst.Values = &values
	}
	text := string(cfg.HCL())
	for _, want := range []string{`plugin "slack"`, `allow_hosts  = ["hooks.slack.com"]`, `exporter "node"`, `interval         = "10s"`, `discovery                = ["files"]`, `webhook_url = "<secret>"`} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered config lacks %q:\n%s", want, text)
		}
	}
	if again, diags := Parse("again.hcl", []byte(text)); diags.HasErrors() {
		t.Fatalf("rendered config does not load: %s", diagText(diags))
	} else if len(again.Plugins) != 3 || len(again.Notifiers) != 1 || again.Scrapes[0].Exporter == nil {
		t.Errorf("rendered config lost blocks: %+v", again)
	}
}

// TestPluginBesideConfigInWorkingDirectory: a plugin named by its bare
// file name, or by ./name, beside a configuration loaded by a relative
// name from the working directory, is found, and its path is absolute,
// so that the host does not take it for a name found nowhere.
func TestPluginBesideConfigInWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("vigil-notifier-x", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{"vigil-notifier-x", "./vigil-notifier-x"} {
		cfg, diags := Parse("vigil.hcl", []byte(`plugin "x" { source = "`+source+`" }`))
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if got, want := cfg.Plugins[0].Source, filepath.Join(dir, "vigil-notifier-x"); got != want {
			t.Errorf("source %q: resolved to %q, want %q", source, got, want)
		}
	}
}
