// Package promexport serves a plugin's client_golang metrics at the cost
// of encoding them once. Its Registry is a client_golang registry (a
// prometheus.Registerer and prometheus.Gatherer, so promauto.With,
// collectors and promhttp work with it as they do with
// prometheus.NewRegistry), and its Exporter is the plugin's
// sdk.Exporter:
//
//	reg := promexport.NewRegistry()
//	reg.MustRegister(myCollector)
//	return reg.Exporter(), nil
//
// The exporter writes each collection straight into the delimited
// protobuf format the host parses: it takes each metric from its
// collector, checks it as prometheus.Registry.Gather does and encodes it,
// without building the client_model families Gather returns, sorting
// them and encoding them again. The bytes are those
// sdk.GathererExporter sends for the same registry, and a collection
// fails on the same errors Gather reports (see Registry.Exporter).
package promexport

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
)

// Registry holds the collectors of a plugin. Its zero value is not
// usable; NewRegistry makes one.
type Registry struct {
	reg *prometheus.Registry // checks registrations and serves Gather

	mu  sync.Mutex // held to change cur
	cur atomic.Pointer[registered]

	states sync.Pool // of *state
}

// registered is what is registered at one time; a registration or an
// unregistration makes a new one.
type registered struct {
	collectors []collector
}

// collector is a registered collector and its descriptors.
type collector struct {
	c       prometheus.Collector
	descs   []string // Desc.String of each, sorted
	checked bool     // Describe yields descriptors
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.cur.Store(&registered{})
	r.states.New = func() any { return newState() }
	return r
}

// Register registers c as prometheus.Registry.Register does, with the
// same checks and errors.
func (r *Registry) Register(c prometheus.Collector) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reg.Register(c); err != nil {
		return err
	}
	e := collector{c: c, descs: describe(c)}
	e.checked = len(e.descs) > 0
	old := r.cur.Load()
	r.cur.Store(&registered{collectors: append(slices.Clip(old.collectors), e)})
	return nil
}

// MustRegister registers each of cs, panicking on the first error, as
// prometheus.Registry.MustRegister does.
func (r *Registry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Unregister unregisters the collector with c's descriptors, as
// prometheus.Registry.Unregister does, and returns whether there was one.
func (r *Registry) Unregister(c prometheus.Collector) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.reg.Unregister(c) {
		return false
	}
	descs := describe(c)
	old := r.cur.Load()
	i := slices.IndexFunc(old.collectors, func(e collector) bool { return e.checked && slices.Equal(e.descs, descs) })
	if i < 0 {
		return true
	}
	r.cur.Store(&registered{collectors: slices.Delete(slices.Clone(old.collectors), i, i+1)})
	return true
}

// Gather gathers the registry as prometheus.Registry.Gather does.
func (r *Registry) Gather() ([]*dto.MetricFamily, error) { return r.reg.Gather() }

