package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	amalert "github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/hclconfig"
)

// fakeAlerts is an AlertSource of fixed alerts that records the alerts
// it receives.
type fakeAlerts struct {
	alerts   []amalert.AlertStatus
	groups   []amalert.AlertGroup
	received []*amalert.Alert
	// max, when set, is the number of alerts it takes; it refuses more.
	max int
}

func (f *fakeAlerts) Alerts(time.Time) []amalert.AlertStatus { return f.alerts }
func (f *fakeAlerts) Groups(time.Time) []amalert.AlertGroup  { return f.groups }
func (f *fakeAlerts) Receive(alerts []*amalert.Alert) error {
	if f.max > 0 && len(f.received)+len(alerts) > f.max {
		taken := max(f.max-len(f.received), 0)
		f.received = append(f.received, alerts[:taken]...)
		return fmt.Errorf("%w: %d refused", amalert.ErrTooManyAlerts, len(alerts)-taken)
	}
	f.received = append(f.received, alerts...)
	return nil
}

func newAlertsServer(t *testing.T, src AlertSource) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	New(Sources{Alerts: src}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func testAlertSource() *fakeAlerts {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(name, severity string, receivers []string, silencedBy []string, inhibitedBy []uint64) amalert.AlertStatus {
		return amalert.AlertStatus{
			Alert: amalert.Alert{
				Labels:       labels.FromStrings("alertname", name, "severity", severity),
				Annotations:  labels.FromStrings("summary", name+" fires"),
				StartsAt:     start,
				GeneratorURL: "http://vigil/graph",
			},
			UpdatedAt:   start.Add(time.Minute),
			Receivers:   receivers,
			SilencedBy:  silencedBy,
			InhibitedBy: inhibitedBy,
		}
	}
	active := mk("DiskFull", "page", []string{"ops"}, nil, nil)
	silenced := mk("Quiet", "info", []string{"ops", "team-db"}, []string{"sil-1"}, nil)
	inhibited := mk("Minor", "warning", []string{"team-db"}, nil, []uint64{0xabc})
	return &fakeAlerts{
		alerts: []amalert.AlertStatus{active, inhibited, silenced},
		groups: []amalert.AlertGroup{
			{Labels: labels.FromStrings("alertname", "DiskFull"), Receiver: "ops", Alerts: []amalert.AlertStatus{active}},
			{Labels: labels.FromStrings("severity", "info"), Receiver: "team-db", Alerts: []amalert.AlertStatus{inhibited, silenced}},
		},
	}
}

func getAlerts(t *testing.T, srv *httptest.Server, query url.Values) []GettableAlert {
	t.Helper()
	code, body := amDo(t, http.MethodGet, srv.URL+"/api/v2/alerts?"+query.Encode(), "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v2/alerts?%s: %d %s", query.Encode(), code, body)
	}
	var out []GettableAlert
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return out
}

func alertNames(alerts []GettableAlert) []string {
	var names []string
	for _, a := range alerts {
		names = append(names, a.Labels["alertname"])
	}
	slices.Sort(names)
	return names
}

