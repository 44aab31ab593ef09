package hclconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/sdk"
)

func TestLoadPluginConfig(t *testing.T) {
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
			inst, diags := LoadPluginConfig(path, sdk.KindNotifier)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
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
		})
	}
}
