package hclconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/vigilmon/vigil/sdk"
)

// FuzzParse decodes any bytes as a configuration file. It must not panic;
// a configuration it accepts renders (with its secrets, as in place of
// the file) to text that decodes to a configuration rendering the same
// text again.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.hcl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range seeds {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	// The file names relative paths start from: an empty folder, so that
	// file() and rule_files find nothing the test does not own.
	file := filepath.Join(f.TempDir(), "vigil.hcl")
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := Parse(file, src)
		if diags.HasErrors() {
			if cfg != nil {
				t.Fatalf("Parse returned a configuration with errors: %s", diags.Error())
			}
			return
		}
		if cfg == nil {
			t.Fatal("Parse returned neither a configuration nor an error")
		}
		out := cfg.render(true)
		again, diags := Parse(file, out)
		if diags.HasErrors() {
			t.Fatalf("the rendered configuration does not decode: %s\n%s", diags.Error(), out)
		}
		if out2 := again.render(true); !bytes.Equal(out, out2) {
			t.Fatalf("rendered twice, the configuration differs:\n%s\nthen\n%s", out, out2)
		}
	})
}

// FuzzDecodePluginConfig decodes any bytes as the config block of a
// plugin instance against a schema with an attribute of every type. It
// must not panic, and the host and the plugin must agree: what the host
// accepts, the SDK's Schema.Parse, as the plugin runs it, accepts too, and
// the config it gives encodes (Config.JSON) to one that parses the same.
func FuzzDecodePluginConfig(f *testing.F) {
	for _, s := range []string{
		``,
		"url = \"http://x\"\ntimeout = \"15s\"\nport = 9100\nverbose = true\ntags = [\"a\", \"b\"]\nheaders = { a = \"b\" }",
		`timeout = "forever"`,
		`timeout = "1h30m"`,
		`timeout = "0s"`,
		`port = "nine"`,
		`port = 1e400`,
		`unknown = 1`,
		`url = env("VIGIL_SURELY_UNSET")`,
		`tags = [1, 2]`,
		`tags = [null]`,
		`headers = { a = [1] }`,
		`headers = { "" = null }`,
		`nested { a = 1 }`,
	} {
		f.Add([]byte(s))
	}
	schema := sdk.Schema{
		sdk.String("url", "a string"),
		sdk.String("password", "a secret", sdk.Sensitive),
		sdk.Duration("timeout", "a duration"),
		sdk.Number("port", "a number"),
		sdk.Bool("verbose", "a bool"),
		sdk.StringList("tags", "a list"),
		sdk.StringMap("headers", "a map"),
	}
	ctx := evalContext(f.TempDir())
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := hclsyntax.ParseConfig(src, "config.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			return
		}
		inst := &PluginInstance{Kind: sdk.KindNotifier, Name: "fuzz", Plugin: &Plugin{Name: "fuzz"}, Body: file.Body, Ctx: ctx}
		out, diags := DecodePluginConfig(inst, schema)
		if diags.HasErrors() {
			return
		}
		cfg, err := schema.Parse(out)
		if err != nil {
			t.Fatalf("the host accepts %q as %s, the plugin refuses it: %v", src, out, err)
		}
		again, err := cfg.JSON()
		if err != nil {
			t.Fatalf("config of %s does not encode: %v", out, err)
		}
		cfg2, err := schema.Parse(again)
		if err != nil {
			t.Fatalf("config of %s encodes to %s, which does not parse: %v", out, again, err)
		}
		if again2, _ := cfg2.JSON(); !bytes.Equal(again, again2) {
			t.Fatalf("config of %s encodes to %s, then to %s", out, again, again2)
		}
	})
}
