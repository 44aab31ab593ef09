package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/api"
)

// silenceServer serves the API over the silences of a real alert store.
func silenceServer(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := alert.OpenStore(alert.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mux := http.NewServeMux()
	api.New(api.Sources{Silences: st.Silences()}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestSilenceCommands(t *testing.T) {
	srv := silenceServer(t)
	add := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(append([]string{"silence", "add", "--server", srv.URL}, args...)...)
		if code != exitOK {
			t.Fatalf("silence add %v: exit %d: %s", args, code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	disk := add("--author", "ann", "--comment", "disk swap", "--duration", "2h", "alertname=DiskFull", `severity=~"crit|page"`)
	start := time.Now().Add(time.Hour).UTC()
	later := add("--author", "bob", "--start", start.Format(time.RFC3339), "--end", start.Add(time.Hour).Format(time.RFC3339), `{team="db", env!="dev"}`)
	gone := add("--comment", "short", "team=web")

	code, _, stderr := runCLI("silence", "expire", "--server", srv.URL, gone)
	if code != exitOK {
		t.Fatalf("silence expire: exit %d: %s", code, stderr)
	}

	code, stdout, stderr := runCLI("silence", "list", "--server", srv.URL)
	if code != exitOK {
		t.Fatalf("silence list: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "MATCHERS") || !strings.Contains(lines[0], "CREATED BY") {
		t.Fatalf("silence list:\n%s", stdout)
	}
	for _, want := range []string{disk, `{alertname="DiskFull",severity=~"crit|page"}`, "ann", "disk swap"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("first line lacks %q: %s", want, lines[1])
		}
	}
	if !strings.Contains(lines[2], later) || !strings.Contains(lines[2], `env!="dev"`) || !strings.Contains(lines[2], start.Add(time.Hour).Format(time.RFC3339)) {
		t.Errorf("second line: %s", lines[2])
	}
	if strings.Contains(stdout, gone) {
		t.Errorf("the expired silence is listed:\n%s", stdout)
	}

	_, stdout, _ = runCLI("silence", "list", "--server", srv.URL, "--expired")
	if !strings.Contains(stdout, gone) || strings.Contains(stdout, disk) {
		t.Errorf("silence list --expired:\n%s", stdout)
	}
	_, stdout, _ = runCLI("silence", "list", "--server", srv.URL, "team=db")
	if !strings.Contains(stdout, later) || strings.Contains(stdout, disk) {
		t.Errorf("silence list team=db:\n%s", stdout)
	}

	code, stdout, _ = runCLI("silence", "list", "--server", srv.URL, "--json")
	var sils []map[string]any
	if err := json.Unmarshal([]byte(stdout), &sils); code != exitOK || err != nil || len(sils) != 2 {
		t.Fatalf("silence list --json: exit %d, %v:\n%s", code, err, stdout)
	}
	if sils[0]["id"] != disk || sils[0]["status"].(map[string]any)["state"] != "active" || sils[1]["status"].(map[string]any)["state"] != "pending" {
		t.Errorf("silence list --json:\n%s", stdout)
	}
	ends, _ := time.Parse(time.RFC3339, sils[0]["endsAt"].(string))
	if d := time.Until(ends); d < 119*time.Minute || d > 2*time.Hour {
		t.Errorf("--duration 2h ends in %s", d)
	}
}

func TestSilenceCommandErrors(t *testing.T) {
	srv := silenceServer(t)
	code, stdout, _ := runCLI("silence", "add", "--server", srv.URL, "alertname=Foo")
	if code != exitOK {
		t.Fatal("silence add failed")
	}
	id := strings.TrimSpace(stdout)
	unknown := "5a6f1d4e-0000-4000-8000-000000000000"
	down := "http://127.0.0.1:1"
	for name, tc := range map[string]struct {
		args     []string
		code     int
		inStderr string
	}{
		"add without matchers":    {[]string{"silence", "add", "--server", srv.URL}, exitUsage, "at least one matcher"},
		"add a bad matcher":       {[]string{"silence", "add", "--server", srv.URL, "alertname"}, exitUsage, `invalid matcher "alertname"`},
		"add with end and dur":    {[]string{"silence", "add", "--server", srv.URL, "--end", "2100-01-01T00:00:00Z", "--duration", "1h", "a=b"}, exitUsage, "not both"},
		"add with a bad start":    {[]string{"silence", "add", "--server", srv.URL, "--start", "soon", "a=b"}, exitUsage, "invalid --start"},
		"add ending before start": {[]string{"silence", "add", "--server", srv.URL, "--start", "2100-01-02T00:00:00Z", "--end", "2100-01-01T00:00:00Z", "a=b"}, exitUsage, "is not after"},
		"add ending in the past":  {[]string{"silence", "add", "--server", srv.URL, "--start", "1000", "--end", "2000", "a=b"}, exitFailure, "end time can't be in the past"},
		"add matching everything": {[]string{"silence", "add", "--server", srv.URL, `a=~".*"`}, exitFailure, "400 Bad Request"},
		"add to a bad server URL": {[]string{"silence", "add", "--server", "127.0.0.1:9090", "a=b"}, exitUsage, `invalid server URL "127.0.0.1:9090"`},
		"add to a server down":    {[]string{"silence", "add", "--server", down, "a=b"}, exitFailure, "cannot add the silence"},
		"list with a bad matcher": {[]string{"silence", "list", "--server", srv.URL, `a=~"("`}, exitUsage, "invalid matcher"},
		"list from a server down": {[]string{"silence", "list", "--server", down}, exitFailure, "127.0.0.1:1"},
		"expire without IDs":      {[]string{"silence", "expire", "--server", srv.URL}, exitUsage, "at least one silence ID"},
		"expire an unknown ID":    {[]string{"silence", "expire", "--server", srv.URL, unknown}, exitFailure, "answered 404 Not Found"},
		"silence with no command": {[]string{"silence"}, exitOK, ""},
		"silence unknown flag":    {[]string{"silence", "list", "--bogus"}, exitUsage, "unknown flag"},
		"alerting not configured": {[]string{"silence", "list", "--server", apiServer(t).URL}, exitFailure, "alerting is not configured"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tc.code, tc.inStderr, stdout, stderr)
			}
		})
	}

	// Expiring one known and one unknown ID expires the known one and fails.
	code, _, stderr := runCLI("silence", "expire", "--server", srv.URL, id, unknown)
	if code != exitFailure || !strings.Contains(stderr, unknown) || strings.Contains(stderr, "cannot expire silence "+id) {
		t.Fatalf("expire known and unknown: exit %d: %s", code, stderr)
	}
	_, stdout, _ = runCLI("silence", "list", "--server", srv.URL, "--expired")
	if !strings.Contains(stdout, id) {
		t.Errorf("silence %s was not expired:\n%s", id, stdout)
	}
}