func TestGetAlerts(t *testing.T) {
	srv := newAlertsServer(t, testAlertSource())

	code, body := amDo(t, http.MethodGet, srv.URL+"/api/v2/alerts", "")
	if code != http.StatusOK {
		t.Fatalf("GET: %d %s", code, body)
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil || len(raw) != 3 {
		t.Fatalf("answer %s: %v", body, err)
	}
	for _, key := range []string{"labels", "annotations", "startsAt", "updatedAt", "generatorURL", "fingerprint", "receivers", "status"} {
		if _, ok := raw[0][key]; !ok {
			t.Errorf("alert lacks %q: %v", key, raw[0])
		}
	}
	if _, ok := raw[0]["endsAt"]; ok {
		t.Errorf("alert firing until further notice has endsAt: %v", raw[0])
	}

	all := getAlerts(t, srv, nil)
	if !slices.IsSortedFunc(all, func(x, y GettableAlert) int {
		if x.Fingerprint < y.Fingerprint {
			return -1
		}
		return 1
	}) {
		t.Errorf("alerts not sorted by fingerprint: %+v", all)
	}
	byName := map[string]GettableAlert{}
	for _, a := range all {
		byName[a.Labels["alertname"]] = a
	}
	disk := byName["DiskFull"]
	want := labels.FromStrings("alertname", "DiskFull", "severity", "page")
	if disk.Status.State != AlertStateActive || disk.Status.SilencedBy == nil || len(disk.Status.SilencedBy) != 0 ||
		disk.Status.InhibitedBy == nil || len(disk.Status.InhibitedBy) != 0 ||
		disk.Fingerprint != fmt.Sprintf("%016x", want.Hash()) ||
		len(disk.Receivers) != 1 || disk.Receivers[0].Name != "ops" || disk.Annotations["summary"] != "DiskFull fires" ||
		!disk.UpdatedAt.Equal(disk.StartsAt.Add(time.Minute)) || disk.GeneratorURL != "http://vigil/graph" {
		t.Errorf("DiskFull: %+v", disk)
	}
	if q := byName["Quiet"]; q.Status.State != AlertStateSuppressed || !slices.Equal(q.Status.SilencedBy, []string{"sil-1"}) {
		t.Errorf("Quiet: %+v", q)
	}
	if m := byName["Minor"]; m.Status.State != AlertStateSuppressed || !slices.Equal(m.Status.InhibitedBy, []string{"0000000000000abc"}) {
		t.Errorf("Minor: %+v", m)
	}

	for _, tc := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"filter": {"severity=~page|info"}}, []string{"DiskFull", "Quiet"}},
		{url.Values{"filter": {`{alertname!="DiskFull"}`, "severity=info"}}, []string{"Quiet"}},
		{url.Values{"active": {"false"}}, []string{"Minor", "Quiet"}},
		{url.Values{"silenced": {"false"}}, []string{"DiskFull", "Minor"}},
		{url.Values{"inhibited": {"false"}, "silenced": {"false"}}, []string{"DiskFull"}},
		{url.Values{"receiver": {"team"}}, nil},
		{url.Values{"receiver": {"team-.*"}}, []string{"Minor", "Quiet"}},
	} {
		if got := alertNames(getAlerts(t, srv, tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.query.Encode(), got, tc.want)
		}
	}

	for _, q := range []string{"filter=%7Bfoo", "active=maybe", "receiver=%28"} {
		if code, body := amDo(t, http.MethodGet, srv.URL+"/api/v2/alerts?"+q, ""); code != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", q, code, body)
		}
	}
}

func TestGetAlertGroups(t *testing.T) {
	srv := newAlertsServer(t, testAlertSource())
	get := func(query string) []AlertGroup {
		t.Helper()
		code, body := amDo(t, http.MethodGet, srv.URL+"/api/v2/alerts/groups?"+query, "")
		if code != http.StatusOK {
			t.Fatalf("GET groups?%s: %d %s", query, code, body)
		}
		var out []AlertGroup
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		return out
	}
	groups := get("")
	if len(groups) != 2 || groups[0].Receiver.Name != "ops" || groups[0].Labels["alertname"] != "DiskFull" ||
		len(groups[0].Alerts) != 1 || groups[1].Receiver.Name != "team-db" || len(groups[1].Alerts) != 2 {
		t.Fatalf("groups: %+v", groups)
	}
	if groups := get("silenced=false&inhibited=false"); len(groups) != 1 || groups[0].Receiver.Name != "ops" {
		t.Errorf("unsuppressed groups: %+v", groups)
	}
	if groups := get("receiver=team-db&filter=alertname%3DQuiet"); len(groups) != 1 || len(groups[0].Alerts) != 1 ||
		groups[0].Alerts[0].Labels["alertname"] != "Quiet" {
		t.Errorf("team-db groups of Quiet: %+v", groups)
	}
}

