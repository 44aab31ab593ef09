package hclconfig

import (
	"strings"
	"testing"
)

// TestCheckAgent checks that an agent refuses each block it cannot
// honour, naming it, and takes a configuration of scrapes and
// remote_write blocks.
func TestCheckAgent(t *testing.T) {
	for name, tc := range map[string]struct {
		hcl  string
		want string // in the error; "" for none
	}{
		"scrapes and remote write": {`scrape "app" {
  targets = ["127.0.0.1:1"]
}
remote_write "central" {
  url = "http://127.0.0.1:2/api/v1/write"
}
`, ""},
		"rules": {`rules "recording" {
  record "job:up:sum" {
    expr = "sum by (job) (up)"
  }
}
`, `rules block "recording": not available in agent mode`},
		"rule files":   {`rule_files = ["rules/*.yml"]` + "\n", "rule_files: not available in agent mode"},
		"alertmanager": {"alertmanager {\n  urls = [\"http://127.0.0.1:9093\"]\n}\n", "alertmanager block: not available in agent mode"},
		"push":         {"server {\n  enable_push = true\n}\n", "enable_push: not available in agent mode"},
		"receiver": {"server {\n  enable_remote_write_receiver = true\n}\n",
			"enable_remote_write_receiver: not available in agent mode"},
		"otlp": {"server {\n  enable_otlp_receiver = true\n}\n",
			"enable_otlp_receiver: not available in agent mode"},
		"encryption": {"server {\n  encryption_key_file = \"testdata/encryption.key\"\n}\n",
			"encryption_key_file: not available in agent mode"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, diags := Parse("agent.hcl", []byte(tc.hcl))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			err := cfg.CheckAgent()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}
