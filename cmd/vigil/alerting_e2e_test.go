package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/core/api"
	"github.com/vigilmon/vigil/sdk"
)

// The tests of this file run the real binary with the webhook plugin and
// short timers: group_wait 1s and group_interval 2s unless a test needs
// other ones. An alert "arrives" within a minute; windows in which
// nothing may arrive span at least two group intervals.

// fastRoute is a root route with short timers and a long repeat_interval,
// so that any notification beyond the first of a group is a change, never
// a repetition.
const fastRoute = `route {
  receiver        = "ops"
  group_by        = ["alertname"]
  group_wait      = "1s"
  group_interval  = "2s"
  repeat_interval = "1h"
}
`

// alwaysFiringRule is a rule that fires at its first evaluation.
const alwaysFiringRule = `rules "always" {
  interval = "1s"
  alert "AlwaysFiring" {
    expr   = "vector(1)"
    labels = { severity = "page" }
  }
}
`

// postAlerts sends alerts to the server's POST /api/v2/alerts, which must
// take them all.
func postAlerts(t *testing.T, srv *runningServer, alerts ...api.PostableAlert) {
	t.Helper()
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+srv.addr+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s %s", resp.Status, answer)
	}
}

// amAlerts returns the alerts of GET /api/v2/alerts.
func amAlerts(t *testing.T, srv *runningServer) []api.GettableAlert {
	t.Helper()
	resp, err := http.Get("http://" + srv.addr + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []api.GettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v2/alerts: %s, %v", resp.Status, err)
	}
	return out
}

var (
	reasonLabel   = regexp.MustCompile(`reason="([^"]*)"`)
	receiverLabel = regexp.MustCompile(`receiver="([^"]*)"`)
)

// receiverMetric returns the samples of the counter or histogram series
// name of receiver on the server's /metrics, summed by reason ("" for
// series without one).
func receiverMetric(t *testing.T, srv *runningServer, name, receiver string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + srv.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		if m := receiverLabel.FindStringSubmatch(line); m == nil || m[1] != receiver {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		reason := ""
		if m := reasonLabel.FindStringSubmatch(line); m != nil {
			reason = m[1]
		}
		out[reason] += v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// alertsOf describes the alerts of a message, sorted, as "status labels".
func alertsOf(msg sdk.Notification) []string {
	var out []string
	for _, a := range msg.Alerts {
		out = append(out, a.Status+" "+labels.FromMap(a.Labels).String())
	}
	slices.Sort(out)
	return out
}

// want returns the description alertsOf gives of alerts, sorted.
func want(alerts ...string) []string {
	slices.Sort(alerts)
	return alerts
}

// TestAlertingRuleWaitsForThenResolves proves that an alerting rule with
// `for` notifies only once its condition has held for that long: while
// the alert is pending nothing is sent, the single firing message (version
// 4) comes after group_wait with a start at least `for` after the alert
// became active, no second firing message follows, and when the scraped
// condition clears a resolved message with the alert's end arrives.
func TestAlertingRuleWaitsForThenResolves(t *testing.T) {
	t.Parallel()
	var gauge atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP test_gauge A gauge the test sets.\n# TYPE test_gauge gauge\ntest_gauge %d\n", gauge.Load())
	}))
	defer target.Close()
	receiver := newWebhookReceiver(t, nil)
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": receiver.URL}, fmt.Sprintf(`global {
  evaluation_interval = "1s"
}

scrape "gauge" {
  targets         = [%q]
  scrape_interval = "1s"
  scrape_timeout  = "1s"
}

rules "gauge" {
  alert "GaugeHigh" {
    expr        = "test_gauge > 0"
    for         = "3s"
    labels      = { severity = "page" }
    annotations = { summary = "The gauge is {{ $value }}." }
  }
}

