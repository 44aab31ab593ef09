package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
)

// schema is the plugin's config.
var schema = sdk.Schema{
	sdk.String("config_file", "A blackbox_exporter configuration file (blackbox.yml) whose modules the plugin runs; relative to the folder vigil runs in. Unset: the modules attribute, or else blackbox_exporter's example modules."),
	sdk.String("modules", "blackbox_exporter's configuration inline, as YAML with a top-level modules key; instead of config_file."),
	sdk.String("default_module", "The module of a target that names none, as blackbox_exporter's /probe without module.", sdk.Default("http_2xx")),
}

// exporter probes targets with the modules of its config.
type exporter struct {
	cfg           *Config
	defaultModule string
	logger        hclog.Logger
}

func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	file, inline := cfg.String("config_file"), cfg.String("modules")
	var (
		c   *Config
		err error
	)
	switch {
	case file != "" && inline != "":
		return nil, sdk.AttributeErrorf("modules", "set config_file or modules, not both")
	case file != "":
		b, rerr := os.ReadFile(file)
		if rerr != nil {
			return nil, sdk.AttributeErrorf("config_file", "cannot read %q: %v", file, rerr)
		}
		if c, err = parseConfig(file, b); err != nil {
			return nil, sdk.AttributeErrorf("config_file", "%v", err)
		}
	case inline != "":
		if c, err = parseConfig("the modules attribute", []byte(inline)); err != nil {
			return nil, sdk.AttributeErrorf("modules", "%v", err)
		}
	default:
		if c, err = parseConfig("the example modules", []byte(defaultModules)); err != nil {
			return nil, err
		}
	}
	// The default's default, http_2xx, need not be a module: a target
	// without a module then fails to probe, as with blackbox_exporter.
	def := cfg.String("default_module")
	if _, ok := c.Modules[def]; !ok && def != "http_2xx" {
		return nil, sdk.AttributeErrorf("default_module", "no module is named %q; the modules are %s", def, c.moduleNames())
	}
	return &exporter{cfg: c, defaultModule: def, logger: sdk.Logger()}, nil
}

// Collect serves an exporter block without targets: there is nothing to
// probe, so it says how to give targets.
func (e *exporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return nil, errors.New("the blackbox prober probes targets: give its exporter block targets or discovery")
}

// probers are the probers by name.
var probers = map[string]func(ctx context.Context, target string, m Module, reg *prometheus.Registry, log hclog.Logger) (bool, error){
	"http": probeHTTP,
	"tcp":  probeTCP,
	"dns":  probeDNS,
	"icmp": probeICMP,
	"grpc": probeGRPC,
}

// timeoutOffset is taken off the host's timeout, as blackbox_exporter
// takes its --timeout-offset off Prometheus's, so that the probe
// answers before the host gives up.
const timeoutOffset = 500 * time.Millisecond

// CollectTarget probes t with its module, as blackbox_exporter's /probe
// does: probe_success, probe_duration_seconds, probe_timeout_seconds and
// the prober's own series. A probe that fails is probe_success 0, not an
// error; an unknown module, an empty target, or a prober that cannot run
// at all (ICMP without the privilege to) is an error.
func (e *exporter) CollectTarget(ctx context.Context, t sdk.Target) ([]*dto.MetricFamily, error) {
	if t.Address == "" {
		return nil, errors.New("the target is empty")
	}
	name := t.Module
	if name == "" {
		name = e.defaultModule
	}
	m, ok := e.cfg.Modules[name]
	if !ok {
		return nil, fmt.Errorf("unknown module %q; the modules are %s", name, e.cfg.moduleNames())
	}
	if h := t.Params["hostname"]; h != "" {
		m = withHostname(m, h)
	}
	timeout := 120 * time.Second // blackbox_exporter's when Prometheus sends none
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d)-timeoutOffset, time.Until(d)/2)
	}
	if m.Timeout > 0 && m.Timeout < timeout {
		timeout = m.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	success := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_success", Help: "Displays whether or not the probe was a success"})
	duration := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_duration_seconds", Help: "Returns how long the probe took to complete in seconds"})
	timeoutGauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_timeout_seconds", Help: "Returns how long the probe timeout is in seconds"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(success, duration, timeoutGauge)

	log := e.logger.With("module", name, "target", t.Address)
	start := time.Now()
	ok, err := probers[m.Prober](ctx, t.Address, m, reg, log)
	if err != nil {
		return nil, fmt.Errorf("module %q, target %q: %w", name, t.Address, err)
	}
	duration.Set(time.Since(start).Seconds())
	timeoutGauge.Set(timeout.Seconds())
	if ok {
		success.Set(1)
	}
	log.Debug("probe done", "success", ok, "duration", time.Since(start))
	return reg.Gather()
}

// withHostname sets the Host of an http probe, or the TLS server name
// of a tcp probe, from the target's hostname parameter, as
// blackbox_exporter does with /probe?hostname=.
func withHostname(m Module, hostname string) Module {
	switch m.Prober {
	case "http":
		headers := map[string]string{}
		for k, v := range m.HTTP.Headers {
			headers[k] = v
		}
		headers["Host"] = hostname
		m.HTTP.Headers = headers
	case "tcp":
		if m.TCP.TLSConfig.ServerName == "" {
			m.TCP.TLSConfig.ServerName = hostname
		}
	}
	return m
}
