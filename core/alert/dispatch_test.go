package alert

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/sdk"
)

// fakeNotifier records the notifications it is given; fail, when set,
// decides the error of each attempt, numbered from 1.
type fakeNotifier struct {
	mu       sync.Mutex
	attempts int
	sent     []*sdk.Notification
	fail     func(attempt int) error
}

func (f *fakeNotifier) Notify(_ context.Context, n *sdk.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.fail != nil {
		if err := f.fail(f.attempts); err != nil {
			return err
		}
	}
	f.sent = append(f.sent, n)
	return nil
}

func (f *fakeNotifier) state() (attempts int, sent []*sdk.Notification) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, slices.Clone(f.sent)
}

// waitSent waits, at most 15s, until f delivered n notifications.
func (f *fakeNotifier) waitSent(t *testing.T, n int) []*sdk.Notification {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, sent := f.state(); len(sent) >= n {
			return sent
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications not delivered within 15s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newTestDispatcher returns a dispatcher over st with the configuration
// of routeConfig(blocks), whose receivers all deliver to f. It stops when
// the test ends, before st closes.
func newTestDispatcher(t *testing.T, st *Store, f sdk.Notifier, blocks string) *Dispatcher {
	t.Helper()
	return newTestDispatcherWith(t, Options{Store: st}, f, blocks)
}

// newTestDispatcherWith is newTestDispatcher with options: those unset
// take the test's defaults, 10ms retry backoff among them.
func newTestDispatcherWith(t *testing.T, opts Options, f sdk.Notifier, blocks string) *Dispatcher {
	t.Helper()
	opts.Notifiers = func(string) (sdk.Notifier, bool) { return f, true }
	opts.ExternalURL = "http://vigil.example:9090"
	opts.Logger = hclog.NewNullLogger()
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 10 * time.Millisecond
	}
	d := NewDispatcher(opts)
	t.Cleanup(d.Stop)
	if err := d.ApplyConfig(t.Context(), routeConfig(t, blocks)); err != nil {
		t.Fatal(err)
	}
	return d
}

// firing returns an alert that started now and fires for an hour.
func firing(nameValues ...string) *Alert {
	now := time.Now()
	return &Alert{
		Labels:       labels.FromStrings(nameValues...),
		Annotations:  labels.FromStrings("summary", "something is wrong"),
		StartsAt:     now,
		EndsAt:       now.Add(time.Hour),
		GeneratorURL: "http://vigil.example:9090/graph",
	}
}

func alertNames(n *sdk.Notification) []string {
	var out []string
	for _, a := range n.Alerts {
		out = append(out, a.Labels["alertname"]+"/"+a.Labels["instance"])
	}
	return out
}

func TestDispatcherGroupsAfterGroupWait(t *testing.T) {
	f := &fakeNotifier{}
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), f, `
route {
  receiver   = "a"
  group_by   = ["alertname"]
  group_wait = "300ms"
}`)
	start := time.Now()
	d.Receive([]*Alert{firing("alertname", "Down", "instance", "b", "job", "api"), firing("alertname", "Down", "instance", "a", "job", "api")})
	sent := f.waitSent(t, 1)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("notified after %s, before group_wait", waited)
	}
	n := sent[0]
	if n.Version != "4" || n.Status != "firing" || n.Receiver != "a" || n.GroupKey != `{}:{alertname="Down"}` ||
		n.ExternalURL != "http://vigil.example:9090" {
		t.Errorf("notification %+v", n)
	}
	if fmt.Sprint(n.GroupLabels) != "map[alertname:Down]" || fmt.Sprint(n.CommonLabels) != "map[alertname:Down job:api]" ||
		fmt.Sprint(n.CommonAnnotations) != "map[summary:something is wrong]" {
		t.Errorf("group labels %v, common labels %v, common annotations %v", n.GroupLabels, n.CommonLabels, n.CommonAnnotations)
	}
	if got := alertNames(n); !slices.Equal(got, []string{"Down/a", "Down/b"}) {
		t.Fatalf("alerts %v, want both in one notification", got)
	}
	a := n.Alerts[0]
	if a.Status != "firing" || !a.EndsAt.IsZero() || a.Fingerprint != fmt.Sprintf("%016x", labels.FromStrings("alertname", "Down", "instance", "a", "job", "api").Hash()) ||
		a.GeneratorURL != "http://vigil.example:9090/graph" {
		t.Errorf("alert %+v", a)
	}
}

