// Package upstream runs one of Prometheus's service discovery mechanisms
// (github.com/prometheus/prometheus/discovery/...) as a Vigil discovery
// plugin. Start with Plugin: given the mechanism's config type, such as
// &kubernetes.SDConfig{}, it returns the sdk.Plugin a main serves.
//
// The plugin's schema is derived from the upstream struct's yaml tags,
// so its attributes are Prometheus's field names: a nested block's
// fields join their names with "_" (tls_config.ca_file is
// tls_config_ca_file), an inline struct's fields are the parent's, and a
// list of blocks (kubernetes selectors, ec2 filters) is a list of
// strings, each one element in YAML flow style. A config is turned back
// into YAML and unmarshalled by upstream, so defaults and validation are
// Prometheus's own.
//
// Discover runs the upstream Discoverer, its metrics registered against
// a registry of the run's own, and sends its target groups as they are,
// with upstream's __meta_* labels, leaving out groups that did not
// change since they were last sent.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"go.yaml.in/yaml/v2"

	"github.com/vigilmon/vigil/internal/hclogslog"
	"github.com/vigilmon/vigil/internal/promsd"
	"github.com/vigilmon/vigil/sdk"
	sdkdiscovery "github.com/vigilmon/vigil/sdk/discovery"
)

// FirstUpdateWait is how long Discover waits for the upstream
// discoverer's first target groups before it sends an empty update, so
// that a mechanism that cannot reach its service (it is down, the
// credentials are refused) does not hold the host's scrapes back. A
// mechanism that polls sends it as soon as its first poll has failed,
// as its refresh failures metric says. The groups follow when a later
// poll succeeds, as in Prometheus.
const FirstUpdateWait = 5 * time.Second

// An upstream mechanism sends its groups in as many updates as it likes
// (consul, one per service). The adapter gathers them, as Prometheus's
// discovery manager does: it sends once the mechanism has been quiet for
// batchQuiet, or batchMost after the first change at the latest. The
// first update waits longer, so that it holds every group found at
// start.
const (
	batchQuiet      = 100 * time.Millisecond
	batchMost       = time.Second
	firstBatchQuiet = 500 * time.Millisecond
	firstBatchMost  = 3 * time.Second
)

// failureCheck is how often Discover looks, until its first update,
// whether a poll of the mechanism failed.
const failureCheck = 100 * time.Millisecond

// stopWait bounds how long Discover waits, after its context ends, for
// the upstream discoverer to return.
const stopWait = 500 * time.Millisecond

// Mechanism describes one upstream mechanism served as a plugin.
type Mechanism struct {
	// Config is a value of the upstream config type, e.g.
	// &kubernetes.SDConfig{}. Its type gives the schema; each config is
	// decoded into a new value of it. Its Name names the plugin.
	Config discovery.Config
	// Version is the plugin's version.
	Version string
	// Description says what the plugin discovers.
	Description string
	// Extra are attributes of Vigil's own, beside upstream's fields.
	Extra sdk.Schema
	// Check, when set, checks the plugin config once upstream has
	// decoded it, Extra's attributes with the rest; it returns
	// sdk.AttributeErrorf for a value it refuses.
	Check func(c discovery.Config, cfg sdk.Config) error
	// New, when set, makes the discoverer in place of the upstream
	// config's NewDiscoverer; it gets the whole plugin config, and the
	// refresh metrics for a discoverer built on upstream's refresh
	// package.
	New func(c discovery.Config, cfg sdk.Config, opts discovery.DiscovererOptions, refresh discovery.RefreshMetricsInstantiator) (discovery.Discoverer, error)
}

