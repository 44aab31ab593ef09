package alert

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// Defaults of the dispatcher's Options.
const (
	// DefaultNotifyTimeout bounds one delivery attempt to a notifier
	// whose block sets no timeout.
	DefaultNotifyTimeout = hclconfig.DefaultNotifyTimeout
	// DefaultRetryBackoff is the wait before the first retry of a failed
	// delivery; it doubles, with jitter, up to MaxRetryBackoff.
	DefaultRetryBackoff = time.Second
	// MaxRetryBackoff is the longest wait between two delivery attempts.
	MaxRetryBackoff = time.Minute
	// DefaultNotificationLogRetention is how long the notification log
	// keeps an entry after its notification, as Alertmanager's
	// --data.retention.
	DefaultNotificationLogRetention = 120 * time.Hour
	// DefaultGCInterval is how often the silences and the notification
	// log are cleared of what expired.
	DefaultGCInterval = 15 * time.Minute
	// DefaultNotifyConcurrency is how many delivery attempts to one
	// receiver may be in progress at once; the others wait their turn.
	DefaultNotifyConcurrency = 16
)

// Alert is an alert as the rules send it.
type Alert struct {
	Labels      labels.Labels
	Annotations labels.Labels
	// StartsAt is when the alert began firing. EndsAt is when it
	// resolved or, while it fires, until when it is valid without being
	// sent again; zero means it fires until further notice.
	StartsAt, EndsAt time.Time
	// GeneratorURL links to the expression that produced the alert.
	GeneratorURL string
}

// Fingerprint identifies the alert by its labels.
func (a *Alert) Fingerprint() uint64 { return a.Labels.Hash() }

// Resolved says whether the alert is resolved at now: whether its EndsAt
// is set and not after now.
func (a *Alert) Resolved(now time.Time) bool {
	return !a.EndsAt.IsZero() && !a.EndsAt.After(now)
}

// Options configure a Dispatcher. Store and Notifiers are required; the
// zero value of the others takes the default in its comment.
type Options struct {
	// Store holds the silences that mute alerts and the notification log.
	Store *Store
	// Notifiers returns the notifier of a receiver, the instance of the
	// notifier block of that name; pluginhost.Host.Notifier is one.
	Notifiers func(name string) (sdk.Notifier, bool)
	// ExternalURL is where people reach the server; notifications carry
	// it. Default: none.
	ExternalURL string
	// Logger receives the dispatcher's log lines. Default: none.
	Logger hclog.Logger
	// NotifyTimeout bounds one delivery attempt to a receiver whose
	// notifier block sets no timeout. Default: DefaultNotifyTimeout.
	NotifyTimeout time.Duration
	// RetryBackoff is the wait before the first retry. Default:
	// DefaultRetryBackoff.
	RetryBackoff time.Duration
	// GCInterval is how often expired silences and notification log
	// entries are deleted. Default: DefaultGCInterval.
	GCInterval time.Duration
	// NotifyConcurrency bounds the delivery attempts to one receiver in
	// progress at once; the others wait, in the order they became due.
	// When many groups are due at the same moment (after their
	// group_wait, say), all of them at once would share the CPU and the
	// notifier until the last is done, each finishing late; in turn, the
	// first are delivered at once. Default: DefaultNotifyConcurrency.
	NotifyConcurrency int
}

// Dispatcher receives the alerts of the rules, groups them along the
// routing tree and delivers each group's notifications to its receiver,
// as Alertmanager's dispatcher and notification pipeline do. Its methods
// are safe for concurrent use.
type Dispatcher struct {
	opts    Options
	logger  hclog.Logger
	metrics *Metrics
	// ctx ends with Stop: the timers stop. deliveries ends later, so that
	// a notification on its way is delivered and logged.
	ctx              context.Context
	cancel           context.CancelFunc
	deliveries       context.Context
	cancelDeliveries context.CancelFunc
	wg               sync.WaitGroup

	mu        sync.Mutex
	stopped   bool
	route     *Route
	inhibitor *Inhibitor
	// quietResolved holds the receivers whose notifier block sets
	// send_resolved = false; timeouts the notifier blocks' timeouts.
	quietResolved map[string]bool
	timeouts      map[string]time.Duration
	// workers are each receiver's delivery workers.
	workers map[string]*receiverWorkers
	alerts  map[uint64]*Alert     // every alert of a group, by fingerprint
	sources map[uint64]*Alert     // those of alerts that may inhibit others
	updated map[uint64]time.Time  // when each alert was last received
	groups  map[string]*aggrGroup // by route ID and group labels
	// maxAlerts bounds len(alerts): the global block's max_alerts; 0
	// sets no bound.
	maxAlerts int

	// afterFlush, when set, is called after each flush; tests set it.
	afterFlush func(groupID string)
}