func TestDispatcherInhibitionAndSilence(t *testing.T) {
	st := openStoreForTest(t, t.TempDir())
	now := time.Now()
	if _, err := st.Silences().Set(&Silence{Matchers: silMatchers(t, "alertname", "=", "Silenced"), StartsAt: now, EndsAt: now.Add(time.Hour),
		CreatedBy: "test", Comment: "test"}); err != nil {
		t.Fatal(err)
	}
	f := &fakeNotifier{}
	d := newTestDispatcher(t, st, f, `
route {
  receiver   = "a"
  group_wait = "50ms"
}
inhibit {
  source_matchers = ["severity=critical"]
  target_matchers = ["severity=warning"]
  equal           = ["instance"]
}`)
	d.Receive([]*Alert{
		firing("alertname", "Down", "severity", "critical", "instance", "a"),
		firing("alertname", "Slow", "severity", "warning", "instance", "a"), // inhibited
		firing("alertname", "Slow", "severity", "warning", "instance", "b"),
		firing("alertname", "Silenced", "instance", "a"),
	})
	n := f.waitSent(t, 1)[0]
	if got := alertNames(n); !slices.Equal(got, []string{"Down/a", "Slow/b"}) {
		t.Fatalf("alerts %v, want Down/a and Slow/b", got)
	}
}

func TestDispatcherSendsResolved(t *testing.T) {
	f := &fakeNotifier{}
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), f, `
route {
  receiver       = "a"
  group_by       = ["alertname"]
  group_wait     = "50ms"
  group_interval = "100ms"
}`)
	a := firing("alertname", "Down")
	d.Receive([]*Alert{a})
	if n := f.waitSent(t, 1)[0]; n.Status != "firing" {
		t.Fatalf("first notification %s", n.Status)
	}
	resolved := *a
	resolved.EndsAt = time.Now()
	d.Receive([]*Alert{&resolved})
	sent := f.waitSent(t, 2)
	n := sent[len(sent)-1]
	if n.Status != "resolved" || len(n.Alerts) != 1 || n.Alerts[0].Status != "resolved" || !n.Alerts[0].EndsAt.Equal(resolved.EndsAt) {
		t.Fatalf("last notification %+v", n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		d.mu.Lock()
		groups, alerts := len(d.groups), len(d.alerts)
		d.mu.Unlock()
		if groups == 0 && alerts == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d groups and %d alerts left after the resolved notification", groups, alerts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDispatcherRetries(t *testing.T) {
	f := &fakeNotifier{fail: func(attempt int) error {
		if attempt <= 2 {
			return errors.New("connection refused")
		}
		return nil
	}}
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), f, `
route {
  receiver   = "a"
  group_wait = "10ms"
}`)
	d.Receive([]*Alert{firing("alertname", "Down")})
	f.waitSent(t, 1)
	if attempts, _ := f.state(); attempts != 3 {
		t.Errorf("%d attempts, want 3", attempts)
	}
	// One notification, delivered in the end, in three requests.
	if got := testutil.ToFloat64(d.metrics.total.WithLabelValues("a")); got != 1 {
		t.Errorf("vigil_notifications_total %v", got)
	}
	if got := testutil.CollectAndCount(d.metrics.failed); got != 0 {
		t.Errorf("%d vigil_notifications_failed_total series, want none", got)
	}
	if got := testutil.ToFloat64(d.metrics.requests.WithLabelValues("a")); got != 3 {
		t.Errorf("vigil_notification_requests_total %v", got)
	}
	if got := testutil.ToFloat64(d.metrics.requestsFailed.WithLabelValues("a", reasonOther)); got != 2 {
		t.Errorf("vigil_notification_requests_failed_total %v", got)
	}
}

