package conformance_test

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilmon/vigil/conformance"
)

var update = flag.Bool("update", false, "rewrite CHECKS.md from the code")

// TestChecksDoc keeps CHECKS.md what the code says.
func TestChecksDoc(t *testing.T) {
	want := conformance.Markdown()
	if *update {
		if err := os.WriteFile("CHECKS.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("CHECKS.md")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("CHECKS.md is stale; run go test ./conformance -run TestChecksDoc -update (-want +got):\n%s", diff)
	}
}

// TestChecks checks the list itself: unique IDs of the form area.name, a
// level, a one-line reason, and every check in CHECKS.md.
func TestChecks(t *testing.T) {
	id := regexp.MustCompile(`^(plugin|config|call|lifecycle|exporter|discovery|notifier)\.[a-z0-9-]+$`)
	seen := map[string]bool{}
	doc := conformance.Markdown()
	for _, c := range conformance.Checks() {
		if !id.MatchString(c.ID) || seen[c.ID] {
			t.Errorf("check ID %q is malformed or repeated", c.ID)
		}
		seen[c.ID] = true
		if c.Level != conformance.Must && c.Level != conformance.Should {
			t.Errorf("%s: level %q", c.ID, c.Level)
		}
		if c.Reason == "" || strings.Contains(c.Reason, "\n") {
			t.Errorf("%s: reason %q is not one line", c.ID, c.Reason)
		}
		if !strings.Contains(doc, "| `"+c.ID+"` | "+string(c.Level)+" |") {
			t.Errorf("%s is not in CHECKS.md", c.ID)
		}
	}
}