func TestAlertsNotConfigured(t *testing.T) {
	srv := newAlertsServer(t, nil)
	for _, path := range []string{"/api/v2/alerts", "/api/v2/alerts/groups"} {
		code, body := amDo(t, http.MethodGet, srv.URL+path, "")
		if code != http.StatusServiceUnavailable || body != `"alerting is not configured"` {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
}

// TestPostAlerts posts alerts as Prometheus and amtool do: times are
// filled in as Alertmanager fills them, empty label values dropped, and
// an invalid alert is reported with its index while the valid ones are
// taken.
func TestPostAlerts(t *testing.T) {
	src := &fakeAlerts{}
	srv := newAlertsServer(t, src)
	before := time.Now()
	code, body := amDo(t, http.MethodPost, srv.URL+"/api/v2/alerts", `[
  {"labels": {"alertname": "Down", "job": "api", "empty": ""}, "annotations": {"summary": "api down"}, "generatorURL": "http://prom/graph"},
  {"labels": {"alertname": "Past"}, "startsAt": "2026-01-02T03:00:00Z", "endsAt": "2026-01-02T04:00:00Z"},
  {"labels": {"alertname": "OnlyEnd"}, "endsAt": "2026-01-02T04:00:00Z"}
]`)
	if code != http.StatusOK || body != "" {
		t.Fatalf("POST: %d %q", code, body)
	}
	if len(src.received) != 3 {
		t.Fatalf("received %+v", src.received)
	}
	down, past, onlyEnd := src.received[0], src.received[1], src.received[2]
	if down.Labels.String() != `{alertname="Down", job="api"}` || down.Annotations.Get("summary") != "api down" ||
		down.GeneratorURL != "http://prom/graph" || down.StartsAt.Before(before) ||
		!down.EndsAt.Equal(down.StartsAt.Add(hclconfig.DefaultResolveTimeout)) {
		t.Errorf("alert without times: %+v", down)
	}
	end := time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)
	if !past.StartsAt.Equal(end.Add(-time.Hour)) || !past.EndsAt.Equal(end) || !past.Resolved(before) {
		t.Errorf("resolved alert: %+v", past)
	}
	if !onlyEnd.StartsAt.Equal(end) || !onlyEnd.EndsAt.Equal(end) {
		t.Errorf("alert with only an end starts at its end: %+v", onlyEnd)
	}

	src.received = nil
	for _, tc := range []struct{ body, want string }{
		{`{"labels": {}}`, "cannot decode the alerts"},
		{`[{"labels": {"alertname": "Ok"}}, {"labels": {}}]`, "alert 1: at least one label pair required"},
		{`[{"labels": {"a": ""}}]`, "alert 0: at least one label pair required"},
		{`[{"labels": {"alertname": "X"}, "startsAt": "2026-01-02T04:00:00Z", "endsAt": "2026-01-02T03:00:00Z"}]`, "alert 0: start time must be before end time"},
		{`[{"labels": {"alertname": "X", "": "v"}}]`, `alert 0: invalid label name`},
		{`[{"labels": {"alertname": "X"}, "annotations": {"": "v"}}]`, `alert 0: invalid annotation name`},
	} {
		code, body := amDo(t, http.MethodPost, srv.URL+"/api/v2/alerts", tc.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s: %d %s, want 400 with %q", tc.body, code, body, tc.want)
		}
	}
	// The valid alert of the second body was taken.
	if len(src.received) != 1 || src.received[0].Labels.Get("alertname") != "Ok" {
		t.Errorf("received %+v", src.received)
	}
}

// TestPostAlertsLimits checks the answers to posted alerts beyond the
// limits: 429 for alerts beyond the number held, 413 for a body beyond
// its size limit, not a decoding error.
func TestPostAlertsLimits(t *testing.T) {
	src := &fakeAlerts{max: 1}
	srv := newAlertsServer(t, src)
	code, body := amDo(t, http.MethodPost, srv.URL+"/api/v2/alerts", `[{"labels": {"alertname": "A"}}, {"labels": {"alertname": "B"}}]`)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "too many alerts: 1 refused") || len(src.received) != 1 {
		t.Errorf("alerts beyond the limit: %d %s, %d taken", code, body, len(src.received))
	}
	code, body = amDo(t, http.MethodPost, srv.URL+"/api/v2/alerts", `[{"labels": {"alertname": "C"}}, {"labels": {}}]`)
	if code != http.StatusBadRequest || !strings.Contains(body, "alert 1: at least one label pair required; too many alerts") {
		t.Errorf("a bad alert and one beyond the limit: %d %s", code, body)
	}

	huge := `[{"labels": {"alertname": "` + strings.Repeat("x", maxPostedAlertsBytes) + `"}}]`
	code, body = amDo(t, http.MethodPost, srv.URL+"/api/v2/alerts", huge)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "exceeds the limit of 33554432 bytes") {
		t.Errorf("a body beyond the limit: %d %.200s", code, body)
	}
}
