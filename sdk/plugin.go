package sdk

import (
	"context"
	"errors"
	"fmt"

	dto "github.com/prometheus/client_model/go"
)

// ProtocolVersion is the version of the plugin protocol this package
// speaks.
const ProtocolVersion = 1

// Kind is the kind of a plugin.
type Kind int

// The kinds of plugins.
const (
	KindExporter Kind = iota + 1
	KindDiscoverer
	KindNotifier
)

// String returns the kind's name as configs write it: "exporter",
// "discovery" or "notifier".
func (k Kind) String() string {
	switch k {
	case KindExporter:
		return "exporter"
	case KindDiscoverer:
		return "discovery"
	case KindNotifier:
		return "notifier"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Info says what a plugin is.
type Info struct {
	// Name is the plugin's name, e.g. "node".
	Name string
	// Version is the plugin's semantic version, e.g. "1.2.0".
	Version string
	// Description is one line saying what the plugin does.
	Description string
	// Capabilities are optional behaviours the plugin claims, each one of
	// the Capability constants (see capabilities.go), e.g.
	// CapabilityDeliversToURL for a notifier that delivers to its url
	// attribute. The conformance suite runs the checks that need a
	// capability for a plugin that claims it, and skips them for one that
	// does not; it reports a name it does not know.
	Capabilities []string
}

// Plugin is one plugin: what it is, its config attributes, and a
// constructor for exactly one kind. The host calls the constructor with
// each config it is given, at start and on reload; the instance it
// returns serves every call until the next config.
type Plugin struct {
	Info   Info
	Schema Schema

	Exporter   func(Config) (Exporter, error)
	Discoverer func(Config) (Discoverer, error)
	Notifier   func(Config) (Notifier, error)
}

// Kind returns the plugin's kind, and an error unless exactly one
// constructor is set.
func (p *Plugin) Kind() (Kind, error) {
	var kinds []Kind
	if p.Exporter != nil {
		kinds = append(kinds, KindExporter)
	}
	if p.Discoverer != nil {
		kinds = append(kinds, KindDiscoverer)
	}
	if p.Notifier != nil {
		kinds = append(kinds, KindNotifier)
	}
	if len(kinds) != 1 {
		return 0, fmt.Errorf("plugin %q must set exactly one of Exporter, Discoverer and Notifier, not %d", p.Info.Name, len(kinds))
	}
	if p.Info.Name == "" {
		return 0, errors.New("plugin has no Info.Name")
	}
	if err := p.Schema.check(); err != nil {
		return 0, fmt.Errorf("plugin %q: %w", p.Info.Name, err)
	}
	return kinds[0], nil
}

// Exporter produces metrics.
type Exporter interface {
	// Collect gathers the current metrics. The context ends when the
	// host stops waiting. An exporter whose target is down or answers
	// garbage returns its families (e.g. its own up metric at 0) with
	// TargetDown(err): the host keeps them and reports the target down
	// with err. Any other error fails the collection.
	Collect(ctx context.Context) ([]*dto.MetricFamily, error)
}

// DelimitedCollector is implemented by an exporter that encodes its
// collection itself, in the delimited protobuf format (see
// AppendDelimited), which is what travels to the host: the server then
// calls CollectDelimited instead of Collect, and sends the bytes as they
// are. Package sdk/promexport's registry is one; a plugin author rarely
// writes another. As for Collect, a collection returned with
// TargetDown(err) is kept.
type DelimitedCollector interface {
	Exporter
	// CollectDelimited appends the current metrics to b, each family
	// with its length before it, and returns the extended buffer. The
	// families' names must be unique and sorted, as Collect's.
	CollectDelimited(ctx context.Context, b []byte) ([]byte, error)
}

// TargetCollector is implemented by the exporter of a multi-target
// plugin, one that claims CapabilityMultiTarget: it collects one target
// at a time, the one each collection names, as Prometheus's blackbox
// and SNMP exporters probe the target of their /probe URL. The host
// calls CollectTarget for each target of an exporter block that has
// targets, concurrently for different targets, and Collect for a block
// that has none.
type TargetCollector interface {
	Exporter
	// CollectTarget gathers the metrics of target t. An error fails the
	// collection of t alone: the host reports up 0 for that target. As
	// for Collect, families returned with TargetDown(err) are kept.
	CollectTarget(ctx context.Context, t Target) ([]*dto.MetricFamily, error)
}

// Target is the target one collection of a multi-target exporter
// collects, after the exporter block's relabeling.
type Target struct {
	// Address is the target: its __param_target label, or its
	// __address__ when that is unset, e.g. a URL or a host:port.
	Address string
	// Module is the target's __param_module label, the name of one of
	// the plugin's modules, or empty for its default.
	Module string
	// Params are the target's __param_* labels, the prefix cut, target
	// and module included.
	Params map[string]string
}

// Discoverer produces scrape targets.
type Discoverer interface {
	// Discover sends the groups it knows, then every change, until ctx
	// ends; it returns nil then. A group that is gone is sent with its
	// Source and no targets. An error from send means the host has gone
	// and Discover should return it.
	Discover(ctx context.Context, send func([]TargetGroup) error) error
}

// PollingDiscoverer is a Discoverer that can also be polled: Poll
// returns every target group it knows now. A discoverer of a WebAssembly
// module implements it, since a module serves calls and cannot stream
// (Wasm ABI version 2's vigil_discover): the host polls it at the
// config's refresh_interval and sends what changed, the vanished groups
// with their Source and no targets. A gRPC plugin's host calls Discover
// instead.
type PollingDiscoverer interface {
	Discoverer
	// Poll returns the target groups the discoverer finds now, all of
	// them, each with a Source that stays the same across polls. An
	// error fails this poll alone: the host keeps the groups of the last
	// good one.
	Poll(ctx context.Context) ([]TargetGroup, error)
}

// Notifier delivers notifications. An error is retryable unless wrapped
// with Permanent.
type Notifier interface {
	Notify(ctx context.Context, n *Notification) error
}

// TargetGroup is a set of targets that share labels, as Prometheus's
// service discovery gives them.
type TargetGroup struct {
	// Source identifies the group, stable across updates and unique among
	// the plugin's groups.
	Source string
	// Labels are common to the group's targets; a target's own win.
	Labels map[string]string
	// Targets are each target's labels: __address__ at least, and
	// __meta_* labels for relabeling.
	Targets []map[string]string
}

// permanentError marks an error that retrying will not cure.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying will not cure, such as a
// rejected request; the host then does not retry.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent says whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// AttributeError is a config error that names its attribute.
type AttributeError struct {
	Attribute string
	Err       error
}

func (e *AttributeError) Error() string { return fmt.Sprintf("attribute %q: %v", e.Attribute, e.Err) }
func (e *AttributeError) Unwrap() error { return e.Err }

// AttributeErrorf returns an error about the config attribute name, for a
// constructor to return when a value is wrong.
func AttributeErrorf(name, format string, args ...any) error {
	return &AttributeError{Attribute: name, Err: fmt.Errorf(format, args...)}
}
