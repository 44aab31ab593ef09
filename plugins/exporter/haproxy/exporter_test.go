package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/vigilmon/vigil/sdk"
)

// collectCSV serves csv as the statistics page, collects it with the
// plugin's exporter configured with attrs, and returns the collection in
// the text format.
func collectCSV(t *testing.T, csv string, attrs map[string]any) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(csv))
	}))
	defer srv.Close()
	raw := map[string]any{"scrape_uri": srv.URL + "/;csv"}
	for k, v := range attrs {
		raw[k] = v
	}
	cfg, err := schema.Values(raw)
	if err != nil {
		t.Fatal(err)
	}
	e, err := newExporter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	families, err := e.Collect(context.Background())
	if err != nil && sdk.AsTargetError(err) == nil {
		t.Fatal(err)
	}
	// haproxy_up says whether the target is down; the collection's
	// target error says the same.
	if down := sdk.AsTargetError(err) != nil; down != strings.Contains(text(t, families), "haproxy_up 0") {
		t.Errorf("target error %v with haproxy_up 0 %v", err, !down)
	}
	return text(t, families)
}

// text is families in the text format.
func text(t *testing.T, families []*dto.MetricFamily) string {
	t.Helper()
	var b strings.Builder
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// expectLines fails the test unless text has each of want's lines and
// none of unwanted's.
func expectLines(t *testing.T, text string, want, unwanted []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w+"\n") {
			t.Errorf("no %s in\n%s", w, text)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(text, u) {
			t.Errorf("%s in\n%s", u, text)
		}
	}
}

// The rows of haproxy_exporter's tests: a server without checks, rows of
// HAProxy 1.4 (33 fields), and a row missing a comma, which an HAProxy
// release wrote.
const (
	serverWithoutChecks = "test,127.0.0.1:8080,0,0,0,0,0,0,0,0,,0,,0,0,0,0,no check,1,1,0,0,,,0,,1,1,1,,0,,2,0,,0,,,,0,0,0,0,0,0,0,,,,0,0,,,,,,,,,,,\n"
	olderVersion        = `foo,FRONTEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,OPEN,1,1,0,0,0,5007,0,,1,8,1,,0,,0,
foo,foo-instance-0,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,
foo,BACKEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,1,
`
	brokenRow = `foo,foo-instance-0,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,0,,0,L4OK,,0,,,,,,,0,,,,0,0,,,,,,,,,,,
foo,bug-missing-comma,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN (agent)1,1,0,0,0,5007,0,,1,8,1,,0,,2,0,,0,L4OK,,0,,,,,,,0,,,,0,0,,,,,,,,,,,
foo,foo-instance-1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,0,0,5007,0,,1,8,1,,0,,2,0,,0,L4OK,,0,,,,,,,0,,,,0,0,,,,,,,,,,,
`
)

// TestRows reads rows of the kinds haproxy_exporter's tests have into its
// series.
func TestRows(t *testing.T) {
	expectLines(t, collectCSV(t, serverWithoutChecks, nil), []string{
		"haproxy_up 1",
		`haproxy_server_up{backend="test",server="127.0.0.1:8080"} 1`,
		`haproxy_server_weight{backend="test",server="127.0.0.1:8080"} 1`,
		"haproxy_exporter_csv_parse_failures_total 0",
	}, nil)
	expectLines(t, collectCSV(t, olderVersion, nil), []string{
		`haproxy_frontend_current_sessions{frontend="foo"} 0`,
		`haproxy_backend_up{backend="foo"} 1`,
		`haproxy_server_downtime_seconds_total{backend="foo",server="foo-instance-0"} 0`,
		`haproxy_server_up{backend="foo",server="foo-instance-0"} 1`,
	}, []string{"haproxy_server_http_responses_total"})
	expectLines(t, collectCSV(t, brokenRow, nil), []string{
		"haproxy_up 1",
		"haproxy_exporter_csv_parse_failures_total 1",
		`haproxy_server_up{backend="foo",server="foo-instance-0"} 1`,
		`haproxy_server_up{backend="foo",server="foo-instance-1"} 0`,
		`haproxy_server_check_duration_seconds{backend="foo",server="foo-instance-0"} 0`,
	}, []string{"bug-missing-comma"})
}

// TestServerFilters leaves out the servers of excluded states and the
// server metrics not chosen.
func TestServerFilters(t *testing.T) {
	got := collectCSV(t, brokenRow, map[string]any{"server_exclude_states": "DOWN,MAINT", "server_metric_fields": "17,18"})
	expectLines(t, got, []string{
		`haproxy_server_up{backend="foo",server="foo-instance-0"} 1`,
		`haproxy_server_weight{backend="foo",server="foo-instance-0"} 1`,
	}, []string{"foo-instance-1", "haproxy_server_current_sessions"})
}

// TestNotStatistics: a page without a single row of statistics is
// HAProxy down, as is an answer other than 2xx.
func TestNotStatistics(t *testing.T) {
	expectLines(t, collectCSV(t, "<html><body>Hello</body></html>\n", nil), []string{"haproxy_up 0"}, []string{"haproxy_server"})
	expectLines(t, collectCSV(t, "", nil), []string{"haproxy_up 0"}, nil)
}