// Plugin returns the plugin that serves m. It panics when the upstream
// type cannot be turned into a schema, a mistake of the program.
func Plugin(m Mechanism) sdk.Plugin {
	a, err := newAdapter(m)
	if err != nil {
		panic(err)
	}
	return sdk.Plugin{
		Info:   sdk.Info{Name: m.Config.Name(), Version: m.Version, Description: m.Description},
		Schema: a.schema,
		Discoverer: func(cfg sdk.Config) (sdk.Discoverer, error) {
			c, err := a.Decode(cfg)
			if err != nil {
				return nil, err
			}
			if m.Check != nil {
				if err := m.Check(c, cfg); err != nil {
					return nil, err
				}
			}
			return &Discoverer{mech: m, config: c, values: cfg}, nil
		},
	}
}

// adapter holds what was derived from a mechanism's config type.
type adapter struct {
	mech   Mechanism
	typ    reflect.Type // the struct the config points to
	fields []promsd.Field
	schema sdk.Schema
}

func newAdapter(m Mechanism) (*adapter, error) {
	t := reflect.TypeOf(m.Config)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("the %T config is not a pointer to a struct", m.Config)
	}
	fields, err := promsd.Fields(t.Elem(), m.Config.Name())
	if err != nil {
		return nil, fmt.Errorf("cannot derive the schema of %s: %w", t, err)
	}
	a := &adapter{mech: m, typ: t.Elem(), fields: fields}
	for _, f := range fields {
		a.schema = append(a.schema, f.Attr)
	}
	for _, e := range m.Extra {
		if _, dup := a.schema.Attribute(e.Name); dup {
			return nil, fmt.Errorf("the extra attribute %q is one of %s's fields", e.Name, t)
		}
		a.schema = append(a.schema, e)
	}
	return a, nil
}

// HTTPClientAttributes returns the attributes Prometheus's common HTTP
// client settings become, which the mechanisms that talk HTTP share.
func HTTPClientAttributes() sdk.Schema { return promsd.HTTPClientAttributes() }

// Schema returns the schema derived for m, Extra's attributes last.
func Schema(m Mechanism) (sdk.Schema, error) {
	a, err := newAdapter(m)
	if err != nil {
		return nil, err
	}
	return a.schema, nil
}

// Decode turns a plugin config into a new upstream config, as
// Prometheus would read the same fields from its YAML.
func Decode(m Mechanism, cfg sdk.Config) (discovery.Config, error) {
	a, err := newAdapter(m)
	if err != nil {
		return nil, err
	}
	return a.Decode(cfg)
}

// Decode turns a plugin config into a new upstream config.
func (a *adapter) Decode(cfg sdk.Config) (discovery.Config, error) {
	c, err := a.unmarshal(cfg, "")
	if err != nil {
		var ae *sdk.AttributeError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, a.configError(err, cfg)
	}
	return c, nil
}

// unmarshal writes the config's attributes, but skip, as upstream's YAML
// and has upstream read it.
func (a *adapter) unmarshal(cfg sdk.Config, skip string) (discovery.Config, error) {
	doc := map[any]any{}
	for _, f := range a.fields {
		name := f.Attr.Name
		if !cfg.Has(name) || name == skip {
			continue
		}
		var v any
		switch f.Form {
		case promsd.YAMLText:
			if err := yaml.Unmarshal([]byte(cfg.String(name)), &v); err != nil {
				return nil, sdk.AttributeErrorf(name, "is not YAML: %s", trimYAMLError(err.Error()))
			}
		case promsd.YAMLList:
			list := []any{}
			for i, s := range cfg.StringList(name) {
				var e any
				if err := yaml.Unmarshal([]byte(s), &e); err != nil {
					return nil, sdk.AttributeErrorf(name, "element %d is not YAML: %s", i, trimYAMLError(err.Error()))
				}
				list = append(list, e)
			}
			v = list
		default:
			v = plainValue(f.Attr, cfg)
		}
		put(doc, f.Path, v)
	}
	text, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the config as YAML: %w", err)
	}
	c := reflect.New(a.typ).Interface()
	if err := yaml.UnmarshalStrict(text, c); err != nil {
		return nil, err
	}
	return c.(discovery.Config), nil
}

