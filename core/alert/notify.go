package alert

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilmon/vigil/sdk"
)

// Reasons of vigil_notifications_failed_total and
// vigil_notification_requests_failed_total.
const (
	reasonPermanent  = "permanent"   // the notifier said retrying will not help
	reasonTimeout    = "timeout"     // the attempt took longer than the notifier's timeout
	reasonNoNotifier = "no_notifier" // the receiver's notifier is not running
	reasonOther      = "other"       // any other error, retried
)

// deliver sends the notification that build makes to the notifier of
// receiver. Each attempt waits for one of the receiver's delivery workers
// (Options.NotifyConcurrency of them), which builds the notification
// when it first takes it, so that groups waiting their turn do not hold
// theirs, and makes the attempt on its own stack: the group's goroutine
// stays small. A failed attempt is retried, after a backoff that doubles
// with jitter, until ctx ends; an error marked with sdk.Permanent is not,
// nor any once the dispatcher stops. As in Alertmanager, the notification
// counts once in vigil_notifications_total, and in
// vigil_notifications_failed_total when it fails for good; each attempt
// counts in vigil_notification_requests_total.
func (d *Dispatcher) deliver(ctx context.Context, receiver string, build func() *sdk.Notification) error {
	d.metrics.total.WithLabelValues(receiver).Inc()
	d.mu.Lock()
	timeout, ok := d.timeouts[receiver]
	d.mu.Unlock()
	if !ok {
		timeout = d.opts.NotifyTimeout
	}
	backoff := d.opts.RetryBackoff
	job := &deliveryJob{ctx: ctx, receiver: receiver, build: build, timeout: timeout, done: make(chan struct{}, 1)}
	for attempt := 1; ; attempt++ {
		if err := d.handOver(ctx, job); err != nil {
			d.metrics.failed.WithLabelValues(receiver, reasonOther).Inc()
			return fmt.Errorf("notify %q, attempt %d: %w", receiver, attempt, err)
		}
		<-job.done
		reason, err := job.reason, job.err
		if err == errStopped {
			d.metrics.failed.WithLabelValues(receiver, reasonOther).Inc()
			return fmt.Errorf("notify %q, attempt %d: %w", receiver, attempt, err)
		}
		if err == nil {
			return nil
		}
		if sdk.IsPermanent(err) {
			d.metrics.failed.WithLabelValues(receiver, reason).Inc()
			return fmt.Errorf("notify %q, attempt %d, not retried: %w", receiver, attempt, err)
		}
		if d.ctx.Err() != nil {
			d.metrics.failed.WithLabelValues(receiver, reason).Inc()
			return fmt.Errorf("notify %q, attempt %d, not retried at shutdown: %w", receiver, attempt, err)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		d.logger.Warn("notification failed; retrying", "receiver", receiver, "attempt", attempt, "retry_in", wait, "error", err)
		select {
		case <-ctx.Done():
			d.metrics.failed.WithLabelValues(receiver, reason).Inc()
			return fmt.Errorf("notify %q: gave up after %d attempts: %w", receiver, attempt, err)
		case <-d.ctx.Done():
			d.metrics.failed.WithLabelValues(receiver, reason).Inc()
			return fmt.Errorf("notify %q: stopped after %d attempts: %w", receiver, attempt, err)
		case <-time.After(wait):
		}
		backoff = min(2*backoff, MaxRetryBackoff)
	}
}

// deliveryJob is a notification handed to a receiver's delivery worker,
// one attempt at a time.
type deliveryJob struct {
	ctx      context.Context
	receiver string
	build    func() *sdk.Notification
	n        *sdk.Notification // built at the first attempt
	timeout  time.Duration
	// done receives a value when an attempt ends, with its reason and
	// err.
	done   chan struct{}
	reason string
	err    error
}

// attempt makes one delivery attempt, bounded by timeout, and counts it;
// a failure comes with its reason.
func (d *Dispatcher) attempt(ctx context.Context, receiver string, n *sdk.Notification, timeout time.Duration) (reason string, err error) {
	d.metrics.requests.WithLabelValues(receiver).Inc()
	defer func() {
		if err != nil {
			d.metrics.requestsFailed.WithLabelValues(receiver, reason).Inc()
		}
	}()
	notifier, ok := d.opts.Notifiers(receiver)
	if !ok {
		return reasonNoNotifier, fmt.Errorf("notifier %q is not running", receiver)
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err = notifier.Notify(actx, n)
	d.metrics.latency.WithLabelValues(receiver).Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		return "", nil
	case sdk.IsPermanent(err):
		return reasonPermanent, err
	case errors.Is(err, context.DeadlineExceeded) || actx.Err() != nil:
		return reasonTimeout, err
	}
	return reasonOther, err
}

// errStopped is the error of a delivery that had not started when the
// dispatcher stopped: it is not started then, as none is retried.
var errStopped = errors.New("the dispatcher stopped before the delivery could start")

// receiverWorkers are the delivery workers of one receiver: they take
// jobs from jobs until quit closes, when a reload drops the receiver, or
// the dispatcher stops.
type receiverWorkers struct {
	jobs chan *deliveryJob
	quit chan struct{}
}

// handOver waits, until ctx ends, the dispatcher stops or a reload drops
// the receiver, for one of receiver's delivery workers
// (Options.NotifyConcurrency of them, started with its first delivery)
// to take job. Waiters are taken in the order they came.
func (d *Dispatcher) handOver(ctx context.Context, job *deliveryJob) error {
	d.mu.Lock()
	w, ok := d.workers[job.receiver]
	if !ok {
		w = &receiverWorkers{jobs: make(chan *deliveryJob), quit: make(chan struct{})}
		d.workers[job.receiver] = w
		for range d.opts.NotifyConcurrency {
			d.wg.Add(1)
			go d.deliveryWorker(w)
		}
	}
	d.mu.Unlock()
	select {
	case w.jobs <- job:
		return nil
	case <-d.ctx.Done():
		return errStopped
	case <-w.quit:
		return fmt.Errorf("receiver %q is no longer in the configuration", job.receiver)
	case <-ctx.Done():
		return fmt.Errorf("no delivery to %q could start before the next group_interval, with %d in progress at most: %w", job.receiver, d.opts.NotifyConcurrency, context.Cause(ctx))
	}
}

// deliveryWorker makes the attempts of the jobs it takes from w, one at a
// time, until the dispatcher stops or w quits.
func (d *Dispatcher) deliveryWorker(w *receiverWorkers) {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-w.quit:
			return
		case job := <-w.jobs:
			if d.ctx.Err() != nil {
				job.reason, job.err = "", errStopped
			} else {
				if job.n == nil {
					job.n = job.build()
				}
				job.reason, job.err = d.attempt(job.ctx, job.receiver, job.n, job.timeout)
			}
			job.done <- struct{}{}
		}
	}
}

