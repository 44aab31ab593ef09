package anchortest

import (
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse parses text in the text format.
func parse(t *testing.T, text string) []*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	m, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.MetricFamily
	for _, f := range m {
		out = append(out, f)
	}
	return out
}

// TestCompare finds the missing families and the ones whose label names
// differ, leaving out the skipped prefixes.
func TestCompare(t *testing.T) {
	anchor := parse(t, `a_up 1
a_requests_total{code="200",method="GET"} 3
a_info{version="1"} 1
a_gone 2
go_goroutines 7
`)
	got := parse(t, `a_up 0
a_requests_total{code="200"} 3
a_info{version="1"} 1
a_extra 1
`)
	r := Compare(anchor, got, "go_")
	if !slices.Equal(r.Anchor, []string{"a_gone", "a_info", "a_requests_total", "a_up"}) ||
		!slices.Equal(r.Got, []string{"a_extra", "a_info", "a_requests_total", "a_up"}) {
		t.Errorf("families %v and %v", r.Anchor, r.Got)
	}
	if !slices.Equal(r.Missing, []string{"a_gone"}) || r.Coverage() != 0.75 {
		t.Errorf("missing %v, coverage %v", r.Missing, r.Coverage())
	}
	if want := []string{"a_requests_total: anchor {code,method}, plugin {code}"}; !slices.Equal(r.Labels, want) {
		t.Errorf("labels %q, want %q", r.Labels, want)
	}
	if s := r.String(); !strings.Contains(s, "anchor families 4, plugin families 4, missing 1 (75.0% covered): a_gone") {
		t.Errorf("report %q", s)
	}
}