// NewDispatcher returns a dispatcher with no routes: ApplyConfig gives it
// some. It starts the periodic GC of the store; Run's end, or Stop, ends
// it.
func NewDispatcher(opts Options) *Dispatcher {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.NotifyTimeout <= 0 {
		opts.NotifyTimeout = DefaultNotifyTimeout
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	if opts.GCInterval <= 0 {
		opts.GCInterval = DefaultGCInterval
	}
	if opts.NotifyConcurrency <= 0 {
		opts.NotifyConcurrency = DefaultNotifyConcurrency
	}
	ctx, cancel := context.WithCancel(context.Background())
	deliveries, cancelDeliveries := context.WithCancel(context.Background())
	d := &Dispatcher{
		opts:             opts,
		logger:           opts.Logger,
		metrics:          newMetrics(),
		ctx:              ctx,
		cancel:           cancel,
		deliveries:       deliveries,
		cancelDeliveries: cancelDeliveries,
		inhibitor:        NewInhibitor(nil),
		alerts:           map[uint64]*Alert{},
		sources:          map[uint64]*Alert{},
		updated:          map[uint64]time.Time{},
		groups:           map[string]*aggrGroup{},
		workers:          map[string]*receiverWorkers{},
	}
	d.wg.Add(1)
	go d.runGC()
	return d
}

// Collector returns the collector of the dispatcher's metrics.
func (d *Dispatcher) Collector() *Metrics { return d.metrics }

// ApplyConfig makes cfg's route, inhibit and time_interval blocks the
// ones in effect. The groups of routes that are still in the tree keep
// their alerts and timers; the others are dropped, and their alerts go
// through the new tree.
func (d *Dispatcher) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	route, err := NewRoute(cfg)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return nil
	}
	d.route = route
	d.stopWorkersOf(route)
	d.maxAlerts = cfg.Global.MaxAlerts
	d.inhibitor = NewInhibitor(cfg.Inhibits)
	d.quietResolved = map[string]bool{}
	d.timeouts = map[string]time.Duration{}
	for _, n := range cfg.Notifiers {
		if !n.SendResolved {
			d.quietResolved[n.Name] = true
		}
		if n.Timeout > 0 {
			d.timeouts[n.Name] = n.Timeout
		}
	}
	routes := map[string]*Route{}
	if route != nil {
		route.Walk(func(r *Route) { routes[r.ID()] = r })
	}
	for id, g := range d.groups {
		if r, ok := routes[g.route.ID()]; ok {
			g.route = r
			// Alerts that the new tree sends elsewhere leave the group.
			maps.DeleteFunc(g.alerts, func(_ uint64, a *Alert) bool { return !d.routesTo(a, id) })
			if len(g.alerts) > 0 {
				continue
			}
		}
		g.stop()
		delete(d.groups, id)
	}
	clear(d.sources)
	for fp, a := range d.alerts {
		d.insert(a)
		if d.inhibitor.IsSource(a.Labels) {
			d.sources[fp] = a
		}
	}
	d.dropUngrouped()
	return nil
}

// ErrTooManyAlerts is the error of Receive when it refused alerts: the
// dispatcher holds the global block's max_alerts already.
var ErrTooManyAlerts = errors.New("too many alerts")

