//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
)

// logOutput is where the plugin logs: its stderr as the process started,
// which the host reads. The collectors' process logs there too.
var logOutput io.Writer = os.Stderr

// logger is the plugin's logger.
var logger = hclog.New(&hclog.LoggerOptions{Output: logOutput, JSONFormat: true, Level: hclog.Trace})

// The collectors' process of the config in use. A plugin process serves
// one exporter block, so there is one.
var (
	activeMu sync.Mutex
	active   *collectorsProcess
)

// newExporter is the plugin's constructor: it checks the config, starts
// the collectors' process with it and, once its collectors are made,
// stops that of the config it replaces.
func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	p, err := startCollectors(c.args, logOutput)
	if err != nil {
		return nil, attributeOf(err)
	}
	logger.Debug("collectors started", "collectors", strings.Join(c.collectors, ","), "flags", strings.Join(c.args, " "))
	activeMu.Lock()
	old := active
	active = p
	activeMu.Unlock()
	if old != nil {
		old.stop()
	}
	return exporter{}, nil
}

// attributeOf turns an error of node_exporter's that names one of its
// flags, such as two filters that exclude each other, into an error
// naming the flag's attribute, so that the config's check points at its
// line.
func attributeOf(err error) error {
	msg := err.Error()
	var found *option
	for i, o := range options {
		if strings.Contains(msg, "--"+o.flag) && (found == nil || len(o.flag) > len(found.flag)) {
			found = &options[i]
		}
	}
	if found == nil {
		return err
	}
	return sdk.AttributeErrorf(found.attr, "node_exporter: %v", err)
}

// exporter collects the collectors' process in use.
type exporter struct{}

// Collect implements sdk.Exporter. A process that has ended, a collector
// that panicked say, is started again, and asked again when it ended
// during the collection.
func (exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	p, err := running()
	if err != nil {
		return nil, err
	}
	families, err := p.gather(ctx)
	if err == nil {
		return families, nil
	}
	select {
	case <-p.ended:
	case <-ctx.Done():
		return nil, err
	case <-time.After(endedGrace):
		return nil, err
	}
	if p, err = running(); err != nil {
		return nil, err
	}
	return p.gather(ctx)
}

// endedGrace is how long a collection that failed waits to learn whether
// the process ended: its end is seen when its stdout closes.
const endedGrace = time.Second

// running returns the collectors' process in use, started again when it
// has ended.
func running() (*collectorsProcess, error) {
	activeMu.Lock()
	defer activeMu.Unlock()
	if active == nil {
		return nil, sdk.ErrNotConfigured
	}
	ended, why := active.hasEnded()
	if !ended {
		return active, nil
	}
	p, err := startCollectors(active.args, logOutput)
	if err != nil {
		return nil, fmt.Errorf("the collectors' process ended (%v) and cannot start again: %w", why, err)
	}
	logger.Warn("the collectors' process ended and was started again", "error", why)
	active = p
	return p, nil
}

// stopCollectors stops the collectors' process in use, when the plugin
// ends.
func stopCollectors() {
	activeMu.Lock()
	defer activeMu.Unlock()
	if active != nil {
		active.stop()
		active = nil
	}
}
