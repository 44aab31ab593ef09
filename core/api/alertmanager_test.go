package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	amalert "github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/hclconfig"
)

// newAMServer serves the API over the silences of a real alert store.
func newAMServer(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := amalert.OpenStore(amalert.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, diags := hclconfig.Parse("vigil.hcl", []byte(`rules "r" {
  record "one" {
    expr = "vector(1)"
  }
}
plugin "p" { source = "p" }
notifier "team" { plugin = "p" }
route { receiver = "team" }`))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	mux := http.NewServeMux()
	New(Sources{Silences: st.Silences(), Alerts: &fakeAlerts{}, Version: "1.2.3", Config: func() *hclconfig.Config { return cfg }}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// amDo sends a request and returns the status code and the body.
func amDo(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	return as(t, "", method, u, body)
}

// postSilence creates a silence from a JSON body and returns its ID.
func postSilence(t *testing.T, srv *httptest.Server, body string) string {
	t.Helper()
	code, resp := amDo(t, http.MethodPost, srv.URL+"/api/v2/silences", body)
	if code != http.StatusOK {
		t.Fatalf("POST /api/v2/silences: %d %s", code, resp)
	}
	var r struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal([]byte(resp), &r); err != nil || r.SilenceID == "" {
		t.Fatalf("POST answer %s: %v", resp, err)
	}
	return r.SilenceID
}

func silenceBody(matchers string, starts, ends time.Time, extra string) string {
	return `{"matchers":` + matchers + `,"startsAt":"` + starts.UTC().Format(time.RFC3339Nano) +
		`","endsAt":"` + ends.UTC().Format(time.RFC3339Nano) + `","createdBy":"ann","comment":"maintenance"` + extra + `}`
}

func TestAlertmanagerSilences(t *testing.T) {
	srv := newAMServer(t)
	now := time.Now()
	crit := `[{"name":"alertname","value":"DiskFull","isRegex":false,"isEqual":true},{"name":"severity","value":"crit|page","isRegex":true}]`
	id := postSilence(t, srv, silenceBody(crit, now, now.Add(time.Hour), ""))

	// GET /api/v2/silence/{id}, as plain JSON with Alertmanager's field names.
	code, body := amDo(t, http.MethodGet, srv.URL+"/api/v2/silence/"+id, "")
	if code != http.StatusOK {
		t.Fatalf("GET silence: %d %s", code, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"id", "status", "updatedAt", "matchers", "startsAt", "endsAt", "createdBy", "comment"} {
		if _, ok := got[field]; !ok {
			t.Errorf("silence lacks %q: %s", field, body)
		}
	}
	if got["id"] != id || got["status"].(map[string]any)["state"] != "active" || got["createdBy"] != "ann" || got["comment"] != "maintenance" {
		t.Errorf("silence: %s", body)
	}
	ms := got["matchers"].([]any)
	if len(ms) != 2 {
		t.Fatalf("matchers: %v", ms)
	}
	want := map[string]map[string]any{
		"alertname": {"value": "DiskFull", "isRegex": false, "isEqual": true},
		"severity":  {"value": "crit|page", "isRegex": true, "isEqual": true},
	}
	for _, m := range ms {
		m := m.(map[string]any)
		for k, v := range want[m["name"].(string)] {
			if m[k] != v {
				t.Errorf("matcher %v: %s is %v, want %v", m, k, m[k], v)
			}
		}
	}
	for _, field := range []string{"startsAt", "endsAt", "updatedAt"} {
		if _, err := time.Parse(time.RFC3339Nano, got[field].(string)); err != nil {
			t.Errorf("%s: %v", field, err)
		}
	}

	// A pending silence with a negative matcher, and one expired.
	pending := postSilence(t, srv, silenceBody(`[{"name":"env","value":"dev","isRegex":false,"isEqual":false},{"name":"team","value":"db","isRegex":false}]`,
		now.Add(time.Hour), now.Add(2*time.Hour), ""))
	expired := postSilence(t, srv, silenceBody(`[{"name":"team","value":"web","isRegex":false}]`, now, now.Add(time.Hour), ""))
	if code, body := amDo(t, http.MethodDelete, srv.URL+"/api/v2/silence/"+expired, ""); code != http.StatusOK || body != "" {
		t.Fatalf("DELETE: %d %q", code, body)
	}

	list := func(filter ...string) []GettableSilence {
		t.Helper()
		q := url.Values{"filter": filter}
		code, body := amDo(t, http.MethodGet, srv.URL+"/api/v2/silences?"+q.Encode(), "")
		if code != http.StatusOK {
			t.Fatalf("GET silences %v: %d %s", filter, code, body)
		}
		var out []GettableSilence
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := list()
	if len(all) != 3 || all[0].ID != id || all[1].ID != pending || all[2].ID != expired {
		t.Fatalf("silences: %+v", all)
	}
	if all[1].Status.State != "pending" || all[2].Status.State != "expired" || *all[1].Matchers[0].IsEqual {
		t.Errorf("pending and expired: %+v", all[1:])
	}
	if got := list(`team=~"db|web"`); len(got) != 2 || got[0].ID != pending || got[1].ID != expired {
		t.Errorf("filter team=~db|web: %+v", got)
	}
	if got := list(`alertname="DiskFull"`, `severity="crit|page"`); len(got) != 1 || got[0].ID != id {
		t.Errorf("filter alertname and severity: %+v", got)
	}
	if got := list(`{team="nope"}`); len(got) != 0 {
		t.Errorf("filter team=nope: %+v", got)
	}

	// Updating only the comment keeps the ID; changing the matchers
	// replaces the silence and expires the old one.
	same := postSilence(t, srv, silenceBody(crit, all[0].StartsAt, now.Add(3*time.Hour), `,"id":"`+id+`"`))
	if same != id {
		t.Errorf("update in place gave ID %s, want %s", same, id)
	}
	replaced := postSilence(t, srv, silenceBody(`[{"name":"alertname","value":"DiskFull","isRegex":false}]`, now, now.Add(time.Hour), `,"id":"`+id+`"`))
	if replaced == id {
		t.Error("changing the matchers kept the ID")
	}
	code, body = amDo(t, http.MethodGet, srv.URL+"/api/v2/silence/"+id, "")
	if code != http.StatusOK || !strings.Contains(body, `"state":"expired"`) {
		t.Errorf("replaced silence: %d %s", code, body)
	}
}

func TestAlertmanagerSilenceErrors(t *testing.T) {
	srv := newAMServer(t)
	now := time.Now()
	id := postSilence(t, srv, silenceBody(`[{"name":"a","value":"b","isRegex":false}]`, now, now.Add(time.Hour), ""))
	unknown := "5a6f1d4e-0000-4000-8000-000000000000"
	for name, tc := range map[string]struct {
		method, path, body string
		code               int
		inBody             string
	}{
		"bad filter":         {"GET", "/api/v2/silences?filter=" + url.QueryEscape(`a=~"(`), "", 400, "bad matcher format"},
		"bad json":           {"POST", "/api/v2/silences", `{"matchers":`, 400, "cannot decode"},
		"no matchers":        {"POST", "/api/v2/silences", silenceBody(`[]`, now, now.Add(time.Hour), ""), 400, "at least one matcher"},
		"bad regex":          {"POST", "/api/v2/silences", silenceBody(`[{"name":"a","value":"(","isRegex":true}]`, now, now.Add(time.Hour), ""), 400, "invalid silence"},
		"matches everything": {"POST", "/api/v2/silences", silenceBody(`[{"name":"a","value":".*","isRegex":true}]`, now, now.Add(time.Hour), ""), 400, "empty string"},
		"end before start":   {"POST", "/api/v2/silences", silenceBody(`[{"name":"a","value":"b","isRegex":false}]`, now, now.Add(-time.Minute), ""), 400, "start time must be before end time"},
		"end in the past":    {"POST", "/api/v2/silences", silenceBody(`[{"name":"a","value":"b","isRegex":false}]`, now.Add(-time.Hour), now.Add(-time.Minute), ""), 400, "end time can't be in the past"},
		"update unknown id":  {"POST", "/api/v2/silences", silenceBody(`[{"name":"a","value":"b","isRegex":false}]`, now, now.Add(time.Hour), `,"id":"`+unknown+`"`), 404, "not found"},
		"get unknown id":     {"GET", "/api/v2/silence/" + unknown, "", 404, "not found"},
		"delete unknown id":  {"DELETE", "/api/v2/silence/" + unknown, "", 404, "not found"},
		"method not allowed": {"PUT", "/api/v2/silence/" + id, "", 405, ""},
		"body too large": {"POST", "/api/v2/silences", silenceBody(`[{"name":"a","value":"b","isRegex":false}]`, now, now.Add(time.Hour), `,"comment":"`+strings.Repeat("x", 1<<20)+`"`),
			413, "cannot decode the silence: the request body exceeds the limit of 1048576 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			code, body := amDo(t, tc.method, srv.URL+tc.path, tc.body)
			if code != tc.code || !strings.Contains(body, tc.inBody) {
				t.Fatalf("%d %s, want %d with %q", code, body, tc.code, tc.inBody)
			}
			if code == 400 || code == 404 {
				var msg string
				if err := json.Unmarshal([]byte(body), &msg); err != nil {
					t.Errorf("error body %s is not a JSON string: %v", body, err)
				}
			}
		})
	}
	// Expiring twice: the second time is a bad request.
	if code, body := amDo(t, "DELETE", srv.URL+"/api/v2/silence/"+id, ""); code != 200 {
		t.Fatalf("first DELETE: %d %s", code, body)
	}
	if code, body := amDo(t, "DELETE", srv.URL+"/api/v2/silence/"+id, ""); code != 400 || !strings.Contains(body, "already expired") {
		t.Errorf("second DELETE: %d %s", code, body)
	}
}

func TestAlertmanagerStatus(t *testing.T) {
	srv := newAMServer(t)
	code, body := amDo(t, http.MethodGet, srv.URL+"/api/v2/status", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	var st struct {
		Cluster struct {
			Status string `json:"status"`
			Peers  []any  `json:"peers"`
		} `json:"cluster"`
		VersionInfo map[string]string `json:"versionInfo"`
		Config      struct {
			Original string `json:"original"`
		} `json:"config"`
		Uptime time.Time `json:"uptime"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Cluster.Status != "disabled" || st.Cluster.Peers == nil || st.VersionInfo["version"] != "1.2.3" || st.VersionInfo["goVersion"] == "" ||
		st.Uptime.IsZero() || time.Since(st.Uptime) > time.Minute {
		t.Errorf("status: %s", body)
	}
	// config.original is the alerting configuration in Alertmanager's
	// YAML, which amtool parses, not the HCL.
	if !strings.Contains(st.Config.Original, "route:\n  receiver: team\n") || !strings.Contains(st.Config.Original, "receivers:\n  - name: team\n") ||
		strings.Contains(st.Config.Original, `record "one"`) {
		t.Errorf("config.original is not the Alertmanager YAML of the route:\n%s", st.Config.Original)
	}
	for _, k := range []string{"branch", "buildDate", "buildUser", "goVersion", "revision", "version"} {
		if _, ok := st.VersionInfo[k]; !ok {
			t.Errorf("versionInfo lacks %q", k)
		}
	}
}

func TestAlertmanagerNotConfigured(t *testing.T) {
	mux := http.NewServeMux()
	New(Sources{}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, r := range [][2]string{{"GET", "/api/v2/silences"}, {"POST", "/api/v2/silences"}, {"GET", "/api/v2/silence/x"}, {"DELETE", "/api/v2/silence/x"}, {"GET", "/api/v2/status"}} {
		code, body := amDo(t, r[0], srv.URL+r[1], "")
		if code != http.StatusServiceUnavailable || body != `"alerting is not configured"` {
			t.Errorf("%s %s: %d %s", r[0], r[1], code, body)
		}
	}
}

// TestPostsNeedJSON sends the bodies a web page of another origin can
// send without asking (text, form, multipart) to the endpoints that
// change state: they are refused with 415, as Alertmanager refuses them;
// JSON is taken.
func TestPostsNeedJSON(t *testing.T) {
	srv := newAMServer(t)
	now := time.Now()
	silence := silenceBody(`[{"name":"a","value":"b","isRegex":false}]`, now, now.Add(time.Hour), "")
	for _, path := range []string{"/api/v2/silences", "/api/v2/alerts"} {
		body := silence
		if path == "/api/v2/alerts" {
			body = `[{"labels": {"alertname": "A"}}]`
		}
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(msg), "the body must be JSON") {
				t.Errorf("POST %s as %q: %d %s, want 415", path, ct, resp.StatusCode, msg)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("POST %s as JSON: %d", path, resp.StatusCode)
		}
	}
}