// Receive takes alerts, from the rules or the Alertmanager API: new ones,
// and new states of those received before, told apart by their labels.
// As in Alertmanager, a new state of an alert that has not resolved keeps
// the earlier start. The dispatcher keeps the alerts: callers must not
// change them afterwards. While it holds max_alerts alerts, it refuses
// new ones, though not new states of those it holds: it takes the others,
// counts the refused ones in vigil_alerts_limited_total, and returns an
// error that wraps ErrTooManyAlerts.
func (d *Dispatcher) Receive(alerts []*Alert) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped || d.route == nil {
		return nil // without a route block, alerts go nowhere
	}
	now := time.Now()
	refused := 0
	for _, a := range alerts {
		fp := a.Fingerprint()
		old, known := d.alerts[fp]
		if !known && d.maxAlerts > 0 && len(d.alerts) >= d.maxAlerts {
			refused++
			continue
		}
		if known && !old.Resolved(now) && old.StartsAt.Before(a.StartsAt) {
			merged := *a
			merged.StartsAt = old.StartsAt
			a = &merged
		}
		d.alerts[fp] = a
		d.updated[fp] = now
		if d.inhibitor.IsSource(a.Labels) {
			d.sources[fp] = a
		}
		d.insert(a) // the root takes every alert: each is in a group
	}
	if refused == 0 {
		return nil
	}
	d.metrics.limited.Add(float64(refused))
	d.logger.Warn("alerts refused: the server holds its maximum of alerts (global max_alerts)", "refused", refused, "received", len(alerts), "max_alerts", d.maxAlerts)
	return fmt.Errorf("%w: %d of %d alerts refused, as the server holds its maximum of %d alerts (global max_alerts); new states of those it holds are taken",
		ErrTooManyAlerts, refused, len(alerts), d.maxAlerts)
}

// insert puts a into the groups of the routes it matches, creating those
// it lacks. d.mu must be held.
func (d *Dispatcher) insert(a *Alert) {
	if d.route == nil {
		return
	}
	fp := a.Fingerprint()
	for _, r := range d.route.Match(a.Labels) {
		id := groupID(r, a.Labels)
		g, ok := d.groups[id]
		if !ok {
			g = d.newGroup(id, r, a)
			d.groups[id] = g
		}
		g.alerts[fp] = a
	}
}

// routesTo says whether the routing tree puts a in the group id. d.mu
// must be held.
func (d *Dispatcher) routesTo(a *Alert, id string) bool {
	for _, r := range d.route.Match(a.Labels) {
		if groupID(r, a.Labels) == id {
			return true
		}
	}
	return false
}

// groupID identifies the group of lset on route r among all groups: the
// group key with the route's ID, which tells apart siblings of the same
// matchers.
func groupID(r *Route, lset labels.Labels) string {
	return r.ID() + ":" + r.GroupLabels(lset).String()
}

// dropUngrouped forgets the alerts no group holds. d.mu must be held.
func (d *Dispatcher) dropUngrouped() {
	held := map[uint64]bool{}
	for _, g := range d.groups {
		for fp := range g.alerts {
			held[fp] = true
		}
	}
	for fp := range d.alerts {
		if !held[fp] {
			d.forget(fp)
		}
	}
}

// forgetUngrouped forgets those of the alerts fps that no group holds any
// more: dropUngrouped for a few alerts. d.mu must be held.
func (d *Dispatcher) forgetUngrouped(fps []uint64) {
	for _, fp := range fps {
		held := false
		for _, g := range d.groups {
			if _, held = g.alerts[fp]; held {
				break
			}
		}
		if !held {
			d.forget(fp)
		}
	}
}

// forget drops the alert fp from the dispatcher. d.mu must be held.
func (d *Dispatcher) forget(fp uint64) {
	delete(d.alerts, fp)
	delete(d.sources, fp)
	delete(d.updated, fp)
}

// AlertStatus is an alert of the dispatcher with its state at the time
// it was asked for, as Alertmanager's API shows it.
type AlertStatus struct {
	Alert
	// UpdatedAt is when the rules last sent the alert.
	UpdatedAt time.Time
	// Receivers are the receivers of the groups holding the alert, sorted.
	Receivers []string
	// SilencedBy are the IDs of the silences muting the alert.
	SilencedBy []string
	// InhibitedBy holds the fingerprint of the firing alert that
	// inhibits this one, if any.
	InhibitedBy []uint64
}