func TestDispatcherPermanentErrorNotRetried(t *testing.T) {
	f := &fakeNotifier{fail: func(int) error { return sdk.Permanent(errors.New("400 bad request")) }}
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), f, `
route {
  receiver   = "a"
  group_wait = "10ms"
}`)
	flushed := make(chan string, 10)
	d.afterFlush = func(id string) { flushed <- id }
	d.Receive([]*Alert{firing("alertname", "Down")})
	select {
	case <-flushed:
	case <-time.After(15 * time.Second):
		t.Fatal("no flush within 15s")
	}
	if attempts, _ := f.state(); attempts != 1 {
		t.Errorf("%d attempts, want 1", attempts)
	}
	if got := testutil.ToFloat64(d.metrics.failed.WithLabelValues("a", reasonPermanent)); got != 1 {
		t.Errorf("vigil_notifications_failed_total{reason=permanent} %v", got)
	}
	if got := testutil.ToFloat64(d.metrics.requestsFailed.WithLabelValues("a", reasonPermanent)); got != 1 {
		t.Errorf("vigil_notification_requests_failed_total{reason=permanent} %v", got)
	}
	if _, ok := d.opts.Store.NotificationLog().Query("a", "{}:{}"); ok {
		t.Error("a failed notification was logged")
	}
}

func TestDispatcherRestartDoesNotResend(t *testing.T) {
	dir := t.TempDir()
	st := openStoreForTest(t, dir)
	const config = `
route {
  receiver        = "a"
  group_by        = ["alertname"]
  group_wait      = "10ms"
  group_interval  = "100ms"
  repeat_interval = "1h"
}`
	f := &fakeNotifier{}
	d := newTestDispatcher(t, st, f, config)
	a := firing("alertname", "Down")
	d.Receive([]*Alert{a})
	f.waitSent(t, 1)
	d.Stop()
	st = reopenStoreForTest(t, st, dir)

	f2 := &fakeNotifier{}
	d2 := newTestDispatcher(t, st, f2, config)
	flushed := make(chan string, 10)
	d2.afterFlush = func(id string) { flushed <- id }
	again := *a
	again.EndsAt = time.Now().Add(time.Hour)
	d2.Receive([]*Alert{&again})
	select {
	case <-flushed:
	case <-time.After(15 * time.Second):
		t.Fatal("no flush within 15s")
	}
	if attempts, _ := f2.state(); attempts != 0 {
		t.Errorf("the restarted dispatcher notified again before repeat_interval")
	}
	// A new alert of the group is notified, with the other.
	d2.Receive([]*Alert{firing("alertname", "Down", "instance", "b")})
	if n := f2.waitSent(t, 1)[0]; len(n.Alerts) != 2 {
		t.Errorf("alerts %v", alertNames(n))
	}
}

func TestDispatcherApplyConfigKeepsGroups(t *testing.T) {
	f := &fakeNotifier{}
	const config = `
route {
  receiver   = "a"
  group_by   = ["alertname"]
  group_wait = "1h"
  route {
    matchers = ["team=db"]
    receiver = "b"
  }
}`
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), f, config)
	d.Receive([]*Alert{firing("alertname", "Down"), firing("alertname", "Full", "team", "db")})
	groupIDs := func() []string {
		d.mu.Lock()
		defer d.mu.Unlock()
		return slices.Sorted(maps.Keys(d.groups))
	}
	before := groupIDs()
	d.mu.Lock()
	root := d.groups[`{}:{alertname="Down"}`]
	d.mu.Unlock()
	if len(before) != 2 || root == nil {
		t.Fatalf("groups %v", before)
	}
	// The child route goes: its alert moves to the root's groups; the
	// root's group stays as it was.
	if err := d.ApplyConfig(t.Context(), routeConfig(t, `
route {
  receiver   = "a"
  group_by   = ["alertname"]
  group_wait = "1h"
}`)); err != nil {
		t.Fatal(err)
	}
	after := groupIDs()
	d.mu.Lock()
	kept := d.groups[`{}:{alertname="Down"}`]
	d.mu.Unlock()
	if !slices.Equal(after, []string{`{}:{alertname="Down"}`, `{}:{alertname="Full"}`}) || kept != root {
		t.Errorf("groups %v after reload, root group kept: %v", after, kept == root)
	}
}

