package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/bench/harness"
	"github.com/vigilmon/vigil/core/scrape"
	vigiltsdb "github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

// vigilSide is Vigil's scrape path: core/scrape's Manager, configured from
// an HCL scrape block as the server configures it, appending to core/tsdb
// opened with its defaults, as the server opens it.
var vigilSide = side{
	name:           "vigil",
	open:           openVigil,
	start:          startVigil,
	appendedMetric: "vigil_tsdb_samples_appended_total",
	seriesMetric:   "vigil_tsdb_series",
}

// openVigil opens a Vigil TSDB in dir with its default options.
func openVigil(dir string) (storage.Storage, *prometheus.Registry, error) {
	db, err := vigiltsdb.Open(dir, vigiltsdb.Options{Logger: hclog.NewNullLogger()})
	if err != nil {
		return nil, nil, fmt.Errorf("open vigil tsdb in %s: %w", dir, err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(db.Collector()); err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("register vigil tsdb metrics: %w", err)
	}
	return db, reg, nil
}

// vigilConfig is the HCL configuration of the benchmark's one scrape job.
func vigilConfig(spec childSpec) string {
	quoted := make([]string, len(spec.Targets))
	for i, t := range spec.Targets {
		quoted[i] = strconv.Quote(t)
	}
	return fmt.Sprintf(`scrape %q {
  targets         = [%s]
  scrape_interval = %q
  scrape_timeout  = %q
}
`, jobName, strings.Join(quoted, ", "), model.Duration(spec.Interval).String(), model.Duration(spec.Timeout).String())
}

// startVigil starts a core/scrape Manager on the spec's targets. Scrape
// errors are logged to stderr.
func startVigil(spec childSpec, db storage.Storage, reg *prometheus.Registry) (func(), error) {
	// vigil server sets this garbage collector target unless GOGC is set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(hclconfig.DefaultGOGC)
	}
	cfg, diags := hclconfig.Parse("bench.hcl", []byte(vigilConfig(spec)))
	if diags.HasErrors() {
		return nil, fmt.Errorf("vigil scrape configuration: %s", diags.Error())
	}
	logger := harness.Logger("bench")
	m := scrape.New(scrape.Options{Store: db, Logger: logger})
	if err := reg.Register(m.Collector()); err != nil {
		return nil, fmt.Errorf("register vigil scrape metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stop := func() {
		cancel()
		<-done
	}
	if err := m.ApplyConfig(ctx, cfg); err != nil {
		stop()
		return nil, fmt.Errorf("apply vigil scrape configuration: %w", err)
	}
	if n := len(m.Targets()); n != len(spec.Targets) {
		stop()
		return nil, fmt.Errorf("vigil scrape manager runs %d targets, want %d (dropped: %v)", n, len(spec.Targets), m.DroppedTargets())
	}
	return stop, nil
}
