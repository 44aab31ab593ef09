package hclconfig

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/zclconf/go-cty/cty"
)

// roundTripFiles are the configurations the round trip goes through: the
// good ones of testdata, the examples and the plugins' samples.
func roundTripFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"testdata/*.good.hcl", "../examples/*.hcl", "../examples/*/*.hcl", "../plugins/*/*/sample.hcl"} {
		matches, err := filepath.Glob(pattern)
		if err != nil || len(matches) == 0 {
			t.Fatalf("no configuration matches %s: %v", pattern, err)
		}
		files = append(files, matches...)
	}
	return files
}

// setEnv sets the variables the files read with env() that are not set,
// as the samples read secrets from the environment.
func setEnv(t *testing.T, files []string) {
	t.Helper()
	call := regexp.MustCompile(`env\("([A-Za-z_][A-Za-z0-9_]*)"\)`)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			if _, set := os.LookupEnv(m[1]); !set {
				t.Setenv(m[1], "value-of-"+m[1])
			}
		}
	}
}

// configCmp compares configurations but for where their parts are in a
// file and the config blocks' bodies, which the test compares by their
// values.
var configCmp = cmp.Options{
	cmpopts.IgnoreTypes(hcl.Range{}),
	cmpopts.IgnoreFields(PluginInstance{}, "Body", "Ctx"),
	cmp.AllowUnexported(Dashboard{}, Variable{}, PanelQuery{}),
	cmp.Comparer(func(a, b relabel.Regexp) bool { return a.String() == b.String() }),
	cmp.Comparer(sameText[*labels.Matcher]),
	cmp.Comparer(sameText[*time.Location]),
	cmp.Comparer(sameText[*url.URL]),
	cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) }),
}

// sameText says whether a and b are both nil, or write the same text.
func sameText[T interface {
	comparable
	String() string
}](a, b T) bool {
	var none T
	if a == none || b == none {
		return a == b
	}
	return a.String() == b.String()
}

// TestRenderRoundTrip renders each configuration with its secrets and
// parses the text again in place of the file: the configuration comes
// back as it was.
func TestRenderRoundTrip(t *testing.T) {
	files := roundTripFiles(t)
	setEnv(t, files)
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			cfg, diags := Load(file)
			if diags.HasErrors() {
				t.Fatal(diagText(diags))
			}
			text := cfg.render(true)
			again, diags := Parse(file, text)
			if diags.HasErrors() {
				t.Fatalf("the rendered configuration does not load:\n%s\n%s", diagText(diags), text)
			}
			if diff := cmp.Diff(cfg, again, configCmp); diff != "" {
				t.Errorf("the configuration changed in the round trip (-loaded +rendered and loaded again):\n%s\nrendered:\n%s", diff, text)
			}
			before, after := cfg.Instances(), again.Instances()
			for i := range before {
				if diff := cmp.Diff(configValues(before[i], renderOptions{secrets: true}), configValues(after[i], renderOptions{secrets: true}), configCmp); diff != "" {
					t.Errorf("the config block of %s %q changed (-loaded +rendered and loaded again):\n%s", before[i].Kind, before[i].Name, diff)
				}
			}
		})
	}
}

// TestRoundTripCoversEveryAttribute keeps the round trip meaningful: each
// attribute of the schema is set in one of its files at least, so that a
// renderer that drops one fails it.
func TestRoundTripCoversEveryAttribute(t *testing.T) {
	set := map[string]bool{}
	var walk func(prefix string, body *hclsyntax.Body)
	walk = func(prefix string, body *hclsyntax.Body) {
		for name := range body.Attributes {
			set[prefix+name] = true
		}
		for _, b := range body.Blocks {
			switch {
			case b.Type == "config": // the plugin's own
			case b.Type == "route" && strings.HasSuffix(prefix, "route."):
				walk(prefix, b.Body) // a route in a route has the same attributes
			default:
				walk(prefix+b.Type+".", b.Body)
			}
		}
	}
	for _, file := range roundTripFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diagText(diags))
		}
		walk("", f.Body.(*hclsyntax.Body))
	}
	// Blocks of the same content, such as relabel and metric_relabel,
	// need each attribute set in one of them.
	type content struct {
		prefixes []string
		attrs    []attrDoc
	}
	contents := map[any]*content{}
	var order []any
	var describe func(prefix string, sd specDoc)
	describe = func(prefix string, sd specDoc) {
		c, seen := contents[sd.content]
		if !seen {
			c = &content{attrs: sd.attrs}
			contents[sd.content] = c
			order = append(order, sd.content)
		}
		c.prefixes = append(c.prefixes, prefix)
		if seen {
			return
		}
		for _, n := range sd.nested {
			nd := n.spec.describe()
			describe(prefix+nd.name+".", nd)
		}
	}
	describe("", configSpec.describe())
	var missing []string
	for _, k := range order {
		c := contents[k]
		for _, a := range c.attrs {
			if !slices.ContainsFunc(c.prefixes, func(p string) bool { return set[p+a.name] }) {
				missing = append(missing, c.prefixes[0]+a.name)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("no configuration of the round trip sets %s", strings.Join(missing, ", "))
	}
}

var update = flag.Bool("update", false, "rewrite the tables of README.md from the schema")

// TestReference keeps the tables of README.md what the schema says.
func TestReference(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := withReferenceTables(readme)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("README.md", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(want), string(readme)); diff != "" {
		t.Errorf("README.md's tables are stale; run go test ./hclconfig -run TestReference -update (-want +got):\n%s", diff)
	}
}