// Suppressed says whether the alert is silenced or inhibited.
func (s *AlertStatus) Suppressed() bool { return len(s.SilencedBy) > 0 || len(s.InhibitedBy) > 0 }

// AlertGroup is an aggregation group with the states of its alerts.
type AlertGroup struct {
	// Labels are the group labels; Receiver is the route's receiver.
	Labels   labels.Labels
	Receiver string
	Alerts   []AlertStatus
}

// Alerts returns the alerts that fire at now, sorted by labels, with
// whether silences or inhibit rules mute them at now. Resolved alerts
// are left out.
func (d *Dispatcher) Alerts(now time.Time) []AlertStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	receivers := map[uint64][]string{}
	for _, g := range d.groups {
		for fp := range g.alerts {
			receivers[fp] = append(receivers[fp], g.route.Receiver)
		}
	}
	firing := d.firingSources(now)
	var out []AlertStatus
	for fp, a := range d.alerts {
		if a.Resolved(now) {
			continue
		}
		s := d.status(a, firing, now)
		s.Receivers = slices.Compact(slices.Sorted(slices.Values(receivers[fp])))
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y AlertStatus) int { return labels.Compare(x.Labels, y.Labels) })
	return out
}

// Groups returns the aggregation groups with the alerts of each that
// fire at now, as Alerts, sorted by receiver and group labels. Groups
// with no firing alert are left out.
func (d *Dispatcher) Groups(now time.Time) []AlertGroup {
	d.mu.Lock()
	defer d.mu.Unlock()
	firing := d.firingSources(now)
	var out []AlertGroup
	for _, g := range d.groups {
		ag := AlertGroup{Labels: g.labels, Receiver: g.route.Receiver}
		for _, a := range g.alerts {
			if a.Resolved(now) {
				continue
			}
			s := d.status(a, firing, now)
			s.Receivers = []string{g.route.Receiver}
			ag.Alerts = append(ag.Alerts, s)
		}
		if len(ag.Alerts) == 0 {
			continue
		}
		slices.SortFunc(ag.Alerts, func(x, y AlertStatus) int { return labels.Compare(x.Labels, y.Labels) })
		out = append(out, ag)
	}
	slices.SortFunc(out, func(x, y AlertGroup) int {
		if x.Receiver != y.Receiver {
			return strings.Compare(x.Receiver, y.Receiver)
		}
		return labels.Compare(x.Labels, y.Labels)
	})
	return out
}

// firingSources returns the labels of the alerts that fire at now and
// may inhibit others, for the inhibitor. d.mu must be held.
func (d *Dispatcher) firingSources(now time.Time) []labels.Labels {
	var out []labels.Labels
	for _, a := range d.sources {
		if !a.Resolved(now) {
			out = append(out, a.Labels)
		}
	}
	return out
}

// status returns a's state at now, without receivers. d.mu must be held.
func (d *Dispatcher) status(a *Alert, firing []labels.Labels, now time.Time) AlertStatus {
	s := AlertStatus{Alert: *a, UpdatedAt: d.updated[a.Fingerprint()]}
	s.SilencedBy = d.opts.Store.Silences().Mutes(a.Labels, now)
	if i, ok := d.inhibitor.Source(a.Labels, firing); ok {
		s.InhibitedBy = []uint64{firing[i].Hash()}
	}
	return s
}

// Run waits for ctx to end, then stops the dispatcher as Stop does.
func (d *Dispatcher) Run(ctx context.Context) error {
	<-ctx.Done()
	d.Stop()
	return nil
}

// Stop ends the timers and waits for the deliveries in progress: each
// may finish its attempt, within its notifier's timeout, and is logged, so
// that a restart does not send it again; none is retried. Call it before
// the store closes. Alerts received later are ignored.
func (d *Dispatcher) Stop() {
	d.mu.Lock()
	d.stopped = true
	grace := d.opts.NotifyTimeout
	for _, t := range d.timeouts {
		grace = max(grace, t)
	}
	d.mu.Unlock()
	d.cancel()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		d.logger.Warn("notifications still in progress at shutdown are cancelled", "after", grace)
	}
	d.cancelDeliveries()
	<-done
}

