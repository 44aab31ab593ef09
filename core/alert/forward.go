package alert

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/notifier"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// DefaultForwardQueueCapacity is how many alerts wait for the external
// Alertmanagers before the oldest are dropped, as Prometheus's
// --alertmanager.notification-queue-capacity.
const DefaultForwardQueueCapacity = 10000

// Forwarder sends alerts to the external Alertmanagers of the
// configuration's alertmanager blocks through their v2 API. It is
// Prometheus's notifier.Manager, the code Prometheus sends its alerts
// with: a bounded queue, batches, and every Alertmanager of a block
// receiving every alert. Its metrics are Prometheus's
// prometheus_notifications_*.
type Forwarder struct {
	manager *notifier.Manager
	targets chan map[string][]*targetgroup.Group
	done    chan struct{}
	stop    sync.Once

	mu         sync.Mutex
	configured bool
}

// ForwarderOptions are what a Forwarder needs.
type ForwarderOptions struct {
	// Registerer receives the prometheus_notifications_* metrics; none
	// when nil.
	Registerer prometheus.Registerer
	// Logger receives the Forwarder's log lines; none when nil.
	Logger hclog.Logger
}

// NewForwarder returns a Forwarder with no Alertmanagers and starts it;
// ApplyConfig gives it some, Run's end, or Stop, ends it.
func NewForwarder(opts ForwarderOptions) *Forwarder {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	f := &Forwarder{
		manager: notifier.NewManager(&notifier.Options{
			QueueCapacity: DefaultForwardQueueCapacity,
			Registerer:    opts.Registerer,
		}, model.UTF8Validation, hclogslog.New(logger)),
		targets: make(chan map[string][]*targetgroup.Group),
		done:    make(chan struct{}),
	}
	go func() {
		defer close(f.done)
		f.manager.Run(f.targets)
	}()
	return f
}

// ApplyConfig makes cfg's alertmanager blocks and external labels the
// ones in effect. Each URL becomes a static target with its scheme and
// path prefix, as one alertmanager_config each in Prometheus.
func (f *Forwarder) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	promCfg := &config.Config{GlobalConfig: config.DefaultGlobalConfig}
	promCfg.GlobalConfig.ExternalLabels = labels.FromMap(cfg.Global.ExternalLabels)
	groups := map[string][]*targetgroup.Group{}
	for _, block := range cfg.Alertmanagers {
		for _, u := range block.URLs {
			amCfg := config.DefaultAlertmanagerConfig
			amCfg.Scheme = u.Scheme
			amCfg.PathPrefix = u.Path
			amCfg.Timeout = model.Duration(block.Timeout)
			amCfg.HTTPClientConfig = block.HTTPClient.Config(amCfg.HTTPClientConfig)
			if u.User != nil {
				amCfg.HTTPClientConfig.BasicAuth = basicAuth(u)
			}
			if err := amCfg.HTTPClientConfig.Validate(); err != nil {
				return fmt.Errorf("alertmanager %s: %w", u.Redacted(), err)
			}
			key := fmt.Sprintf("config-%d", len(promCfg.AlertingConfig.AlertmanagerConfigs))
			promCfg.AlertingConfig.AlertmanagerConfigs = append(promCfg.AlertingConfig.AlertmanagerConfigs, &amCfg)
			groups[key] = []*targetgroup.Group{{
				Source:  u.Redacted(),
				Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(u.Host)}},
			}}
		}
	}
	if err := f.manager.ApplyConfig(promCfg); err != nil {
		return fmt.Errorf("cannot apply the alertmanager blocks: %w", err)
	}
	f.mu.Lock()
	f.configured = len(groups) > 0
	f.mu.Unlock()
	select {
	case f.targets <- groups:
	case <-f.done:
	}
	return nil
}

// Send queues alerts for the external Alertmanagers; without any it does
// nothing. The external labels are added to alerts that lack them.
func (f *Forwarder) Send(alerts []*Alert) {
	f.mu.Lock()
	configured := f.configured
	f.mu.Unlock()
	if !configured {
		return
	}
	out := make([]*notifier.Alert, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, &notifier.Alert{
			Labels:       a.Labels,
			Annotations:  a.Annotations,
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: a.GeneratorURL,
		})
	}
	f.manager.Send(out...)
}

// Alertmanagers returns the URLs alerts are posted to.
func (f *Forwarder) Alertmanagers() []string {
	var out []string
	for _, u := range f.manager.Alertmanagers() {
		out = append(out, u.Redacted())
	}
	return out
}

// Run waits for ctx to end, then stops the Forwarder as Stop does.
func (f *Forwarder) Run(ctx context.Context) error {
	<-ctx.Done()
	f.Stop()
	return nil
}

// Stop ends the Forwarder; alerts still queued are dropped.
func (f *Forwarder) Stop() {
	f.stop.Do(func() {
		f.manager.Stop()
		<-f.done
	})
}

// basicAuth returns the credentials of a URL's user information.
func basicAuth(u *url.URL) *commoncfg.BasicAuth {
	password, _ := u.User.Password()
	return &commoncfg.BasicAuth{Username: u.User.Username(), Password: commoncfg.Secret(password)}
}
