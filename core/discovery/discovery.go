// Package discovery runs the discovery blocks of the configuration: one
// stream of target-group updates per block, from its plugin instance to
// the scrape manager, which turns the groups into targets. Start with
// New.
package discovery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// Sink takes the updates: the scrape manager.
type Sink interface {
	// SetDiscovered takes new, changed and (without targets) gone groups.
	SetDiscovered(name string, groups []sdk.TargetGroup) error
	// ReplaceDiscovered takes every group there is.
	ReplaceDiscovered(name string, groups []sdk.TargetGroup) error
}

// Discoverers gives the plugin instance of a discovery block.
type Discoverers func(name string) (sdk.Discoverer, bool)

// Manager keeps one stream running per discovery block.
type Manager struct {
	sink        Sink
	discoverers Discoverers
	logger      hclog.Logger

	mu   sync.Mutex
	runs map[string]*run
}

// Options are what a Manager needs.
type Options struct {
	// Sink takes the updates; required.
	Sink Sink
	// Discoverers gives the plugin instance of each discovery block;
	// required.
	Discoverers Discoverers
	// Logger receives the manager's log lines; none when nil.
	Logger hclog.Logger
}

// run is the stream of one discovery block.
type run struct {
	d      sdk.Discoverer
	config []byte // the block's config, to tell a changed one
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a manager that feeds opts.Sink.
func New(opts Options) *Manager {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Manager{sink: opts.Sink, discoverers: opts.Discoverers, logger: logger.Named("discovery"), runs: map[string]*run{}}
}

// ApplyConfig makes the streams those of cfg's discovery blocks: a block
// whose plugin instance or config changed restarts its stream (its first
// update replaces the groups of the old one), and a block that is gone
// stops, its targets with it. A block without a plugin instance is an
// error; the others run.
func (m *Manager) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]*hclconfig.PluginInstance{}
	for _, inst := range cfg.Discoveries {
		want[inst.Name] = inst
	}
	var errs []error
	for name, r := range m.runs {
		inst, ok := want[name]
		d, found := m.discoverers(name)
		if ok && found && d == r.d && bytes.Equal(configOf(inst), r.config) {
			delete(want, name)
			continue
		}
		r.stop()
		delete(m.runs, name)
		if !ok {
			if err := m.sink.ReplaceDiscovered(name, nil); err != nil {
				errs = append(errs, fmt.Errorf("cannot remove the targets of discovery %q: %w", name, err))
			}
		}
	}
	for name, inst := range want {
		d, ok := m.discoverers(name)
		if !ok {
			errs = append(errs, fmt.Errorf("discovery %q has no plugin instance", name))
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &run{d: d, config: configOf(inst), cancel: cancel, done: make(chan struct{})}
		m.runs[name] = r
		go m.stream(ctx, name, r)
	}
	return errors.Join(errs...)
}

// configOf is an instance's config as JSON, or nil.
func configOf(inst *hclconfig.PluginInstance) []byte {
	if inst.Values == nil {
		return nil
	}
	b, _ := inst.Values.JSON()
	return b
}

// stream feeds the sink until ctx ends.
func (m *Manager) stream(ctx context.Context, name string, r *run) {
	defer close(r.done)
	first := true
	err := r.d.Discover(ctx, func(groups []sdk.TargetGroup) error {
		var err error
		if first {
			first = false
			err = m.sink.ReplaceDiscovered(name, groups)
		} else {
			err = m.sink.SetDiscovered(name, groups)
		}
		if err != nil {
			// The groups are kept; only some targets could not start.
			m.logger.Error("cannot apply discovered targets", "discovery", name, "error", err)
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		m.logger.Error("discovery ended", "discovery", name, "error", err)
	}
}

func (r *run) stop() {
	r.cancel()
	<-r.done
}

// Run waits for ctx to end, then ends every stream and waits for them.
func (m *Manager) Run(ctx context.Context) error {
	<-ctx.Done()
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, r := range m.runs {
		r.stop()
		delete(m.runs, name)
	}
	return nil
}