// runGC deletes the expired silences and notification log entries every
// GCInterval until the dispatcher stops.
func (d *Dispatcher) runGC() {
	defer d.wg.Done()
	t := time.NewTicker(d.opts.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case now := <-t.C:
			if _, err := d.opts.Store.Silences().GC(now); err != nil {
				d.logger.Error("cannot delete expired silences", "error", err)
			}
			if _, err := d.opts.Store.NotificationLog().GC(now); err != nil {
				d.logger.Error("cannot delete expired notification log entries", "error", err)
			}
		}
	}
}

// aggrGroup is an aggregation group: the alerts of one route that share
// the values of its group labels, notified together.
type aggrGroup struct {
	id     string
	labels labels.Labels // the group labels
	route  *Route        // guarded by the dispatcher's mu
	alerts map[uint64]*Alert
	cancel context.CancelFunc
}

// newGroup creates the group id of route r for its first alert a and
// starts its timer: the first flush comes after the route's group_wait,
// at once when a started longer ago than that (after a restart, say).
// d.mu must be held.
func (d *Dispatcher) newGroup(id string, r *Route, a *Alert) *aggrGroup {
	ctx, cancel := context.WithCancel(d.ctx)
	g := &aggrGroup{id: id, labels: r.GroupLabels(a.Labels), route: r, alerts: map[uint64]*Alert{}, cancel: cancel}
	wait := r.GroupWait
	if a.StartsAt.Add(wait).Before(time.Now()) {
		wait = 0
	}
	// The timer starts now, with the group, rather than when runGroup's
	// goroutine first runs, which may be later on a busy server.
	timer := time.NewTimer(wait)
	d.wg.Add(1)
	go d.runGroup(ctx, g, timer)
	return g
}

func (g *aggrGroup) stop() { g.cancel() }

// runGroup flushes g when timer fires, then every group_interval of its
// route, until ctx ends.
func (d *Dispatcher) runGroup(ctx context.Context, g *aggrGroup, timer *time.Timer) {
	defer d.wg.Done()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if ctx.Err() != nil {
			return // stopped while the timer fired
		}
		d.mu.Lock()
		interval := g.route.GroupInterval
		d.mu.Unlock()
		// Retries of the flush end when the next one is due. A flush
		// outlives its group's timer, not the dispatcher's deliveries.
		flushCtx, cancel := context.WithTimeout(d.deliveries, interval)
		d.flush(flushCtx, g)
		cancel()
		if d.afterFlush != nil {
			d.afterFlush(g.id)
		}
		timer.Reset(interval)
	}
}

