package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/bench/harness"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/promexport"
)

// familySize is the number of series of each family of the producer.
const familySize = 100

// workload is the producer's registry of series, whose values move before
// every gather. Built from the same size and seed, two workloads gather
// the same sequence of values.
type workload struct {
	reg prometheus.Gatherer

	mu       sync.Mutex
	counters []prometheus.Counter
	gauges   []prometheus.Gauge
	floats   []bool    // whether gauges[i] is a float random walk
	values   []float64 // of gauges
	rng      harness.Rand
	profile  *gatherProfile // nil without -profile-dir
}

// gatherProfile makes a CPU profile of the producer over a range of its
// collections: from the start-th (counting from 0) to the one before the
// stop-th, which ends it when it begins.
type gatherProfile struct {
	dir, name   string
	start, stop int
	n           int
	end         func() error
}

// tick counts one collection, starting or ending the profile at its
// bounds. A failing profile is logged and the producer goes on.
func (p *gatherProfile) tick() {
	switch p.n {
	case p.start:
		end, err := harness.StartCPUProfile(p.dir, p.name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "producer: cannot profile: %v\n", err)
			break
		}
		p.end = end
	case p.stop:
		if p.end != nil {
			if err := p.end(); err != nil {
				fmt.Fprintf(os.Stderr, "producer: %v\n", err)
			}
		}
	}
	p.n++
}

// newGatherProfile profiles the producer of mode over its first timed
// block of cfg, when cfg has a profile directory: the collections after
// the warm-up ones, up to the next block of the mode. It returns nil
// without a profile directory.
func newGatherProfile(cfg config, mode string) *gatherProfile {
	if cfg.profileDir == "" {
		return nil
	}
	// The plugin's first block is the first, the http producer's the second.
	first := 0
	if mode == modeHTTP {
		first = 1
	}
	return &gatherProfile{
		dir: cfg.profileDir, name: "producer-" + mode,
		start: cfg.warmup, stop: cfg.warmup + blockSize(cfg.collections, cfg.blocks, first),
	}
}

// registry is a client_golang registry: prometheus.Registry, or the
// SDK's promexport.Registry.
type registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// newWorkload registers n series in reg: families of familySize series,
// alternately counters labelled method, code and handler, and gauges
// labelled shard and zone (integer queue lengths and float temperatures,
// alternately by family).
func newWorkload(reg registry, n int, seed uint64) *workload {
	w := &workload{reg: reg, rng: harness.Rand(harness.Mix(seed, 0x5eed))}
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	codes := []string{"200", "201", "404", "429", "500"}
	zones := []string{"zone-a", "zone-b", "zone-c"}
	for family := 0; n > 0; family++ {
		size := min(n, familySize)
		n -= size
		switch family % 4 {
		case 0, 2:
			name := fmt.Sprintf("bench_http_requests_%03d_total", family/2)
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: name, Help: fmt.Sprintf("Requests handled, counter family %d of the benchmark.", family/2),
			}, []string{"method", "code", "handler"})
			reg.MustRegister(vec)
			for m := range size {
				c := vec.WithLabelValues(methods[m%4], codes[(m/4)%5], fmt.Sprintf("/api/v1/resource/%d", m/20))
				c.Add(float64(harness.Mix(seed, uint64(family), uint64(m)) % 1e6))
				w.counters = append(w.counters, c)
			}
		default:
			float := family%4 == 3
			name, help := fmt.Sprintf("bench_queue_length_%03d", family/4), "Queue length"
			if float {
				name, help = fmt.Sprintf("bench_temperature_%03d_celsius", family/4), "Temperature"
			}
			vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: name, Help: fmt.Sprintf("%s, gauge family %d of the benchmark.", help, family/2),
			}, []string{"shard", "zone"})
			reg.MustRegister(vec)
			for m := range size {
				g := vec.WithLabelValues(fmt.Sprintf("shard-%02d", m), zones[m%3])
				v := float64(harness.Mix(seed, uint64(family), uint64(m)) % 100)
				if float {
					v = 20 + v/7
				}
				g.Set(v)
				w.gauges, w.floats, w.values = append(w.gauges, g), append(w.floats, float), append(w.values, v)
			}
		}
	}
	return w
}

// advance moves every value: counters grow by uneven integer increments
// (a tenth of them stay put), gauges take a random step.
func (w *workload) advance() {
	if w.profile != nil {
		w.profile.tick()
	}
	for _, c := range w.counters {
		c.Add(w.rng.CounterStep())
	}
	for i, g := range w.gauges {
		if w.floats[i] {
			w.values[i] = w.rng.FloatWalk(w.values[i])
		} else {
			w.values[i] = w.rng.IntWalk(w.values[i])
		}
		g.Set(w.values[i])
	}
}

// step moves every value, as the producer does before each collection.
func (w *workload) step() {
	w.mu.Lock()
	w.advance()
	w.mu.Unlock()
}

// Gather moves every value, then gathers the registry: each collection
// sees new values.
func (w *workload) Gather() ([]*dto.MetricFamily, error) {
	w.step()
	families, err := w.reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather the workload: %w", err)
	}
	return families, nil
}

// runProducerPlugin serves the workload as an exporter plugin, from the
// SDK's registry, as sdk/promexport's documentation has a plugin do. It
// returns when the host ends the plugin.
func runProducerPlugin(cfg config) error {
	reg := promexport.NewRegistry()
	w := newWorkload(reg, cfg.series, cfg.seed)
	w.profile = newGatherProfile(cfg, modePlugin)
	sdk.Serve(sdk.Plugin{
		Info: sdk.Info{Name: "bench-producer", Version: "0.1.0", Description: "Serves the series of the plugin benchmark."},
		Exporter: func(sdk.Config) (sdk.Exporter, error) {
			return stepping{w: w, e: reg.Exporter().(sdk.DelimitedCollector)}, nil
		},
	})
	return nil
}

// stepping is the exporter of the registry e, moving every value of w
// before each collection.
type stepping struct {
	w *workload
	e sdk.DelimitedCollector
}

func (s stepping) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	s.w.step()
	return s.e.Collect(ctx)
}

func (s stepping) CollectDelimited(ctx context.Context, b []byte) ([]byte, error) {
	s.w.step()
	return s.e.CollectDelimited(ctx, b)
}

// runProducerHTTP serves the workload with promhttp on a port of
// 127.0.0.1, which it writes to stdout as one line, until its stdin ends.
func runProducerHTTP(cfg config) error {
	w := newWorkload(prometheus.NewRegistry(), cfg.series, cfg.seed)
	w.profile = newGatherProfile(cfg, modeHTTP)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w, promhttp.HandlerOpts{DisableCompression: true}))
	srv, err := harness.Serve("the producer", mux)
	if err != nil {
		return err
	}
	defer srv.Close()
	if _, err := fmt.Println(srv.Addr); err != nil {
		return fmt.Errorf("write the address: %w", err)
	}
	// The parent closes stdin to stop the producer.
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
