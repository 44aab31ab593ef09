package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/api"
)

// fixedAlerts is an api.AlertSource of fixed alerts and no groups; the
// alerts list command only reads, so posted alerts are not kept.
type fixedAlerts []alert.AlertStatus

func (f fixedAlerts) Alerts(time.Time) []alert.AlertStatus { return f }
func (f fixedAlerts) Groups(time.Time) []alert.AlertGroup  { return nil }
func (f fixedAlerts) Receive([]*alert.Alert) error         { return nil }

func TestAlertsList(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src := fixedAlerts{
		{Alert: alert.Alert{Labels: labels.FromStrings("alertname", "DiskFull", "instance", "db1"), StartsAt: start}, Receivers: []string{"ops"}},
		{Alert: alert.Alert{Labels: labels.FromStrings("alertname", "Quiet", "team", "web"), StartsAt: start}, Receivers: []string{"ops"}, SilencedBy: []string{"s1"}},
	}
	mux := http.NewServeMux()
	api.New(api.Sources{Alerts: src}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	code, stdout, stderr := runCLI("alerts", "list", "--server", srv.URL)
	if code != exitOK {
		t.Fatalf("alerts list: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ALERTNAME ") || !strings.Contains(lines[0], "STATE") || !strings.Contains(lines[0], "LABELS") {
		t.Fatalf("alerts list:\n%s", stdout)
	}
	for _, line := range lines[1:] {
		switch {
		case strings.HasPrefix(line, "DiskFull "):
			for _, want := range []string{"active", "2026-01-02T03:04:05Z", `{instance="db1"}`} {
				if !strings.Contains(line, want) {
					t.Errorf("DiskFull line lacks %q: %s", want, line)
				}
			}
		case strings.HasPrefix(line, "Quiet "):
			if !strings.Contains(line, "suppressed") || !strings.Contains(line, `{team="web"}`) {
				t.Errorf("Quiet line: %s", line)
			}
		default:
			t.Errorf("unexpected line %q", line)
		}
	}

	code, stdout, stderr = runCLI("alerts", "list", "--server", srv.URL, "--json", "team=web")
	if code != exitOK {
		t.Fatalf("alerts list --json: exit %d: %s", code, stderr)
	}
	var got []api.GettableAlert
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got) != 1 || got[0].Labels["alertname"] != "Quiet" ||
		got[0].Status.State != api.AlertStateSuppressed {
		t.Fatalf("alerts list --json team=web: %v\n%s", err, stdout)
	}

	if code, _, stderr := runCLI("alerts", "list", "--server", srv.URL, "{bad"); code != exitUsage {
		t.Errorf("invalid matcher: exit %d: %s", code, stderr)
	}
	empty := httptest.NewServer(func() http.Handler { m := http.NewServeMux(); api.New(api.Sources{}).Register(m); return m }())
	defer empty.Close()
	if code, _, stderr := runCLI("alerts", "list", "--server", empty.URL); code == exitOK || !strings.Contains(stderr, "alerting is not configured") {
		t.Errorf("without alerting: exit %d: %s", code, stderr)
	}
}