// flush sends g's notification when one is due. Alerts that are silenced
// or inhibited are left out; nothing is sent while the route is muted by
// its time intervals. When nothing failed, the resolved alerts that were
// considered are dropped from the group, and an empty group ends.
func (d *Dispatcher) flush(ctx context.Context, g *aggrGroup) {
	now := time.Now()
	d.mu.Lock()
	route := g.route
	sources := d.firingSources(now)
	sendResolved := !d.quietResolved[route.Receiver]
	var (
		send     []*Alert
		resolved []heldAlert // those considered, dropped if all goes well
	)
	for fp, a := range g.alerts {
		if a.Resolved(now) {
			resolved = append(resolved, heldAlert{fp, a})
		}
		if len(d.opts.Store.Silences().Mutes(a.Labels, now)) > 0 || d.inhibitor.Inhibited(a.Labels, sources) {
			continue
		}
		send = append(send, a)
	}
	d.mu.Unlock()

	err := d.notifyGroup(ctx, g, route, send, sendResolved, now)
	if err != nil {
		if d.ctx.Err() != nil {
			return // stopping
		}
		d.logger.Error("cannot deliver notification", "receiver", route.Receiver, "group", route.GroupKey(g.labels), "error", err)
		return
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	var dropped []uint64
	for _, h := range resolved {
		if g.alerts[h.fp] == h.a { // not received again since
			delete(g.alerts, h.fp)
			dropped = append(dropped, h.fp)
		}
	}
	if len(g.alerts) == 0 && d.groups[g.id] == g {
		g.stop()
		delete(d.groups, g.id)
	}
	d.forgetUngrouped(dropped)
}

// heldAlert is an alert of a group with its fingerprint.
type heldAlert struct {
	fp uint64
	a  *Alert
}

// notifyGroup delivers the alerts of g to the route's receiver unless the
// route is muted or the notification log says it is not due, and logs
// the delivery. Without sendResolved the resolved alerts are left out of
// the notification, and one with none firing is logged but not sent, as
// Alertmanager does.
func (d *Dispatcher) notifyGroup(ctx context.Context, g *aggrGroup, route *Route, alerts []*Alert, sendResolved bool, now time.Time) error {
	if len(alerts) == 0 || route.Muted(now) {
		return nil
	}
	var firing, resolved []uint64
	for _, a := range alerts {
		if a.Resolved(now) {
			resolved = append(resolved, a.Fingerprint())
		} else {
			firing = append(firing, a.Fingerprint())
		}
	}
	groupKey := route.GroupKey(g.labels)
	nflog := d.opts.Store.NotificationLog()
	var last *Entry
	if e, ok := nflog.Query(route.Receiver, groupKey); ok {
		last = &e
	}
	if !NeedsUpdate(last, firing, resolved, route.RepeatInterval, now, sendResolved) {
		return nil
	}
	if !sendResolved {
		alerts = slices.DeleteFunc(alerts, func(a *Alert) bool { return a.Resolved(now) })
	}
	if len(alerts) > 0 {
		build := func() *sdk.Notification { return d.notification(route.Receiver, groupKey, g.labels, alerts, now) }
		if err := d.deliver(ctx, route.Receiver, build); err != nil {
			return err
		}
	}
	retention := max(DefaultNotificationLogRetention, 2*route.RepeatInterval)
	if err := nflog.Log(route.Receiver, groupKey, firing, resolved, now, retention); err != nil {
		return fmt.Errorf("notification delivered but not logged: %w", err)
	}
	return nil
}

// notification builds the message of the alerts of a group, Alertmanager's
// webhook message: the alerts are sorted by labels.
func (d *Dispatcher) notification(receiver, groupKey string, groupLabels labels.Labels, alerts []*Alert, now time.Time) *sdk.Notification {
	slices.SortFunc(alerts, func(a, b *Alert) int { return labels.Compare(a.Labels, b.Labels) })
	n := &sdk.Notification{
		Version:           "4",
		GroupKey:          groupKey,
		Status:            "resolved",
		Receiver:          receiver,
		GroupLabels:       groupLabels.Map(),
		CommonLabels:      alerts[0].Labels.Map(),
		CommonAnnotations: alerts[0].Annotations.Map(),
		ExternalURL:       d.opts.ExternalURL,
		Alerts:            make([]sdk.Alert, 0, len(alerts)),
	}
	for _, a := range alerts {
		status := "resolved"
		var endsAt time.Time
		if a.Resolved(now) {
			endsAt = a.EndsAt
		} else {
			status, n.Status = "firing", "firing"
		}
		n.Alerts = append(n.Alerts, sdk.Alert{
			Status:       status,
			Labels:       a.Labels.Map(),
			Annotations:  a.Annotations.Map(),
			StartsAt:     a.StartsAt,
			EndsAt:       endsAt,
			GeneratorURL: a.GeneratorURL,
			Fingerprint:  fingerprintString(a.Fingerprint()),
		})
		keepCommon(n.CommonLabels, a.Labels)
		keepCommon(n.CommonAnnotations, a.Annotations)
	}
	return n
}

// fingerprintString is fp as Alertmanager writes a fingerprint: 16
// hexadecimal digits.
func fingerprintString(fp uint64) string {
	return hex.EncodeToString(binary.BigEndian.AppendUint64(make([]byte, 0, 8), fp))
}

// keepCommon deletes from common the entries lset does not share.
func keepCommon(common map[string]string, lset labels.Labels) {
	maps.DeleteFunc(common, func(k, v string) bool { return lset.Get(k) != v || !lset.Has(k) })
}