func TestDispatcherAlertsAndGroups(t *testing.T) {
	st := openStoreForTest(t, t.TempDir())
	now := time.Now()
	silID, err := st.Silences().Set(&Silence{Matchers: silMatchers(t, "alertname", "=", "Silenced"), StartsAt: now, EndsAt: now.Add(time.Hour),
		CreatedBy: "test", Comment: "test"})
	if err != nil {
		t.Fatal(err)
	}
	d := newTestDispatcher(t, st, &fakeNotifier{}, `
route {
  receiver   = "a"
  group_by   = ["instance"]
  group_wait = "1h"
  route {
    receiver = "b"
    matchers = ["alertname=Down"]
    continue = true
  }
  route {
    receiver = "c"
    matchers = ["severity=critical"]
  }
}
inhibit {
  source_matchers = ["severity=critical"]
  target_matchers = ["severity=warning"]
  equal           = ["instance"]
}`)
	resolved := firing("alertname", "Gone", "instance", "a")
	resolved.EndsAt = now.Add(-time.Minute)
	down := firing("alertname", "Down", "severity", "critical", "instance", "a")
	d.Receive([]*Alert{
		down,
		firing("alertname", "Slow", "severity", "warning", "instance", "a"),
		firing("alertname", "Silenced", "instance", "b"),
		resolved,
	})
	state := func(s AlertStatus) string {
		return fmt.Sprintf("%s %v %v %v", s.Labels.Get("alertname"), s.Receivers, s.SilencedBy, s.InhibitedBy)
	}
	var got []string
	for _, s := range d.Alerts(time.Now()) {
		if s.UpdatedAt.Before(now) {
			t.Errorf("%s updated at %s, before it was received", s.Labels, s.UpdatedAt)
		}
		got = append(got, state(s))
	}
	want := []string{
		"Down [b c] [] []",
		fmt.Sprintf("Silenced [a] [%s] []", silID),
		fmt.Sprintf("Slow [a] [] [%d]", down.Fingerprint()),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alerts:\n got %q\nwant %q", got, want)
	}

	got = nil
	for _, g := range d.Groups(time.Now()) {
		var names []string
		for _, s := range g.Alerts {
			names = append(names, s.Labels.Get("alertname")+"/"+fmt.Sprint(s.Receivers))
		}
		got = append(got, fmt.Sprintf("%s %s %v", g.Receiver, g.Labels, names))
	}
	want = []string{
		`a {instance="a"} [Slow/[a]]`,
		`a {instance="b"} [Silenced/[a]]`,
		`b {instance="a"} [Down/[b]]`,
		`c {instance="a"} [Down/[c]]`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("groups:\n got %q\nwant %q", got, want)
	}
}

