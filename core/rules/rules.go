// Package rules evaluates recording and alerting rules with the upstream
// Prometheus rules manager, on Vigil's store and query engine. The rules
// come from the configuration's rules blocks, served to the manager by a
// GroupLoader of this package, and from Prometheus YAML rule files
// (rule_files), which the manager reads itself. Recorded series, ALERTS
// and ALERTS_FOR_STATE go into the store; the `for` state of alerts is
// restored from ALERTS_FOR_STATE when the server starts again.
//
// Start with NewManager, then ApplyConfig, Run and Stop. RuleGroups and
// AlertingRules feed /api/v1/rules and /api/v1/alerts. The alerts the
// rules send go to Options.Notify: the alert dispatcher of core/alert.
package rules

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/hclogslog"
)

// Defaults of the alert state, as Prometheus's --rules.alert.* flags have
// them.
const (
	// DefaultOutageTolerance is how long the server may be down and still
	// restore the `for` state of its alerts.
	DefaultOutageTolerance = time.Hour
	// DefaultForGracePeriod is the least time an alert waits, after a
	// restart, before it fires again when its `for` is at least as long.
	DefaultForGracePeriod = 10 * time.Minute
	// DefaultResendDelay is how long an alert waits before it is sent again.
	DefaultResendDelay = time.Minute
)

// Storage is where rules read and write series: core/tsdb is one.
type Storage interface {
	storage.Queryable
	storage.AppendableV2
}

// Options configure a Manager. Store and Engine are required; the zero
// value of the others takes the default in its comment.
type Options struct {
	// Store holds the series the rules read, and receives the recorded
	// series, ALERTS and ALERTS_FOR_STATE.
	Store Storage
	// Engine evaluates the rules' expressions.
	Engine promql.QueryEngine
	// Queryable, when set, is what the rules' expressions read, such as
	// the store merged with other stores, as Prometheus's rules read its
	// fanout storage. Default: Store. The for state of alerts is always
	// restored from Store.
	Queryable storage.Queryable
	// ExternalURL is where people reach the server: alerts link to it and
	// templates see it as $externalURL. Default: none.
	ExternalURL *url.URL
	// Logger receives the manager's log lines. Default: none.
	Logger hclog.Logger
	// Notify receives the alerts the rules send, firing and resolved,
	// as Prometheus sends them to Alertmanager: alert.Intake's Send is
	// the server's. Default: the alerts are dropped.
	Notify func(alerts []*alert.Alert)
	// Registerer receives the prometheus_rule_* metrics. Default: none.
	Registerer prometheus.Registerer
	// OutageTolerance, ForGracePeriod and ResendDelay: see the defaults of
	// the same names.
	OutageTolerance time.Duration
	ForGracePeriod  time.Duration
	ResendDelay     time.Duration
}

// Manager evaluates the rule groups of the configuration in effect.
type Manager struct {
	manager     *rules.Manager
	loader      *groupLoader
	externalURL string
	cancel      context.CancelFunc

	mu sync.Mutex // serializes ApplyConfig
}

// New returns a manager with no rules; ApplyConfig gives it some and Run
// evaluates them.
func New(opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.OutageTolerance == 0 {
		opts.OutageTolerance = DefaultOutageTolerance
	}
	if opts.ForGracePeriod == 0 {
		opts.ForGracePeriod = DefaultForGracePeriod
	}
	if opts.ResendDelay == 0 {
		opts.ResendDelay = DefaultResendDelay
	}
	externalURL := ""
	if opts.ExternalURL != nil {
		externalURL = opts.ExternalURL.String()
	}
	logger := hclogslog.New(opts.Logger)
	p := parser.NewParser(parser.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		loader:      &groupLoader{parser: p, logger: logger},
		externalURL: externalURL,
		cancel:      cancel,
	}
	queryable := opts.Queryable
	if queryable == nil {
		queryable = opts.Store
	}
	m.manager = rules.NewManager(&rules.ManagerOptions{
		NameValidationScheme: model.UTF8Validation,
		ExternalURL:          opts.ExternalURL,
		QueryFunc:            rules.EngineQueryFunc(opts.Engine, queryable),
		NotifyFunc:           rules.SendAlerts(sender(opts.Notify), externalURL),
		Context:              ctx,
		AppendableV2:         opts.Store,
		Queryable:            opts.Store,
		Logger:               logger,
		Registerer:           opts.Registerer,
		OutageTolerance:      opts.OutageTolerance,
		ForGracePeriod:       opts.ForGracePeriod,
		ResendDelay:          opts.ResendDelay,
		GroupLoader:          m.loader,
		Parser:               p,
	})
	return m
}