// describe returns the sorted Desc.String of c's descriptors, each once,
// as client_golang identifies a collector by its distinct descriptors: a
// collector that describes itself by collecting (DescribeByCollect) may
// send one descriptor once per series, and as many as it has series.
func describe(c prometheus.Collector) []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	var out []string
	for d := range ch {
		out = append(out, d.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Exporter returns the plugin's exporter of r's metrics. Its
// CollectDelimited, which the SDK's server calls, encodes each
// collection as it collects it; Collect returns Gather's families.
//
// A collection fails, as Gather does, on a metric whose Write fails, one
// whose family name is not a valid metric name, one that is of
// another type or help than the family's first, one without a value, a
// label name that is repeated, invalid or reserved, a label value that
// is not UTF-8, a quantile label on a summary, two series of the same
// name and labels, and family names that collide with a summary's or a
// histogram's series. Families are sorted by name and series by label
// values, as Gather sorts them. It reads a family's name, help and unit
// from its descriptor's String; should a client_golang release write
// that otherwise, the exporter encodes Gather's families instead.
func (r *Registry) Exporter() sdk.Exporter { return exporter{r: r} }

type exporter struct{ r *Registry }

func (e exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	families, err := e.r.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	return families, nil
}

func (e exporter) CollectDelimited(ctx context.Context, b []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return b, fmt.Errorf("gather: %w", err)
	}
	out, err := e.r.collectDelimited(b)
	if errors.Is(err, errDescFormat) {
		// A client_golang whose descriptors read otherwise: Gather
		// knows them.
		return e.r.gatherDelimited(b)
	}
	return out, err
}

// gatherDelimited appends Gather's families to b.
func (r *Registry) gatherDelimited(b []byte) ([]byte, error) {
	families, err := r.Gather()
	if err != nil {
		return b, fmt.Errorf("gather: %w", err)
	}
	for _, f := range families {
		if b, err = sdk.AppendDelimited(b, f); err != nil {
			return b, err
		}
	}
	return b, nil
}

// collectDelimited collects every collector and appends the collection
// to b.
func (r *Registry) collectDelimited(b []byte) ([]byte, error) {
	reg := r.cur.Load()
	st := r.states.Get().(*state)
	defer r.states.Put(st)
	st.begin()
	if err := st.collect(reg.collectors); err != nil {
		return b, fmt.Errorf("gather: %w", err)
	}
	out, err := st.appendFamilies(b)
	if err != nil {
		return b, fmt.Errorf("gather: %w", err)
	}
	return out, nil
}

// collect runs the collectors' Collect and adds each metric they send.
// As Gather does, it runs them in goroutines, starting another whenever
// no metric is waiting, up to one per collector, so that collectors that
// wait (on a database, a file) wait together. A panic of a Collect is
// raised again here, once every collector is done.
func (st *state) collect(collectors []collector) error {
	if len(collectors) == 0 {
		return nil
	}
	queue := make(chan prometheus.Collector, len(collectors))
	for _, c := range collectors {
		queue <- c.c
	}
	close(queue)
	ch := make(chan prometheus.Metric, 1024)
	var (
		remaining = int64(len(collectors))
		panicked  atomic.Pointer[any]
	)
	worker := func() {
		for c := range queue {
			func() {
				defer func() {
					if p := recover(); p != nil {
						panicked.CompareAndSwap(nil, &p)
					}
					if atomic.AddInt64(&remaining, -1) == 0 {
						close(ch)
					}
				}()
				c.Collect(ch)
			}()
		}
	}
	go worker()
	budget := len(collectors) - 1
	var err error
	add := func(m prometheus.Metric) {
		if err == nil {
			err = st.add(m)
		}
	}
loop:
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				break loop
			}
			add(m)
			continue
		default:
		}
		if budget > 0 && len(queue) > 0 {
			go worker()
			budget--
			runtime.Gosched()
			continue
		}
		m, ok := <-ch
		if !ok {
			break
		}
		add(m)
	}
	if p := panicked.Load(); p != nil {
		panic(*p)
	}
	return err
}

// suffixCollision is the error Gather reports when the family names
// collide with a summary's or a histogram's series, or nil.
func suffixCollision(fams map[string]*family, f *family) error {
	name := f.name
	base := ""
	switch {
	case strings.HasSuffix(name, "_count"):
		base = name[:len(name)-6]
	case strings.HasSuffix(name, "_sum"):
		base = name[:len(name)-4]
	case strings.HasSuffix(name, "_bucket"):
		base = name[:len(name)-7]
	}
	if g, ok := fams[base]; ok && base != "" {
		switch g.typ {
		case dto.MetricType_SUMMARY:
			if !strings.HasSuffix(name, "_bucket") {
				return fmt.Errorf("collected metric named %q collides with previously collected summary named %q", name, base)
			}
		case dto.MetricType_HISTOGRAM:
			return fmt.Errorf("collected metric named %q collides with previously collected histogram named %q", name, base)
		}
	}
	if f.typ == dto.MetricType_SUMMARY || f.typ == dto.MetricType_HISTOGRAM {
		for _, suffix := range []string{"_count", "_sum"} {
			if _, ok := fams[name+suffix]; ok {
				return fmt.Errorf("collected histogram or summary named %q collides with previously collected metric named %q", name, name+suffix)
			}
		}
	}
	if f.typ == dto.MetricType_HISTOGRAM {
		if _, ok := fams[name+"_bucket"]; ok {
			return fmt.Errorf("collected histogram named %q collides with previously collected metric named %q", name, name+"_bucket")
		}
	}
	return nil
}