// TestDispatcherSendResolvedFalse notifies a receiver whose notifier sets
// send_resolved = false: a resolved alert neither triggers a notification
// nor appears in one, and the group still ends once all are resolved.
func TestDispatcherSendResolvedFalse(t *testing.T) {
	f := &fakeNotifier{}
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), f, `
notifier "quiet" {
  plugin        = "p"
  send_resolved = false
}
route {
  receiver       = "quiet"
  group_by       = ["alertname"]
  group_wait     = "50ms"
  group_interval = "100ms"
}`)
	a, b := firing("alertname", "Down", "instance", "a"), firing("alertname", "Down", "instance", "b")
	d.Receive([]*Alert{a, b})
	if got := alertNames(f.waitSent(t, 1)[0]); !slices.Equal(got, []string{"Down/a", "Down/b"}) {
		t.Fatalf("first notification %v", got)
	}
	resolvedB := *b
	resolvedB.EndsAt = time.Now()
	d.Receive([]*Alert{&resolvedB})
	// A firing alert that changes nothing else is notified again: then
	// the resolved one must be left out.
	c := firing("alertname", "Down", "instance", "c")
	d.Receive([]*Alert{c})
	sent := f.waitSent(t, 2)
	if got := alertNames(sent[1]); !slices.Equal(got, []string{"Down/a", "Down/c"}) || sent[1].Status != "firing" {
		t.Fatalf("second notification %v (%s), want the firing alerts only", got, sent[1].Status)
	}
	resolvedA, resolvedC := *a, *c
	resolvedA.EndsAt, resolvedC.EndsAt = time.Now(), time.Now()
	d.Receive([]*Alert{&resolvedA, &resolvedC})
	deadline := time.Now().Add(15 * time.Second)
	for {
		d.mu.Lock()
		groups := len(d.groups)
		d.mu.Unlock()
		if groups == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d groups left after every alert resolved", groups)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, sent := f.state(); len(sent) != 2 {
		t.Fatalf("%d notifications, want no resolved one: %+v", len(sent), sent[2:])
	}
}

// TestDispatcherReceiveKeepsEarlierStart receives an alert again with a
// later start, as a client re-posting it does: the first start stays.
func TestDispatcherReceiveKeepsEarlierStart(t *testing.T) {
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), &fakeNotifier{}, `
route {
  receiver   = "a"
  group_wait = "1h"
}`)
	first := firing("alertname", "Down")
	again := firing("alertname", "Down")
	again.StartsAt = first.StartsAt.Add(time.Minute)
	d.Receive([]*Alert{first})
	d.Receive([]*Alert{again})
	got := d.Alerts(time.Now())
	if len(got) != 1 || !got[0].StartsAt.Equal(first.StartsAt) || !got[0].EndsAt.Equal(again.EndsAt) {
		t.Fatalf("alerts %+v", got)
	}
	if !again.StartsAt.Equal(first.StartsAt.Add(time.Minute)) {
		t.Error("the received alert was changed")
	}
}

// TestDispatcherMaxAlerts fills the dispatcher to the global max_alerts:
// new alerts beyond it are refused, counted and reported, while new
// states of the alerts it holds are still taken.
func TestDispatcherMaxAlerts(t *testing.T) {
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), &fakeNotifier{}, `
global { max_alerts = 2 }
route {
  receiver   = "a"
  group_wait = "1h"
}`)
	if err := d.Receive([]*Alert{firing("alertname", "A"), firing("alertname", "B")}); err != nil {
		t.Fatal(err)
	}
	err := d.Receive([]*Alert{firing("alertname", "C"), firing("alertname", "A"), firing("alertname", "D")})
	if !errors.Is(err, ErrTooManyAlerts) || err.Error() != "too many alerts: 2 of 3 alerts refused, as the server holds its maximum of 2 alerts (global max_alerts); new states of those it holds are taken" {
		t.Fatalf("Receive over max_alerts: %v", err)
	}
	if got := len(d.Alerts(time.Now())); got != 2 {
		t.Errorf("%d alerts held, want 2", got)
	}
	if got := testutil.ToFloat64(d.Collector().limited); got != 2 {
		t.Errorf("vigil_alerts_limited_total = %v, want 2", got)
	}
	if err := d.Receive([]*Alert{firing("alertname", "B")}); err != nil {
		t.Errorf("a new state of a held alert: %v", err)
	}
}

