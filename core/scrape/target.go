// Package scrape turns scrape and exporter blocks, and discovered target
// groups, into targets, and scrapes each on its interval into the store.
// Start with Manager (manager.go); NewTarget applies Prometheus's
// target-labelling rules to the labels of one target, and scrape.go is
// one scrape. README.md in this folder has the tour and the benchmark.
package scrape

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// Target is one scrape target after relabeling.
type Target struct {
	// Labels are the target's labels, __-prefixed ones included: job,
	// instance, __address__, __scheme__, __metrics_path__, __param_*,
	// __scrape_interval__ and __scrape_timeout__. Discovery's __meta_*
	// labels are gone.
	Labels labels.Labels
	// URL is where the target is scraped.
	URL *url.URL
	// Interval and Timeout are the target's, after relabeling.
	Interval, Timeout time.Duration
	// Discovered are the target's labels before relabeling, as
	// DiscoveredLabels gives them.
	Discovered labels.Labels
	// Probe is set for a target of a multi-target exporter block: what
	// the plugin collects for it.
	Probe *sdk.Target
}

// SeriesLabels are the labels the target adds to its samples: Labels
// without the __-prefixed ones.
func (t *Target) SeriesLabels() labels.Labels { return withoutReserved(t.Labels) }

// withoutReserved returns lset without its __-prefixed labels.
func withoutReserved(lset labels.Labels) labels.Labels {
	b := labels.NewBuilder(lset)
	lset.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, model.ReservedLabelPrefix) {
			b.Del(l.Name)
		}
	})
	return b.Labels()
}

// DiscoveredLabels are a target's labels before relabeling: the labels of
// its group, overridden by its own (at least __address__), with the
// scrape block's defaults for job, __scheme__, __metrics_path__,
// __scrape_interval__, __scrape_timeout__ and __param_* where they are
// not set. The API shows them as a target's discoveredLabels.
func DiscoveredLabels(s *hclconfig.Scrape, targetLabels, groupLabels labels.Labels) labels.Labels {
	b := labels.NewBuilder(groupLabels)
	targetLabels.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
	defaults := []labels.Label{
		{Name: model.JobLabel, Value: s.Name},
		{Name: model.ScrapeIntervalLabel, Value: model.Duration(s.ScrapeInterval).String()},
		{Name: model.ScrapeTimeoutLabel, Value: model.Duration(s.ScrapeTimeout).String()},
		{Name: model.MetricsPathLabel, Value: s.MetricsPath},
		{Name: model.SchemeLabel, Value: s.Scheme},
	}
	for _, l := range defaults {
		if b.Get(l.Name) == "" {
			b.Set(l.Name, l.Value)
		}
	}
	if s.Module != "" && b.Get(model.ParamLabelPrefix+"module") == "" {
		b.Set(model.ParamLabelPrefix+"module", s.Module)
	}
	for name, values := range s.Params {
		if label := model.ParamLabelPrefix + name; len(values) > 0 && b.Get(label) == "" {
			b.Set(label, values[0])
		}
	}
	return b.Labels()
}

// NewTarget applies the scrape block s to one target, given by its own
// labels (at least __address__) and the labels of its group, which the
// target's own override. It returns nil and no error when relabeling drops
// the target, and an error naming what is wrong with a target it cannot
// scrape.
func NewTarget(s *hclconfig.Scrape, targetLabels, groupLabels labels.Labels) (*Target, error) {
	return newTarget(s, targetLabels, groupLabels, false)
}

// newTarget is NewTarget; probe says that the target is one of a
// multi-target exporter block, whose address is whatever the plugin
// takes (a URL, a host:port) and which is not reached over HTTP.
func newTarget(s *hclconfig.Scrape, targetLabels, groupLabels labels.Labels, probe bool) (*Target, error) {
	discovered := DiscoveredLabels(s, targetLabels, groupLabels)
	b := labels.NewBuilder(discovered)
	if !relabel.ProcessBuilder(b, s.Relabel...) {
		return nil, nil
	}

	addr := b.Get(model.AddressLabel)
	if addr == "" {
		return nil, errors.New("target has no __address__ after relabeling")
	}
	if probe {
		return probeTarget(s, b, addr, discovered)
	}
	if strings.Contains(addr, "/") {
		return nil, fmt.Errorf("target address %q must be host:port, without scheme or path", addr)
	}
	// An address that is not a URL's host (a space, '@', '?', '#', a bad
	// IPv6 literal) would make a URL no scrape can fetch, or one of
	// another host. The URL escapes what a host may escape, as an IPv6
	// zone's '%'.
	if u, err := url.Parse((&url.URL{Scheme: "http", Host: addr}).String()); err != nil || u.Host != addr {
		return nil, fmt.Errorf("target address %q is not a valid host:port", addr)
	}
	interval, err := labelDuration(b, model.ScrapeIntervalLabel)
	if err != nil {
		return nil, err
	}
	timeout, err := labelDuration(b, model.ScrapeTimeoutLabel)
	if err != nil {
		return nil, err
	}
	if timeout > interval {
		return nil, fmt.Errorf("scrape timeout %s of target %q is greater than its scrape interval %s", timeout, addr, interval)
	}
	scheme := b.Get(model.SchemeLabel)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("target %q has scheme %q, want http or https", addr, scheme)
	}

	lset, err := finishLabels(b, addr)
	if err != nil {
		return nil, err
	}
	return &Target{Labels: lset, URL: targetURL(lset, s.Params), Interval: interval, Timeout: timeout, Discovered: discovered}, nil
}

