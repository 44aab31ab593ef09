package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

// requireAmtoolEnv names the environment variable that, when set, makes a
// missing amtool fail TestAmtool instead of skipping it.
const requireAmtoolEnv = "VIGIL_REQUIRE_AMTOOL"

// amtoolPath returns the path of Alertmanager's amtool (Debian's
// prometheus-alertmanager package has it), skipping t without it unless
// VIGIL_REQUIRE_AMTOOL is set.
func amtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("amtool")
	if err != nil {
		if os.Getenv(requireAmtoolEnv) != "" {
			t.Fatalf("amtool is required (%s is set) but missing: %v", requireAmtoolEnv, err)
		}
		t.Skipf("needs amtool (apt-get install prometheus-alertmanager); set %s=1 to fail instead of skipping", requireAmtoolEnv)
	}
	return path
}

// TestAmtool drives a running server with Alertmanager's own client: an
// alert added with `amtool alert add` is listed by `amtool alert query`
// and delivered; `amtool silence add` mutes it, `silence query` lists the
// silence and `silence expire` ends it; `amtool config show` prints the
// configuration in effect, which `amtool config routes show` loads with
// Alertmanager's parser and `amtool config routes test` routes labels
// through to the receivers the route blocks name.
func TestAmtool(t *testing.T) {
	amtool := amtoolPath(t)
	webhook := testplugins.Build(t, "plugins/notifier/webhook")
	got := make(chan sdk.Notification, 100)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg sdk.Notification
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- msg
	}))
	defer receiver.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, fmt.Appendf(nil, `server {
  data_dir = %q
}
plugin "webhook" { source = %q }
notifier "ops" {
  plugin = "webhook"
  config { url = %[3]q }
}
notifier "db" {
  plugin = "webhook"
  config { url = %[3]q }
}
notifier "dbpager" {
  plugin = "webhook"
  config { url = %[3]q }
}
notifier "audit" {
  plugin = "webhook"
  config { url = %[3]q }
}
time_interval "nights" {
  times {
    start_time = "22:00"
    end_time   = "24:00"
  }
  weekdays = ["monday:friday", "sunday"]
  location = "Europe/Berlin"
}
time_interval "holidays" {
  days_of_month = ["1:5", "-1"]
  months        = ["december"]
}
route {
  receiver   = "ops"
  group_by   = ["alertname"]
  group_wait = "1s"
  route {
    matchers = ["env=prod"]
    receiver = "audit"
    continue = true
  }
  route {
    matchers            = ["team=db"]
    receiver            = "db"
    group_by            = ["..."]
    mute_time_intervals = ["holidays"]
    route {
      matchers              = ["severity=~\"page|critical\""]
      receiver              = "dbpager"
      active_time_intervals = ["nights"]
    }
  }
}
inhibit {
  source_matchers = ["severity=critical"]
  target_matchers = ["severity=warning"]
  equal           = ["team"]
}
`, filepath.Join(dir, "data"), webhook, receiver.URL), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config)
	am := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(amtool, append([]string{"--alertmanager.url=http://" + srv.addr}, args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("amtool %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	am("alert", "add", "alertname=AmtoolAlert", "severity=page", "--annotation=summary=from amtool")
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
		Receivers []struct {
			Name string `json:"name"`
		} `json:"receivers"`
	}
	if err := json.Unmarshal([]byte(am("alert", "query", "-o", "json")), &alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Labels["severity"] != "page" || alerts[0].Status.State != "active" ||
		len(alerts[0].Receivers) != 1 || alerts[0].Receivers[0].Name != "ops" {
		t.Fatalf("alert query: %+v", alerts)
	}
	select {
	case msg := <-got:
		if msg.Status != "firing" || len(msg.Alerts) != 1 || msg.Alerts[0].Labels["alertname"] != "AmtoolAlert" ||
			msg.Alerts[0].Annotations["summary"] != "from amtool" {
			t.Fatalf("notification %+v", msg)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the alert added with amtool was not delivered:\n%s", srv.logText())
	}

	id := strings.TrimSpace(am("silence", "add", "alertname=AmtoolAlert", "--comment=maintenance", "--author=ann", "--duration=1h"))
	if len(id) != 36 {
		t.Fatalf("silence add printed %q, want an ID", id)
	}
	if out := am("silence", "query"); !strings.Contains(out, id) || !strings.Contains(out, "maintenance") || !strings.Contains(out, "ann") {
		t.Fatalf("silence query:\n%s", out)
	}
	if out := am("alert", "query", "--silenced"); !strings.Contains(out, "AmtoolAlert") || !strings.Contains(out, "suppressed") {
		t.Fatalf("alert query --silenced:\n%s", out)
	}
	am("silence", "expire", id)
	if out := am("silence", "query", "-q"); strings.Contains(out, id) {
		t.Fatalf("the expired silence is still active:\n%s", out)
	}
	if out := am("silence", "query", "--expired", "-q"); !strings.Contains(out, id) {
		t.Fatalf("silence query --expired lacks the silence:\n%s", out)
	}
	if out := am("alert", "query", "-o", "extended"); !strings.Contains(out, "active") {
		t.Fatalf("the alert is not active again after the silence expired:\n%s", out)
	}
	if out := am("config", "show"); !strings.Contains(out, "receiver: ops") || !strings.Contains(out, "- name: dbpager") {
		t.Fatalf("config show:\n%s", out)
	}
	// The route tree, loaded by Alertmanager's own parser.
	if out := am("config", "routes", "show"); !strings.Contains(out, "receiver: ops") || !strings.Contains(out, `{team="db"}`) ||
		!strings.Contains(out, "receiver: dbpager") || !strings.Contains(out, "continue: true") {
		t.Fatalf("config routes show:\n%s", out)
	}
	// amtool routes labels as the server does: each set of labels goes
	// to the same receivers in `config routes test` as an alert with them
	// in the server.
	i := 0
	for labels, want := range map[string]string{
		"job=api":                        "ops",
		"team=db":                        "db",
		"team=db severity=critical":      "dbpager",
		"env=prod team=db severity=page": "audit,dbpager",
		"env=prod team=infra":            "audit", // a match with continue is a match: the root does not take it
	} {
		out := strings.TrimSpace(am(append([]string{"config", "routes", "test"}, strings.Fields(labels)...)...))
		if out != want {
			t.Errorf("config routes test %s: %q, want %q", labels, out, want)
		}
		i++
		name := fmt.Sprintf("RouteTest%d", i)
		am(append([]string{"alert", "add", "alertname=" + name}, strings.Fields(labels)...)...)
		if err := json.Unmarshal([]byte(am("alert", "query", "-o", "json", "alertname="+name)), &alerts); err != nil || len(alerts) != 1 {
			t.Fatalf("alert query alertname=%s (%s): %v %+v\n%s", name, labels, err, alerts, am("alert", "query", "-o", "extended"))
		}
		var receivers []string
		for _, r := range alerts[0].Receivers {
			receivers = append(receivers, r.Name)
		}
		if got := strings.Join(receivers, ","); got != want {
			t.Errorf("the server routes %s to %q, amtool to %q", labels, got, out)
		}
	}
	srv.stop(t)
}

// TestServerSendsToExternalAlertmanager runs Alertmanager itself, from
// the same Debian package as amtool, and a server whose alertmanager block
// points at it: the alert of an always-firing rule reaches Alertmanager
// with the external labels, and /api/v1/alertmanagers lists it.
func TestServerSendsToExternalAlertmanager(t *testing.T) {
	amtool := amtoolPath(t)
	binary, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Fatalf("amtool is installed but prometheus-alertmanager is not: %v", err)
	}
	dir := t.TempDir()
	amConfig := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(amConfig, []byte("route:\n  receiver: none\nreceivers:\n  - name: none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	amAddr := freeLoopbackAddr(t)
	am := exec.Command(binary, "--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	var amLog strings.Builder
	am.Stdout, am.Stderr = &amLog, &amLog
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		am.Process.Kill()
		am.Wait()
	}()

	config := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(config, fmt.Appendf(nil, `server {
  data_dir = %q
}
global {
  external_labels = { cluster = "e2e" }
}
alertmanager {
  urls = ["http://%s"]
}
rules "always" {
  interval = "1s"
  alert "AlwaysFiring" {
    expr   = "vector(1)"
    labels = { severity = "page" }
  }
}
`, filepath.Join(dir, "data"), amAddr), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config)
	waitFor(t, "the alert in Alertmanager", func() bool {
		out, err := exec.Command(amtool, "--alertmanager.url=http://"+amAddr, "alert", "query", "-o", "json").Output()
		if err != nil {
			return false
		}
		var alerts []struct {
			Labels map[string]string `json:"labels"`
		}
		return json.Unmarshal(out, &alerts) == nil && len(alerts) == 1 &&
			alerts[0].Labels["alertname"] == "AlwaysFiring" && alerts[0].Labels["cluster"] == "e2e" && alerts[0].Labels["severity"] == "page"
	})
	ams, err := srv.api(t).AlertManagers(t.Context())
	if err != nil || len(ams.Active) != 1 || ams.Active[0].URL != "http://"+amAddr+"/api/v2/alerts" {
		t.Fatalf("alertmanagers %+v, %v", ams, err)
	}
	srv.stop(t)
}

// freeLoopbackAddr returns a 127.0.0.1 address whose port was free a
// moment ago, for a program that takes its listen address as a flag.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