`, strings.TrimPrefix(target.URL, "http://"))+fastRoute)
	srv := startServer(t, "--config", config)
	prom := srv.api(t)
	ctx := context.Background()
	gaugeHigh := fmt.Sprintf(`{alertname="GaugeHigh", instance=%q, job="gauge", severity="page"}`, strings.TrimPrefix(target.URL, "http://"))

	waitFor(t, "test_gauge 0 in the store", func() bool {
		v, ok := queryValue(t, prom, `test_gauge`)
		return ok && v == 0
	})
	receiver.none(t, 2*time.Second, "with the gauge at 0")

	flip := time.Now()
	gauge.Store(1)
	const forDuration = 3 * time.Second
	var (
		active      v1.Alert
		pendingSeen time.Time // when a request that found the alert pending was sent
	)
	waitFor(t, "GaugeHigh to fire", func() bool {
		asked := time.Now()
		res, err := prom.Alerts(ctx)
		if err != nil || len(res.Alerts) != 1 {
			return false
		}
		switch res.Alerts[0].State {
		case v1.AlertStatePending:
			pendingSeen = asked
		case v1.AlertStateFiring:
			active = res.Alerts[0]
			return true
		}
		return false
	})
	d := receiver.next(t, srv)
	msg := d.msg
	if msg.Version != "4" || msg.Status != "firing" || msg.Receiver != "ops" || msg.GroupKey != `{}:{alertname="GaugeHigh"}` ||
		!slices.Equal(alertsOf(msg), want("firing "+gaugeHigh)) ||
		msg.Alerts[0].Annotations["summary"] != "The gauge is 1." || !msg.Alerts[0].EndsAt.IsZero() {
		t.Fatalf("firing notification %+v", msg)
	}
	// The rule held the alert pending for `for`: it fired, and started,
	// `for` after it became active, which it did no earlier than the flip.
	if active.ActiveAt.IsZero() || msg.Alerts[0].StartsAt.Sub(active.ActiveAt) < forDuration {
		t.Errorf("the alert became active at %v and started firing at %v: less than for = %v", active.ActiveAt, msg.Alerts[0].StartsAt, forDuration)
	}
	// Scrape timestamps may precede the flip by the few milliseconds a
	// scrape takes; 250ms covers them.
	if elapsed := d.at.Sub(flip); elapsed < forDuration-250*time.Millisecond {
		t.Errorf("the firing notification came %v after the condition began, before for = %v", elapsed, forDuration)
	}
	if !pendingSeen.IsZero() && !d.at.After(pendingSeen) {
		t.Errorf("the firing notification came at %v, before the alert was seen pending at %v", d.at, pendingSeen)
	}
	if pendingSeen.IsZero() {
		t.Log("the pending state was not observed; the timing checks stand alone")
	}
	// Exactly one firing notification: nothing more over two group
	// intervals and more.
	receiver.none(t, 5*time.Second, "a second message while GaugeHigh fires unchanged")

	cleared := time.Now()
	gauge.Store(0)
	resolved := receiver.next(t, srv).msg
	if resolved.Version != "4" || resolved.Status != "resolved" || resolved.GroupKey != msg.GroupKey ||
		!slices.Equal(alertsOf(resolved), want("resolved "+gaugeHigh)) ||
		resolved.Alerts[0].Fingerprint != msg.Alerts[0].Fingerprint {
		t.Fatalf("resolved notification %+v", resolved)
	}
	if end := resolved.Alerts[0].EndsAt; end.IsZero() || end.Before(msg.Alerts[0].StartsAt) || end.Before(cleared.Add(-time.Second)) {
		t.Errorf("endsAt of the resolved alert %v: want a time after the start %v and about the clearing %v", end, msg.Alerts[0].StartsAt, cleared)
	}
	srv.stop(t)
	if got := len(receiver.requests()); got != 2 {
		t.Errorf("the receiver got %d requests, want the firing and the resolved message", got)
	}
}

// TestAlertingGroupsAlertsInOneNotification proves that alerts posted to
// POST /api/v2/alerts that share the group labels, the second posted
// while the group waits, are delivered together in a single message.
func TestAlertingGroupsAlertsInOneNotification(t *testing.T) {
	t.Parallel()
	receiver := newWebhookReceiver(t, nil)
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": receiver.URL}, `route {
  receiver        = "ops"
  group_by        = ["alertname"]
  group_wait      = "2s"
  group_interval  = "2s"
  repeat_interval = "1h"
}
`)
	srv := startServer(t, "--config", config)
	postAlerts(t, srv, api.PostableAlert{
		Labels:      map[string]string{"alertname": "DiskFull", "instance": "a"},
		Annotations: map[string]string{"summary": "disk of a"},
	})
	time.Sleep(300 * time.Millisecond)
	postAlerts(t, srv, api.PostableAlert{
		Labels:      map[string]string{"alertname": "DiskFull", "instance": "b"},
		Annotations: map[string]string{"summary": "disk of b"},
	})
	msg := receiver.next(t, srv).msg
	if msg.Version != "4" || msg.Status != "firing" || msg.GroupKey != `{}:{alertname="DiskFull"}` ||
		msg.GroupLabels["alertname"] != "DiskFull" || len(msg.GroupLabels) != 1 ||
		!slices.Equal(alertsOf(msg), want(`firing {alertname="DiskFull", instance="a"}`, `firing {alertname="DiskFull", instance="b"}`)) ||
		msg.CommonLabels["alertname"] != "DiskFull" || msg.CommonLabels["instance"] != "" {
		t.Fatalf("notification %+v", msg)
	}
	receiver.none(t, 5*time.Second, "a second message for the group")
	srv.stop(t)
}

// TestAlertingInhibitsAndSilences proves that an inhibit block and a
// silence leave out exactly the alerts they match: a critical alert
// inhibits the warning of its cluster but not the warning of another
// cluster, and a silence added with `vigil silence add` mutes one alert
// while the other of its group is delivered. Once the silence is expired
// (`vigil silence expire`) and the critical alert resolved, the alerts
// they held back are delivered, which shows they were held back by them.
func TestAlertingInhibitsAndSilences(t *testing.T) {
	t.Parallel()
	receiver := newWebhookReceiver(t, nil)
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": receiver.URL}, fastRoute+`
inhibit {
  source_matchers = ["severity=\"critical\""]
  target_matchers = ["severity=\"warning\""]
  equal           = ["alertname", "cluster"]
}
`)
	srv := startServer(t, "--config", config)
	server := "http://" + srv.addr
	code, stdout, stderr := runCLI("silence", "add", "--server", server, "--comment", "e2e", "alertname=Noisy", "team=x")
	if code != exitOK {
		t.Fatalf("silence add: exit %d\n%s%s", code, stdout, stderr)
	}
	silenceID := strings.TrimSpace(stdout)

	start := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
	alert := func(lset ...string) api.PostableAlert {
		m := map[string]string{}
		for i := 0; i < len(lset); i += 2 {
			m[lset[i]] = lset[i+1]
		}
		return api.PostableAlert{Labels: m, StartsAt: start}
	}
	critical := alert("alertname", "DiskFull", "severity", "critical", "cluster", "a")
	postAlerts(t, srv,
		critical,
		alert("alertname", "DiskFull", "severity", "warning", "cluster", "a"),
		alert("alertname", "DiskFull", "severity", "warning", "cluster", "b"),
		alert("alertname", "Noisy", "team", "x"),
		alert("alertname", "Noisy", "team", "y"),
	)

	// Two groups, one message each, in either order.
	byGroup := func() map[string]sdk.Notification {
		out := map[string]sdk.Notification{}
		for range 2 {
			msg := receiver.next(t, srv).msg
			if _, ok := out[msg.GroupLabels["alertname"]]; ok {
				t.Fatalf("two messages for group %s, the second %+v", msg.GroupLabels["alertname"], msg)
			}
			out[msg.GroupLabels["alertname"]] = msg
		}
		return out
	}
	first := byGroup()
	if got := alertsOf(first["DiskFull"]); !slices.Equal(got, want(
		`firing {alertname="DiskFull", cluster="a", severity="critical"}`,
		`firing {alertname="DiskFull", cluster="b", severity="warning"}`)) {
		t.Errorf("DiskFull notification: %q; want the critical alert and the warning of the other cluster", got)
	}
	if got := alertsOf(first["Noisy"]); !slices.Equal(got, want(`firing {alertname="Noisy", team="y"}`)) {
		t.Errorf("Noisy notification: %q; want only team y", got)
	}
	// The API tells why.
	for _, a := range amAlerts(t, srv) {
		lset := labels.FromMap(a.Labels).String()
		switch lset {
		case `{alertname="DiskFull", cluster="a", severity="warning"}`:
			if a.Status.State != "suppressed" || len(a.Status.InhibitedBy) != 1 || len(a.Status.SilencedBy) != 0 {
				t.Errorf("%s: status %+v, want inhibited", lset, a.Status)
			}
		case `{alertname="Noisy", team="x"}`:
			if a.Status.State != "suppressed" || !slices.Equal(a.Status.SilencedBy, []string{silenceID}) || len(a.Status.InhibitedBy) != 0 {
				t.Errorf("%s: status %+v, want silenced by %s", lset, a.Status, silenceID)
			}
		default:
			if a.Status.State != "active" {
				t.Errorf("%s: status %+v, want active", lset, a.Status)
			}
		}
	}
	receiver.none(t, 5*time.Second, "a message while nothing changes")

	// Lifting the silence and resolving the critical alert deliver what
	// they held back.
	if code, stdout, stderr := runCLI("silence", "expire", "--server", server, silenceID); code != exitOK {
		t.Fatalf("silence expire: exit %d\n%s%s", code, stdout, stderr)
	}
	critical.EndsAt = time.Now().UTC()
	postAlerts(t, srv, critical)
	second := byGroup()
	if got := alertsOf(second["DiskFull"]); !slices.Equal(got, want(
		`resolved {alertname="DiskFull", cluster="a", severity="critical"}`,
		`firing {alertname="DiskFull", cluster="a", severity="warning"}`,
		`firing {alertname="DiskFull", cluster="b", severity="warning"}`)) {
		t.Errorf("DiskFull notification after the critical alert resolved: %q", got)
	}
	if got := alertsOf(second["Noisy"]); !slices.Equal(got, want(`firing {alertname="Noisy", team="x"}`, `firing {alertname="Noisy", team="y"}`)) {
		t.Errorf("Noisy notification after the silence expired: %q", got)
	}
	srv.stop(t)
}

// TestAlertingRestartDoesNotNotifyAgain proves that the notification log
// survives a restart: a rule's alert notified before SIGTERM, still
// firing after the server starts again on the same data directory, is
// not notified again before repeat_interval (1h), over a window of
// group_wait and three group intervals and more.
func TestAlertingRestartDoesNotNotifyAgain(t *testing.T) {
	t.Parallel()
	receiver := newWebhookReceiver(t, nil)
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": receiver.URL}, alwaysFiringRule+"\n"+fastRoute)
	srv := startServer(t, "--config", config)
	msg := receiver.next(t, srv).msg
	if msg.Status != "firing" || !slices.Equal(alertsOf(msg), want(`firing {alertname="AlwaysFiring", severity="page"}`)) {
		t.Fatalf("notification %+v", msg)
	}
	// The receiver has the message before the server has its answer, and
	// a delivery that SIGTERM cuts short is not logged and is sent again
	// after the restart (at least once, as in Alertmanager). So stop once
	// the attempt has returned, and a second more for the log entry that
	// the dispatcher writes right after it.
	waitFor(t, "the delivery attempt to return", func() bool {
		return receiverMetric(t, srv, "vigil_notification_latency_seconds_count", "ops")[""] >= 1
	})
	time.Sleep(time.Second)
	srv.stop(t)

	srv = startServer(t, "--config", config)
	// The rule fires again and the dispatcher has the alert.
	waitFor(t, "AlwaysFiring in the dispatcher after the restart", func() bool {
		alerts := amAlerts(t, srv)
		return len(alerts) == 1 && alerts[0].Labels["alertname"] == "AlwaysFiring" && alerts[0].Status.State == "active"
	})
	receiver.none(t, 1*time.Second+3*2*time.Second+3*time.Second, "a duplicate after the restart")
	if res, err := srv.api(t).Alerts(context.Background()); err != nil || len(res.Alerts) != 1 || res.Alerts[0].State != v1.AlertStateFiring {
		t.Errorf("alerts of the rules after the window: %+v, %v; want AlwaysFiring firing", res, err)
	}
	srv.stop(t)
	if got := len(receiver.requests()); got != 1 {
		t.Errorf("the receiver got %d requests over both runs, want 1", got)
	}
}

// TestAlertingRestartKeepsPendingNotification proves that a notification
// still waiting for its group_wait when the server stops is not lost: the
// server is stopped before group_wait (8s) ends, nothing was sent, and
// after it starts again on the same data directory the alert is
// delivered, once.
func TestAlertingRestartKeepsPendingNotification(t *testing.T) {
	t.Parallel()
	receiver := newWebhookReceiver(t, nil)
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": receiver.URL}, alwaysFiringRule+`
route {
  receiver        = "ops"
  group_by        = ["alertname"]
  group_wait      = "8s"
  group_interval  = "2s"
  repeat_interval = "1h"
}
`)
	srv := startServer(t, "--config", config)
	waitFor(t, "AlwaysFiring in the dispatcher", func() bool {
		alerts := amAlerts(t, srv)
		return len(alerts) == 1 && alerts[0].Labels["alertname"] == "AlwaysFiring"
	})
	srv.stop(t)
	if reqs := receiver.requests(); len(reqs) != 0 {
		t.Fatalf("the notification was sent before the stop, %v after it was due; the test needs the stop within group_wait", reqs[0].at)
	}

	srv = startServer(t, "--config", config)
	msg := receiver.next(t, srv).msg
	if msg.Status != "firing" || !slices.Equal(alertsOf(msg), want(`firing {alertname="AlwaysFiring", severity="page"}`)) {
		t.Fatalf("notification %+v", msg)
	}
	receiver.none(t, 5*time.Second, "a second message")
	srv.stop(t)
}

// TestAlertingRetriesRetryableErrors proves that a delivery answered 503
// is retried until it succeeds: the receiver sees exactly three 503s and
// then one 200 for the same message, and nothing after it;
// vigil_notification_requests_failed_total counts the failed attempts
// and vigil_notifications_failed_total the notification that failed for
// good, before the next group_interval retried it (three failures do not
// fit in the retries of one group_interval of 2s).
func TestAlertingRetriesRetryableErrors(t *testing.T) {
	t.Parallel()
	const failures = 3
	receiver := newWebhookReceiver(t, func(n int) int {
		if n <= failures {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": receiver.URL}, fastRoute)
	srv := startServer(t, "--config", config)
	postAlerts(t, srv, api.PostableAlert{Labels: map[string]string{"alertname": "Flaky", "instance": "a"}})
	msg := receiver.next(t, srv).msg
	if msg.Status != "firing" || !slices.Equal(alertsOf(msg), want(`firing {alertname="Flaky", instance="a"}`)) {
		t.Fatalf("notification %+v", msg)
	}
	receiver.none(t, 5*time.Second, "a message after the delivery")
	reqs := receiver.requests()
	var statuses []int
	for _, r := range reqs {
		statuses = append(statuses, r.status)
		if r.msg.GroupKey != msg.GroupKey || !slices.Equal(alertsOf(r.msg), alertsOf(msg)) {
			t.Errorf("a retry carried %+v, want the same message as the delivery %+v", r.msg, msg)
		}
	}
	if !slices.Equal(statuses, []int{503, 503, 503, 200}) {
		t.Errorf("the receiver answered %v, want three 503s and one 200", statuses)
	}
	// An attempt cut by the end of the retries may fail without reaching
	// the receiver: at least the three it answered 503 count.
	attempts := receiverMetric(t, srv, "vigil_notification_requests_failed_total", "ops")
	if attempts["other"] < failures || attempts["permanent"] != 0 || attempts["no_notifier"] != 0 {
		t.Errorf("vigil_notification_requests_failed_total of ops: %v, want at least %d with reason other", attempts, failures)
	}
	if failed := receiverMetric(t, srv, "vigil_notifications_failed_total", "ops"); failed["other"]+failed["timeout"] < 1 {
		t.Errorf("vigil_notifications_failed_total of ops: %v, want at least 1", failed)
	}
	srv.stop(t)
}

// TestAlertingDeliversWhenReceiverComesBack proves that a notification
// for a receiver that is down (nothing listens on its port) is retried
// over several group intervals, counted as failed, and delivered once the receiver listens again on the
// same port.
func TestAlertingDeliversWhenReceiverComesBack(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	receiver := newWebhookHandler(nil)
	config := writeAlertingConfig(t, t.TempDir(), map[string]string{"ops": "http://" + addr + "/hook"}, fastRoute)
	srv := startServer(t, "--config", config)
	postAlerts(t, srv, api.PostableAlert{Labels: map[string]string{"alertname": "Outage", "instance": "a"}})
	waitFor(t, "failed attempts and a failed notification while the receiver is down", func() bool {
		return receiverMetric(t, srv, "vigil_notification_requests_failed_total", "ops")["other"] >= 2 &&
			receiverMetric(t, srv, "vigil_notifications_failed_total", "ops")["other"] >= 1
	})

	// Listen again on the same port; another process may hold it for a
	// moment.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ln, err = net.Listen("tcp", addr)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("cannot listen on %s again: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	back := &httptest.Server{Listener: ln, Config: &http.Server{Handler: receiver}}
	back.Start()
	defer back.Close()

	msg := receiver.next(t, srv).msg
	if msg.Status != "firing" || !slices.Equal(alertsOf(msg), want(`firing {alertname="Outage", instance="a"}`)) {
		t.Fatalf("notification %+v", msg)
	}
	receiver.none(t, 5*time.Second, "a message after the delivery")
	if got := len(receiver.requests()); got != 1 {
		t.Errorf("the receiver got %d requests once back, want 1", got)
	}
	srv.stop(t)
}