// stopWorkersOf stops the delivery workers of the receivers routes do not
// name: once their attempts in progress end, and those waiting for one
// fail. d.mu must be held.
func (d *Dispatcher) stopWorkersOf(route *Route) {
	receivers := map[string]bool{}
	if route != nil {
		route.Walk(func(r *Route) { receivers[r.Receiver] = true })
	}
	for name, w := range d.workers {
		if !receivers[name] {
			close(w.quit)
			delete(d.workers, name)
		}
	}
}

// Metrics are the dispatcher's metrics; register them with a
// prometheus.Registerer. They are Alertmanager's notification metrics:
// notifications, and the requests (attempts) that deliver them.
type Metrics struct {
	total          *prometheus.CounterVec
	failed         *prometheus.CounterVec
	requests       *prometheus.CounterVec
	requestsFailed *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	limited        prometheus.Counter
}

func newMetrics() *Metrics {
	return &Metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_notifications_total",
			Help: "Notifications the dispatcher set out to deliver, by receiver; retries do not count.",
		}, []string{"receiver"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_notifications_failed_total",
			Help: "Notifications that failed for good: a permanent error, or retries until the next group_interval. By receiver and the reason of the last attempt (permanent, timeout, no_notifier, other).",
		}, []string{"receiver", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_notification_requests_total",
			Help: "Attempts to deliver a notification, retries included, by receiver.",
		}, []string{"receiver"}),
		requestsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_notification_requests_failed_total",
			Help: "Failed attempts to deliver a notification, by receiver and reason (permanent, timeout, no_notifier, other).",
		}, []string{"receiver", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        "vigil_notification_latency_seconds",
			Help:                        "Time taken by one attempt to deliver a notification, by receiver.",
			Buckets:                     []float64{0.01, 0.1, 0.5, 1, 5, 10},
			NativeHistogramBucketFactor: 1.1,
		}, []string{"receiver"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_alerts_limited_total",
			Help: "Alerts refused because the dispatcher held the global block's max_alerts alerts.",
		}),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.total.Describe(ch)
	m.failed.Describe(ch)
	m.requests.Describe(ch)
	m.requestsFailed.Describe(ch)
	m.latency.Describe(ch)
	m.limited.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.total.Collect(ch)
	m.failed.Collect(ch)
	m.requests.Collect(ch)
	m.requestsFailed.Collect(ch)
	m.latency.Collect(ch)
	m.limited.Collect(ch)
}