// configError names the attribute an upstream error is about: the one
// set without which the config is good, or else the one whose field
// name, or else whose value, the message says.
func (a *adapter) configError(err error, cfg sdk.Config) error {
	msg := trimYAMLError(err.Error())
	for _, f := range a.fields {
		if !cfg.Has(f.Attr.Name) {
			continue
		}
		if _, err2 := a.unmarshal(cfg, f.Attr.Name); err2 == nil {
			return sdk.AttributeErrorf(f.Attr.Name, "%s", msg)
		}
	}
	for _, f := range a.fields {
		if words(f.Path[len(f.Path)-1]).MatchString(msg) {
			return sdk.AttributeErrorf(f.Attr.Name, "%s", msg)
		}
	}
	for _, f := range a.fields {
		if v := cfg.String(f.Attr.Name); f.Attr.Type == sdk.TypeString && !f.Attr.Sensitive && v != "" && words(v).MatchString(msg) {
			return sdk.AttributeErrorf(f.Attr.Name, "%s", msg)
		}
	}
	return fmt.Errorf("invalid %s config: %s", a.mech.Config.Name(), msg)
}

// words matches s in a message as a whole: not as part of a longer name.
func words(s string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[^\w])` + regexp.QuoteMeta(s) + `($|[^\w])`)
}

// yamlLine is the place in a YAML error, in the YAML the adapter wrote,
// which the user never saw.
var yamlLine = regexp.MustCompile(`(yaml: )?line \d+: `)

// trimYAMLError drops the places of a YAML error.
func trimYAMLError(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = yamlLine.ReplaceAllString(strings.TrimSpace(l), "")
	}
	return strings.Join(lines, "; ")
}

// plainValue is an attribute's value as upstream's YAML writes it.
func plainValue(a sdk.Attribute, cfg sdk.Config) any {
	switch a.Type {
	case sdk.TypeNumber:
		n := cfg.Number(a.Name)
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n)
		}
		return n
	case sdk.TypeBool:
		return cfg.Bool(a.Name)
	case sdk.TypeDuration:
		return model.Duration(cfg.Duration(a.Name)).String()
	case sdk.TypeStringList:
		return cfg.StringList(a.Name)
	case sdk.TypeStringMap:
		return cfg.StringMap(a.Name)
	}
	return cfg.String(a.Name)
}

// put sets doc[path[0]][path[1]]... to v, making the maps between.
func put(doc map[any]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := doc[k].(map[any]any)
		if !ok {
			next = map[any]any{}
			doc[k] = next
		}
		doc = next
	}
	doc[path[len(path)-1]] = v
}

// Discoverer runs an upstream discoverer for one plugin config.
type Discoverer struct {
	mech   Mechanism
	config discovery.Config
	values sdk.Config
}

// Config returns the upstream config the discoverer runs.
func (d *Discoverer) Config() discovery.Config { return d.config }

// Discover implements sdk.Discoverer: it starts the upstream discoverer
// and sends its groups until ctx ends.
func (d *Discoverer) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	reg := prometheus.NewRegistry()
	refresh := discovery.NewRefreshMetrics(reg)
	metrics := d.config.NewDiscovererMetrics(reg, refresh)
	if err := refresh.Register(); err != nil {
		return fmt.Errorf("cannot register the refresh metrics: %w", err)
	}
	defer refresh.Unregister()
	if err := metrics.Register(); err != nil {
		return fmt.Errorf("cannot register the %s discovery metrics: %w", d.config.Name(), err)
	}
	defer metrics.Unregister()
	opts := discovery.DiscovererOptions{Logger: hclogslog.New(sdk.Logger()), Metrics: metrics, SetName: d.config.Name()}
	var disc discovery.Discoverer
	var err error
	if d.mech.New != nil {
		disc, err = d.mech.New(d.config, d.values, opts, refresh)
	} else {
		disc, err = d.config.NewDiscoverer(opts)
	}
	if err != nil {
		return fmt.Errorf("cannot start %s discovery: %w", d.config.Name(), err)
	}

	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan []*targetgroup.Group)
	done := make(chan struct{})
	go func() {
		defer close(done)
		disc.Run(ctx, ch)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(stopWait):
		}
	}()

	first := time.NewTimer(FirstUpdateWait)
	defer first.Stop()
	// Until the first update, a failed first poll sends it at once.
	failures := time.NewTicker(failureCheck)
	defer failures.Stop()
	batch := time.NewTimer(time.Hour)
	batch.Stop()
	defer batch.Stop()
	var (
		sent     = map[string]sdk.TargetGroup{}
		pending  []*targetgroup.Group
		batching bool      // pending holds groups not yet sent
		due      time.Time // when the batch must go at the latest
		started  bool      // the first update was sent
	)
	emit := func(update []sdk.TargetGroup) error {
		if !started && update == nil {
			update = []sdk.TargetGroup{}
		}
		if update == nil {
			return nil
		}
		if err := send(update); err != nil {
			return fmt.Errorf("cannot send target groups: %w", err)
		}
		started = true
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-first.C:
			if !started && !batching {
				if err := emit(nil); err != nil {
					return err
				}
			}
		case <-failures.C:
			if started {
				failures.Stop()
				continue
			}
			if !batching && refreshFailed(reg) {
				if err := emit(nil); err != nil {
					return err
				}
			}
		case <-batch.C:
			update := changed(sent, pending)
			pending, batching = nil, false
			if err := emit(update); err != nil {
				return err
			}
		case groups, ok := <-ch:
			if !ok { // the discoverer closed its channel: nothing more comes
				ch = nil
				if !started && !batching {
					if err := emit(nil); err != nil {
						return err
					}
				}
				continue
			}
			quiet, most := batchQuiet, batchMost
			if !started {
				quiet, most = firstBatchQuiet, firstBatchMost
			}
			now := time.Now()
			if !batching {
				batching, due = true, now.Add(most)
			}
			pending = append(pending, groups...)
			batch.Reset(min(quiet, due.Sub(now)))
		}
	}
}

// refreshFailed says whether the refresh failures metric of the run's
// registry has counted a failed poll.
func refreshFailed(reg *prometheus.Registry) bool {
	families, err := reg.Gather()
	if err != nil {
		return false
	}
	for _, f := range families {
		if f.GetName() != "prometheus_sd_refresh_failures_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetCounter().GetValue() > 0 {
				return true
			}
		}
	}
	return false
}

// changed converts upstream groups and returns those that differ from
// what was last sent for their source, recording them in sent; nil when
// none does.
func changed(sent map[string]sdk.TargetGroup, groups []*targetgroup.Group) []sdk.TargetGroup {
	latest := map[string]sdk.TargetGroup{}
	for _, g := range groups {
		if g == nil {
			continue
		}
		latest[g.Source] = Convert(g)
	}
	var out []sdk.TargetGroup
	for source, g := range latest {
		if last, ok := sent[source]; ok && sdkdiscovery.Equal(last, g) {
			continue
		}
		if len(g.Targets) == 0 {
			if _, ok := sent[source]; !ok {
				continue // nothing of it was sent: nothing to remove
			}
			delete(sent, source)
		} else {
			sent[source] = g
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b sdk.TargetGroup) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// Convert turns an upstream target group into Vigil's, labels as they
// are.
func Convert(g *targetgroup.Group) sdk.TargetGroup {
	out := sdk.TargetGroup{Source: g.Source}
	if len(g.Labels) > 0 {
		out.Labels = labelMap(g.Labels)
	}
	for _, t := range g.Targets {
		out.Targets = append(out.Targets, labelMap(t))
	}
	return out
}

func labelMap(ls model.LabelSet) map[string]string {
	m := make(map[string]string, len(ls))
	for k, v := range ls {
		m[string(k)] = string(v)
	}
	return m
}