// TestDispatcherInhibitRulesReloaded adds an inhibit block by reload to
// alerts already received: the critical alert, received before, inhibits
// the warning one; resolving it lifts the inhibition.
func TestDispatcherInhibitRulesReloaded(t *testing.T) {
	st := openStoreForTest(t, t.TempDir())
	const route = `
route {
  receiver   = "a"
  group_wait = "1h"
}`
	d := newTestDispatcher(t, st, &fakeNotifier{}, route)
	critical := firing("alertname", "Down", "severity", "critical", "instance", "a")
	warning := firing("alertname", "Slow", "severity", "warning", "instance", "a")
	d.Receive([]*Alert{critical, warning})
	inhibited := func() []string {
		var out []string
		for _, s := range d.Alerts(time.Now()) {
			if len(s.InhibitedBy) > 0 {
				out = append(out, s.Labels.Get("alertname"))
			}
		}
		return out
	}
	if got := inhibited(); len(got) != 0 {
		t.Fatalf("inhibited before any inhibit block: %v", got)
	}
	if err := d.ApplyConfig(t.Context(), routeConfig(t, route+`
inhibit {
  source_matchers = ["severity=critical"]
  target_matchers = ["severity=warning"]
  equal           = ["instance"]
}`)); err != nil {
		t.Fatal(err)
	}
	if got := inhibited(); !slices.Equal(got, []string{"Slow"}) {
		t.Fatalf("inhibited after the reload: %v, want Slow", got)
	}
	resolved := *critical
	resolved.EndsAt = time.Now()
	d.Receive([]*Alert{&resolved})
	if got := inhibited(); len(got) != 0 {
		t.Fatalf("inhibited after the source resolved: %v", got)
	}
}

// blockingNotifier waits for the end of its context, counting calls.
type blockingNotifier struct{ calls atomic.Int32 }

