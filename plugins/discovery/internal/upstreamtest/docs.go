package upstreamtest

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/discovery"
	"go.yaml.in/yaml/v2"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/hclconfig/promimport"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
)

// CheckREADME fails the test when the plugin's README does not name,
// as `name`, each attribute of m's schema but the shared HTTP client
// ones, which the discovery plugins' common page lists.
func CheckREADME(t *testing.T, m upstream.Mechanism, path string) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := upstream.Schema(m)
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]bool{}
	for _, a := range upstream.HTTPClientAttributes() {
		shared[a.Name] = true
	}
	for _, a := range schema {
		if !shared[a.Name] && !strings.Contains(string(text), "`"+a.Name+"`") {
			t.Errorf("%s does not document the attribute %q", path, a.Name)
		}
	}
}

// CheckSample loads the sample configuration as the server does, and
// configures m's plugin with each of its config blocks that use it.
func CheckSample(t *testing.T, m upstream.Mechanism, path string) {
	t.Helper()
	cfg, diags := hclconfig.Load(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p := upstream.Plugin(m)
	n := 0
	for _, inst := range cfg.Instances() {
		if inst.Plugin.Name != p.Info.Name {
			continue
		}
		n++
		config, diags := hclconfig.DecodePluginConfig(inst, p.Schema)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		values, err := p.Schema.Parse(config)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Discoverer(values); err != nil {
			t.Fatalf("%s %q: %v", inst.Kind, inst.Name, err)
		}
	}
	if n == 0 {
		t.Fatalf("%s does not use the plugin %q", path, p.Info.Name)
	}
}

// CheckImport converts a Prometheus configuration whose one scrape has
// entry (YAML, one element of m's <name>_sd_configs list) with vigil
// config import, and checks that the import reports nothing, and that
// the discovery block it writes configures m's plugin with the config
// Prometheus reads from entry.
func CheckImport(t *testing.T, m upstream.Mechanism, entry string) {
	t.Helper()
	name := m.Config.Name()
	doc := "scrape_configs:\n  - job_name: j\n    " + name + "_sd_configs:\n"
	for i, line := range strings.Split(strings.TrimSpace(entry), "\n") {
		if i == 0 {
			doc += "      - " + line + "\n"
		} else {
			doc += "        " + line + "\n"
		}
	}
	res, err := promimport.Convert([]byte(doc), promimport.Options{Filename: "prometheus.yml"})
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	for _, u := range res.Unconverted {
		t.Errorf("the import reports %s", u)
	}
	cfg, diags := hclconfig.Parse("vigil.hcl", res.HCL)
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags.Error(), res.HCL)
	}
	p := upstream.Plugin(m)
	var got discovery.Config
	for _, inst := range cfg.Instances() {
		if inst.Plugin == nil || inst.Plugin.Name != name {
			continue
		}
		config, diags := hclconfig.DecodePluginConfig(inst, p.Schema)
		if diags.HasErrors() {
			t.Fatalf("%s\n%s", diags.Error(), res.HCL)
		}
		values, err := p.Schema.Parse(config)
		if err != nil {
			t.Fatalf("%v\n%s", err, res.HCL)
		}
		if got, err = upstream.Decode(m, values); err != nil {
			t.Fatalf("%v\n%s", err, res.HCL)
		}
	}
	if got == nil {
		t.Fatalf("the import wrote no discovery block of the plugin %q:\n%s", name, res.HCL)
	}
	want := reflect.New(reflect.TypeOf(m.Config).Elem()).Interface()
	if err := yaml.UnmarshalStrict([]byte(entry), want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the imported block gives the config\n%#v\nwhere Prometheus reads\n%#v\nfrom\n%s\nThe HCL:\n%s", got, want, entry, res.HCL)
	}
}
