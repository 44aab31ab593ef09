//go:build windows

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus-community/windows_exporter/pkg/collector"
	"github.com/prometheus-community/windows_exporter/pkg/wmi"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/vigilmon/vigil/sdk"
)

// windows_exporter's collector package takes its options as windows_exporter
// does: each collector registers its flags on a kingpin application
// (collector.NewWithFlags), which parses them. The plugin makes a new
// application for each config, gives it the flags parseConfig made, and
// serves collections with windows_exporter's own metrics handler, so that
// every collection is what a scrape of windows_exporter would give.

// wbem is the process's connection to WMI, made once, as windows_exporter
// makes it at its start: the cs, os and service collectors query WMI.
var wbem = sync.OnceValue(func() error { return wmi.InitWbem(kitLogger{logger.Named("wmi")}) })

// newExporter is the plugin's constructor: it checks the config and
// makes windows_exporter's collectors with it.
func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	if err := wbem(); err != nil {
		return nil, fmt.Errorf("cannot connect to WMI: %w", err)
	}
	app := kingpin.New("windows_exporter", "windows_exporter's collectors, run by Vigil's windows exporter.")
	app.Terminate(nil)
	app.UsageWriter(io.Discard)
	app.ErrorWriter(os.Stderr)
	collectors := collector.NewWithFlags(app)
	if _, err := app.Parse(c.args); err != nil {
		return nil, attributeOf(fmt.Errorf("windows_exporter's flags %q: %w", c.args, err))
	}
	collectors.Enable(c.collectors)
	kl := kitLogger{logger.Named("collectors")}
	collectors.SetLogger(kl)
	if err := collectors.Build(); err != nil {
		return nil, attributeOf(fmt.Errorf("cannot make windows_exporter's collectors: %w", err))
	}
	if err := collectors.SetPerfCounterQuery(); err != nil {
		return nil, fmt.Errorf("cannot make the performance counter query of windows_exporter's collectors: %w", err)
	}
	logger.Debug("collectors made", "collectors", strings.Join(c.collectors, ","), "flags", strings.Join(c.args, " "))
	return &exporter{handler: collectors.BuildServeHTTP(!c.exporterMetrics, c.timeoutMargin)}, nil
}

// exporter serves collections with windows_exporter's metrics handler.
type exporter struct {
	handler http.Handler
}

// defaultTimeout is the time a collection without a deadline gives the
// collectors, windows_exporter's default for a scrape without
// X-Prometheus-Scrape-Timeout-Seconds.
const defaultTimeout = 10 * time.Second

// Collect implements sdk.Exporter: it asks windows_exporter's handler for
// the metrics as a scrape would, with the time left before ctx's deadline
// as the scrape's timeout, which the handler gives the collectors less the
// timeout margin. A collection whose ctx ends returns then; the
// collectors it started end by their own deadline.
func (e *exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	timeout := defaultTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = time.Until(deadline)
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	resp := &response{header: http.Header{}, status: http.StatusOK}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.handler.ServeHTTP(resp, req)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("windows_exporter's handler answered %d: %s", resp.status, strings.TrimSpace(resp.body.String()))
	}
	dec := expfmt.NewDecoder(&resp.body, expfmt.ResponseFormat(resp.header))
	var families []*dto.MetricFamily
	for {
		f := &dto.MetricFamily{}
		if err := dec.Decode(f); errors.Is(err, io.EOF) {
			return families, nil
		} else if err != nil {
			return nil, fmt.Errorf("cannot read windows_exporter's metrics: %w", err)
		}
		families = append(families, f)
	}
}

// response is an http.ResponseWriter that keeps the response in memory.
type response struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

// Header implements http.ResponseWriter.
func (r *response) Header() http.Header { return r.header }

// WriteHeader implements http.ResponseWriter.
func (r *response) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

// Write implements http.ResponseWriter.
func (r *response) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