// finishLabels gives the labels of a target of address addr, whose
// labels after relabeling are in b: without the __meta_ ones, with
// instance set to the address unless relabeling set it, each value valid.
func finishLabels(b *labels.Builder, addr string) (labels.Labels, error) {
	b.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, model.MetaLabelPrefix) {
			b.Del(l.Name)
		}
	})
	if b.Get(model.InstanceLabel) == "" {
		b.Set(model.InstanceLabel, addr)
	}
	lset := b.Labels()
	if err := lset.Validate(func(l labels.Label) error {
		if !model.LabelValue(l.Value).IsValid() {
			return fmt.Errorf("target %q has an invalid value for label %q: %q", addr, l.Name, l.Value)
		}
		return nil
	}); err != nil {
		return labels.EmptyLabels(), err
	}
	return lset, nil
}

// probeTarget finishes a target of a multi-target exporter block, whose
// labels after relabeling are in b: what the plugin collects is its
// __param_target label, or its __address__ when that is unset, with the
// module of __param_module, as Prometheus's blackbox and SNMP exporters
// read them from their /probe URL.
func probeTarget(s *hclconfig.Scrape, b *labels.Builder, addr string, discovered labels.Labels) (*Target, error) {
	interval, err := labelDuration(b, model.ScrapeIntervalLabel)
	if err != nil {
		return nil, err
	}
	timeout, err := labelDuration(b, model.ScrapeTimeoutLabel)
	if err != nil {
		return nil, err
	}
	if timeout > interval {
		return nil, fmt.Errorf("timeout %s of target %q is greater than its interval %s", timeout, addr, interval)
	}
	lset, err := finishLabels(b, addr)
	if err != nil {
		return nil, err
	}
	probe := &sdk.Target{Address: addr, Params: map[string]string{}}
	lset.Range(func(l labels.Label) {
		if name, ok := strings.CutPrefix(l.Name, model.ParamLabelPrefix); ok {
			probe.Params[name] = l.Value
		}
	})
	if t := probe.Params["target"]; t != "" {
		probe.Address = t
	}
	probe.Module = probe.Params["module"]
	// The URL says what is collected, as the /probe URL of a blackbox
	// exporter would.
	q := url.Values{}
	for name, v := range probe.Params {
		q.Set(name, v)
	}
	q.Set("target", probe.Address)
	u := &url.URL{Scheme: "plugin", Host: s.Name, RawQuery: q.Encode()}
	return &Target{Labels: lset, URL: u, Interval: interval, Timeout: timeout, Discovered: discovered, Probe: probe}, nil
}

// labelDuration parses the duration in label name.
func labelDuration(b *labels.Builder, name string) (time.Duration, error) {
	v := b.Get(name)
	d, err := model.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %s %q: %w", name, v, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s must be positive, got %q", name, v)
	}
	return time.Duration(d), nil
}

// targetURL is the URL of a target: its scheme, address and metrics path,
// with the scrape block's params, whose first values the __param_* labels
// replace.
func targetURL(lset labels.Labels, params map[string][]string) *url.URL {
	q := url.Values{}
	for name, values := range params {
		q[name] = append([]string(nil), values...)
	}
	lset.Range(func(l labels.Label) {
		name, ok := strings.CutPrefix(l.Name, model.ParamLabelPrefix)
		if !ok {
			return
		}
		if len(q[name]) == 0 {
			q[name] = []string{l.Value}
		} else {
			q[name][0] = l.Value
		}
	})
	return &url.URL{
		Scheme:   lset.Get(model.SchemeLabel),
		Host:     lset.Get(model.AddressLabel),
		Path:     lset.Get(model.MetricsPathLabel),
		RawQuery: q.Encode(), // sorted by name
	}
}