func (b *blockingNotifier) Notify(ctx context.Context, _ *sdk.Notification) error {
	b.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// TestDispatcherNotifierTimeout gives a notifier block a timeout: an
// attempt that hangs ends after it, counts as a timeout, and is retried.
func TestDispatcherNotifierTimeout(t *testing.T) {
	b := &blockingNotifier{}
	// NotifyTimeout is an hour: the block's timeout applies instead.
	d := newTestDispatcherWith(t, Options{Store: openStoreForTest(t, t.TempDir()), NotifyTimeout: time.Hour}, b, `
notifier "slow" {
  plugin  = "p"
  timeout = "100ms"
}
route {
  receiver   = "slow"
  group_wait = "10ms"
}`)
	d.Receive([]*Alert{firing("alertname", "Down")})
	deadline := time.Now().Add(15 * time.Second)
	for testutil.ToFloat64(d.metrics.requestsFailed.WithLabelValues("slow", reasonTimeout)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no two timed-out attempts within 15s; %d calls", b.calls.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gatedNotifier holds each notification until release is closed.
type gatedNotifier struct {
	started chan struct{}
	release chan struct{}
	sent    atomic.Int32
}

func (g *gatedNotifier) Notify(ctx context.Context, _ *sdk.Notification) error {
	g.started <- struct{}{}
	select {
	case <-g.release:
		g.sent.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestDispatcherStopFinishesDelivery stops the dispatcher while a
// notification is on its way: Stop waits for it, and it is logged, so a
// restarted dispatcher would not send it again.
func TestDispatcherStopFinishesDelivery(t *testing.T) {
	st := openStoreForTest(t, t.TempDir())
	g := &gatedNotifier{started: make(chan struct{}, 1), release: make(chan struct{})}
	d := newTestDispatcher(t, st, g, `
route {
  receiver   = "a"
  group_wait = "10ms"
}`)
	d.Receive([]*Alert{firing("alertname", "Down")})
	select {
	case <-g.started:
	case <-time.After(15 * time.Second):
		t.Fatal("no delivery started within 15s")
	}
	stopped := make(chan struct{})
	go func() {
		d.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("Stop returned with a delivery in progress")
	case <-time.After(100 * time.Millisecond):
	}
	close(g.release)
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("Stop did not return after the delivery ended")
	}
	if g.sent.Load() != 1 {
		t.Fatalf("%d notifications delivered, want 1", g.sent.Load())
	}
	if _, ok := st.NotificationLog().Query("a", "{}:{}"); !ok {
		t.Error("the notification delivered during Stop was not logged")
	}
}

// TestDispatcherStopDoesNotRetry stops the dispatcher while a notifier
// keeps failing: Stop returns without waiting for retries.
func TestDispatcherStopDoesNotRetry(t *testing.T) {
	f := &fakeNotifier{fail: func(int) error { return errors.New("connection refused") }}
	d := newTestDispatcherWith(t, Options{Store: openStoreForTest(t, t.TempDir()), RetryBackoff: time.Minute}, f, `
route {
  receiver   = "a"
  group_wait = "10ms"
}`)
	d.Receive([]*Alert{firing("alertname", "Down")})
	deadline := time.Now().Add(15 * time.Second)
	for attempts, _ := f.state(); attempts == 0; attempts, _ = f.state() {
		if time.Now().After(deadline) {
			t.Fatal("no attempt within 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() {
		d.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("Stop waited for a retry a minute away")
	}
	if attempts, _ := f.state(); attempts != 1 {
		t.Errorf("%d attempts, want 1", attempts)
	}
}

// countingNotifier holds each notification until release is closed, and
// counts the attempts in progress by receiver, with the most seen.
type countingNotifier struct {
	release chan struct{}
	mu      sync.Mutex
	now     map[string]int
	most    map[string]int
	sent    map[string]int
}

func (c *countingNotifier) Notify(ctx context.Context, n *sdk.Notification) error {
	c.mu.Lock()
	c.now[n.Receiver]++
	c.most[n.Receiver] = max(c.most[n.Receiver], c.now[n.Receiver])
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.now[n.Receiver]--
		c.mu.Unlock()
	}()
	select {
	case <-c.release:
		c.mu.Lock()
		c.sent[n.Receiver]++
		c.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// counts returns the attempts in progress, the most seen at once and the
// notifications delivered, of receiver.
func (c *countingNotifier) counts(receiver string) (now, most, sent int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now[receiver], c.most[receiver], c.sent[receiver]
}

// TestDispatcherBoundsDeliveriesInProgress has six groups of receiver a
// and one of receiver b due at once, with NotifyConcurrency 2: two
// deliveries to a are in progress at a time, the others wait, and b's
// is not held up by a's; once the notifier answers, every group is
// delivered.
func TestDispatcherBoundsDeliveriesInProgress(t *testing.T) {
	c := &countingNotifier{release: make(chan struct{}), now: map[string]int{}, most: map[string]int{}, sent: map[string]int{}}
	d := newTestDispatcherWith(t, Options{Store: openStoreForTest(t, t.TempDir()), NotifyConcurrency: 2}, c, `
route {
  receiver       = "a"
  group_by       = ["alertname"]
  group_wait     = "10ms"
  group_interval = "1m"
  route {
    matchers = ["team=b"]
    receiver = "b"
  }
}`)
	var alerts []*Alert
	for i := range 6 {
		alerts = append(alerts, firing("alertname", fmt.Sprintf("Down%d", i)))
	}
	d.Receive(append(alerts, firing("alertname", "Late", "team", "b")))
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitUntil("two deliveries to a and one to b in progress", func() bool {
		a, _, _ := c.counts("a")
		b, _, _ := c.counts("b")
		return a == 2 && b == 1
	})
	time.Sleep(200 * time.Millisecond) // time for a third delivery to a to start, were it let
	if now, most, _ := c.counts("a"); now != 2 || most != 2 {
		t.Fatalf("deliveries to a in progress: %d, most at once %d; want 2 and 2", now, most)
	}
	close(c.release)
	waitUntil("every group delivered", func() bool {
		_, _, a := c.counts("a")
		_, _, b := c.counts("b")
		return a == 6 && b == 1
	})
	if _, most, _ := c.counts("a"); most != 2 {
		t.Errorf("at most %d deliveries to a at once, want 2", most)
	}
}

// TestFingerprintString checks that fingerprints are written as
// Alertmanager writes them, 16 hexadecimal digits, leading zeros kept.
func TestFingerprintString(t *testing.T) {
	for _, fp := range []uint64{0, 1, 0xabc, 0x0123456789abcdef, ^uint64(0)} {
		if got, want := fingerprintString(fp), fmt.Sprintf("%016x", fp); got != want {
			t.Errorf("fingerprintString(%#x) = %q, want %q", fp, got, want)
		}
	}
}

// TestStopStartsNoWaitingDelivery: with deliveries waiting for a place
// among their receiver's, Stop lets the one in progress finish and
// starts none of the others, as it retries none.
func TestStopStartsNoWaitingDelivery(t *testing.T) {
	c := &countingNotifier{release: make(chan struct{}), now: map[string]int{}, most: map[string]int{}, sent: map[string]int{}}
	d := newTestDispatcherWith(t, Options{Store: openStoreForTest(t, t.TempDir()), NotifyConcurrency: 1}, c, `
route {
  receiver       = "a"
  group_by       = ["alertname"]
  group_wait     = "10ms"
  group_interval = "1m"
}`)
	var alerts []*Alert
	for i := range 4 {
		alerts = append(alerts, firing("alertname", fmt.Sprintf("Down%d", i)))
	}
	d.Receive(alerts)
	deadline := time.Now().Add(10 * time.Second)
	for now, _, _ := c.counts("a"); now != 1; now, _, _ = c.counts("a") {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for the first delivery to start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() {
		d.Stop()
		close(stopped)
	}()
	for d.ctx.Err() == nil { // Stop has begun: the timers are ended
		time.Sleep(time.Millisecond)
	}
	close(c.release)
	<-stopped
	_, most, sent := c.counts("a")
	c.mu.Lock()
	started := sent + c.now["a"]
	c.mu.Unlock()
	if sent != 1 || started != 1 || most != 1 {
		t.Errorf("%d deliveries done, %d started, %d at most at once; want the one in progress at Stop only", sent, started, most)
	}
}

// TestDispatcherReloadStopsWorkersOfDroppedReceivers renames the only
// receiver at each reload: the delivery workers of the receivers dropped
// stop, rather than waiting for the dispatcher's end.
func TestDispatcherReloadStopsWorkersOfDroppedReceivers(t *testing.T) {
	f := &fakeNotifier{}
	route := func(receiver string) string {
		return fmt.Sprintf(`
route {
  receiver       = %q
  group_by       = ["alertname"]
  group_wait     = "10ms"
  group_interval = "1m"
}`, receiver)
	}
	names := []string{"a", "b", "c", "d"}
	d := newTestDispatcherWith(t, Options{Store: openStoreForTest(t, t.TempDir()), NotifyConcurrency: 8}, f, route(names[0]))
	d.Receive([]*Alert{firing("alertname", "Down0")})
	f.waitSent(t, 1)
	baseline := runtime.NumGoroutine()
	for i := 1; i <= 5; i++ {
		if err := d.ApplyConfig(t.Context(), routeConfig(t, route(names[i%len(names)]))); err != nil {
			t.Fatal(err)
		}
		d.Receive([]*Alert{firing("alertname", fmt.Sprintf("Down%d", i))})
		f.waitSent(t, i+1)
	}
	d.mu.Lock()
	receivers := slices.Sorted(maps.Keys(d.workers))
	d.mu.Unlock()
	if !slices.Equal(receivers, []string{"b"}) {
		t.Errorf("delivery workers of receivers %v, want only b's", receivers)
	}
	// Each reload may leave a group goroutine; the 8 workers of each
	// dropped receiver must go.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline+5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after 5 reloads, %d before: the dropped receivers' workers still run", runtime.NumGoroutine(), baseline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
