// Package query wires the upstream PromQL engine for Vigil: the limits,
// timeout and lookback of queries, and the language features Vigil turns
// on. Start with NewEngine; the engine runs on any storage.Queryable, such
// as core/tsdb.
package query

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// Options are the limits of the engine. The zero value takes Prometheus's
// defaults, named in each comment.
type Options struct {
	// MaxSamples is the most samples one query may hold in memory at once.
	// Default 50,000,000.
	MaxSamples int
	// Timeout bounds the run time of one query. Default 2m.
	Timeout time.Duration
	// LookbackDelta is how far back an instant selector looks for a sample.
	// Default 5m.
	LookbackDelta time.Duration
	// Registerer receives the engine's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Defaults, as Prometheus has them.
const (
	DefaultMaxSamples    = 50_000_000
	DefaultTimeout       = 2 * time.Minute
	DefaultLookbackDelta = 5 * time.Minute
)

// NewEngine returns a PromQL engine with opts. Like Prometheus 3 it has the
// @ modifier and negative offsets on; subqueries without a step use the
// default evaluation interval of one minute.
func NewEngine(opts Options) (*promql.Engine, error) {
	if opts.MaxSamples < 0 {
		return nil, fmt.Errorf("invalid query option MaxSamples=%d: must not be negative", opts.MaxSamples)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("invalid query option Timeout=%s: must not be negative", opts.Timeout)
	}
	if opts.LookbackDelta < 0 {
		return nil, fmt.Errorf("invalid query option LookbackDelta=%s: must not be negative", opts.LookbackDelta)
	}
	if opts.MaxSamples == 0 {
		opts.MaxSamples = DefaultMaxSamples
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.LookbackDelta == 0 {
		opts.LookbackDelta = DefaultLookbackDelta
	}
	return promql.NewEngine(promql.EngineOpts{
		Reg:                      opts.Registerer,
		MaxSamples:               opts.MaxSamples,
		Timeout:                  opts.Timeout,
		LookbackDelta:            opts.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   parser.NewParser(parser.Options{}),
	}), nil
}