// ApplyConfig makes cfg's rule groups the evaluated ones: those of its
// rules blocks and of the files its rule_files patterns match. A group
// that did not change keeps its state; a changed one takes over the
// state of its alerts. When a rule file cannot be loaded, the rules in
// effect stay and the error says so (the log has the details).
func (m *Manager) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var files []string
	seen := map[string]bool{}
	if len(cfg.RuleGroups) > 0 {
		files = append(files, cfg.File)
		seen[cfg.File] = true
	}
	m.loader.setConfigGroups(cfg.File, cfg.RuleGroups)
	for _, pattern := range cfg.RuleFiles {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return fmt.Errorf("cannot apply rule_files pattern %q: %w", pattern, err)
		}
		for _, f := range matches {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	err := m.manager.Update(cfg.Global.EvaluationInterval, files, labels.FromMap(cfg.Global.ExternalLabels), m.externalURL, nil)
	if err != nil {
		return fmt.Errorf("cannot apply the rules: %w", err)
	}
	return nil
}

// Run evaluates the rule groups, each in a goroutine of its own, until
// ctx ends; then it stops the evaluations and waits for those running to
// finish. Groups wait for Run, so that they do not query a store that is
// still being prepared. The manager cannot run again.
func (m *Manager) Run(ctx context.Context) error {
	go m.manager.Run()
	<-ctx.Done()
	m.manager.Stop()
	m.cancel()
	return nil
}

// RuleGroups returns the groups evaluated, sorted by file and name.
func (m *Manager) RuleGroups() []*rules.Group { return m.manager.RuleGroups() }

// AlertingRules returns the alerting rules of every group.
func (m *Manager) AlertingRules() []*rules.AlertingRule { return m.manager.AlertingRules() }

// groupLoader gives the rules manager the groups of the configuration's
// rules blocks, under the configuration file's name, and reads any other
// name as a Prometheus YAML rule file, as the upstream rules.FileLoader
// does.
type groupLoader struct {
	parser parser.Parser
	logger *slog.Logger

	mu         sync.Mutex
	configFile string
	groups     *rulefmt.RuleGroups
}

// setConfigGroups makes groups those of the configuration file file.
func (l *groupLoader) setConfigGroups(file string, groups []rulefmt.RuleGroup) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.configFile, l.groups = file, nil
	if len(groups) > 0 {
		l.groups = &rulefmt.RuleGroups{Groups: groups}
	}
}

// Load implements rules.GroupLoader.
func (l *groupLoader) Load(identifier string, ignoreUnknownFields bool, scheme model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	l.mu.Lock()
	configFile, groups := l.configFile, l.groups
	l.mu.Unlock()
	if identifier == configFile && groups != nil {
		return groups, nil
	}
	return rulefmt.ParseFile(identifier, ignoreUnknownFields, scheme, l.parser, l.logger)
}

// Parse implements rules.GroupLoader.
func (l *groupLoader) Parse(query string) (parser.Expr, error) { return l.parser.ParseExpr(query) }

// sender hands the alerts the rules send, as rules.SendAlerts makes
// them, to a Notify function.
type sender func(alerts []*alert.Alert)

// Send implements rules.Sender.
func (notify sender) Send(alerts ...*notifier.Alert) {
	if notify == nil || len(alerts) == 0 {
		return
	}
	out := make([]*alert.Alert, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, &alert.Alert{
			Labels:       a.Labels,
			Annotations:  a.Annotations,
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: a.GeneratorURL,
		})
	}
	notify(out)
}
