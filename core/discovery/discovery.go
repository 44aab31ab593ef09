// Package discovery runs the discovery blocks of the configuration: one
// stream of target-group updates per block, from its plugin instance to
// the scrape manager, which turns the groups into targets. Start with
// Manager.
package discovery

import (
	"bytes"
	"context"
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
	sink   Sink
	logger hclog.Logger

	mu   sync.Mutex
	runs map[string]*run
}

// run is the stream of one discovery block.
type run struct {
	d      sdk.Discoverer
	config []byte // the block's config, to tell a changed one
	cancel context.CancelFunc
	done   chan struct{}
}

// NewManager returns a manager that feeds sink.
func NewManager(sink Sink, logger hclog.Logger) *Manager {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Manager{sink: sink, logger: logger.Named("discovery"), runs: map[string]*run{}}
}

// ApplyConfig makes the streams those of cfg's discovery blocks: a block
// whose plugin instance or config changed restarts its stream (its first
// update replaces the groups of the old one), and a block that is gone
// stops, its targets with it.
func (m *Manager) ApplyConfig(cfg *hclconfig.Config, get Discoverers) {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]*hclconfig.PluginInstance{}
	for _, inst := range cfg.Discoveries {
		want[inst.Name] = inst
	}
	for name, r := range m.runs {
		inst, ok := want[name]
		d, found := get(name)
		if ok && found && d == r.d && bytes.Equal(configOf(inst), r.config) {
			delete(want, name)
			continue
		}
		r.stop()
		delete(m.runs, name)
		if !ok {
			if err := m.sink.ReplaceDiscovered(name, nil); err != nil {
				m.logger.Error("cannot remove the targets of a discovery", "discovery", name, "error", err)
			}
		}
	}
	for name, inst := range want {
		d, ok := get(name)
		if !ok {
			m.logger.Error("discovery has no plugin instance", "discovery", name)
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &run{d: d, config: configOf(inst), cancel: cancel, done: make(chan struct{})}
		m.runs[name] = r
		go m.stream(ctx, name, r)
	}
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

// Stop ends every stream and waits for them.
func (m *Manager) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, r := range m.runs {
		r.stop()
		delete(m.runs, name)
	}
}
