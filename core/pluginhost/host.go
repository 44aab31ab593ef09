package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// checkInterval is how often the host checks that every plugin runs.
const checkInterval = 2 * time.Second

// maxResolving bounds the plugins Resolve checks at once: loading a Go
// Wasm module of 15-20 MB in the interpreter takes about 250 MB while it
// is loaded.
const maxResolving = 2

// Host keeps the plugin instances of the configuration running:
// ApplyConfig starts, reconfigures and stops them, Run restarts those that
// die, and Exporter, Discoverer and Notifier hand them to the rest of the
// server.
type Host struct {
	logger    hclog.Logger
	metrics   *Metrics
	cacheDir  string // Wasm compilation cache; empty for none
	interpret bool   // load Wasm plugins in the interpreter
	// checkEvery is how often Run checks the plugins: checkInterval,
	// but in tests.
	checkEvery time.Duration

	// keepChecked keeps the plugins Resolve checked, for ApplyConfig's
	// new instances (Options.KeepCheckedPlugins).
	keepChecked bool

	mu        sync.Mutex
	instances map[instanceKey]*managed
	// checked are the plugins Resolve started or loaded and checked,
	// running, each waiting for the first new instance of its plugin.
	checked []checkedPlugin
	// closed is set by Close: a check still running then stops what it
	// started.
	closed bool
	// opened counts the plugins started or loaded; tests read it.
	opened atomic.Int64
}

// checkedPlugin is a plugin Resolve checked and kept running.
type checkedPlugin struct {
	plugin hclconfig.Plugin // Range cleared
	conn   Conn
}

type instanceKey struct {
	kind sdk.Kind
	name string
}

// managed is an instance with what it was made from, to tell on reload
// whether it can stay.
type managed struct {
	*Instance
	plugin hclconfig.Plugin // Range cleared
	// kept is the plugin Resolve checked, until the instance starts
	// with it.
	kept *keptConn
}

// stop closes the instance and the checked plugin it did not start with.
func (m *managed) stop() error {
	if conn := m.kept.take(); conn != nil {
		conn.Close()
	}
	return m.Close()
}

// keptConn hands a checked plugin to the one instance that starts with
// it, once.
type keptConn struct {
	mu   sync.Mutex
	conn Conn
}

// take returns the plugin, the first time; then nil.
func (k *keptConn) take() Conn {
	k.mu.Lock()
	defer k.mu.Unlock()
	conn := k.conn
	k.conn = nil
	return conn
}

// Options are what a Host needs.
type Options struct {
	// Logger receives the host's log lines and the plugins'; none when
	// nil.
	Logger hclog.Logger
	// CacheDir keeps compiled Wasm modules across starts; none when
	// empty.
	CacheDir string
	// InterpretWasm loads Wasm plugins in the interpreter (see
	// WasmOptions.Interpret): for a host that lives only to check
	// configurations.
	InterpretWasm bool
	// KeepCheckedPlugins keeps each plugin that Resolve starts (or
	// loads) and checks running, for the first instance of it that
	// ApplyConfig creates next, instead of stopping it and starting it
	// again: a server starts each plugin once. Those no new instance
	// takes stop with ApplyConfig, or with the next Resolve or Close.
	KeepCheckedPlugins bool
}

// New returns a host with no plugins: ApplyConfig starts them.
func New(opts Options) *Host {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Host{logger: logger.Named("plugins"), metrics: NewMetrics(), cacheDir: opts.CacheDir, interpret: opts.InterpretWasm,
		keepChecked: opts.KeepCheckedPlugins, checkEvery: checkInterval, instances: map[instanceKey]*managed{}}
}

// Metrics returns the plugin metrics, for the server's /metrics.
func (h *Host) Metrics() *Metrics { return h.metrics }

// Open starts or loads the plugin of a plugin block, unconfigured.
func (h *Host) Open(ctx context.Context, p *hclconfig.Plugin) (Conn, error) {
	if p.Registry == nil && filepath.Base(p.Source) == p.Source {
		// hclconfig resolves a bare file name it finds to its path.
		return nil, fmt.Errorf("plugin %q: %q is not in the configuration's folder, beside vigil, nor on PATH (run make plugins, or give its path)", p.Name, p.Source)
	}
	h.opened.Add(1)
	if p.IsWasm() {
		return h.openWasm(ctx, p)
	}
	return StartGRPC(p.Name, p.Source, configDir(p), p.Checksum, grantedEnv(p.Env), h.logger)
}

// configDir is the folder of the configuration file that declares p, as
// an absolute path: a plugin program runs there, so that the relative
// paths of its blocks (a file discovery's files, a CA file) start where
// the server's own relative paths do. Empty when p comes from no file.
func configDir(p *hclconfig.Plugin) string {
	if p.Range.Filename == "" {
		return ""
	}
	dir, err := filepath.Abs(filepath.Dir(p.Range.Filename))
	if err != nil {
		return ""
	}
	return dir
}

// grantedEnv is the environment of a plugin program: the variables of the
// server's environment that its block names, those set.
func grantedEnv(names []string) []string {
	var env []string
	for _, name := range names {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// Resolve checks the configuration's plugins before anything runs: it
// opens each plugin block's plugin once, checks that it is of the kind
// every block using it needs, decodes each block's config against the
// plugin's schema and has the plugin check the config with Configure.
// Every problem is a diagnostic at its place in the file. It returns a
// copy of cfg whose instances carry their decoded configs
// (hclconfig.Config.WithPluginValues), for ApplyConfig; cfg is not
// changed. It then stops the plugins it opened, but with
// Options.KeepCheckedPlugins when it found no error: then the first new
// instance of each that ApplyConfig makes starts with it.
//
// The plugins are checked two at a time when there are two CPUs or
// more: loading a Wasm module is CPU-bound, and each plugin is checked on
// its own. The diagnostics come in the order of the plugin blocks all the
// same.
func (h *Host) Resolve(ctx context.Context, cfg *hclconfig.Config) (*hclconfig.Config, hcl.Diagnostics) {
	h.DiscardChecked()
	byPlugin := map[*hclconfig.Plugin][]*hclconfig.PluginInstance{}
	var plugins []*hclconfig.Plugin
	for _, inst := range cfg.Instances() {
		if _, ok := byPlugin[inst.Plugin]; !ok {
			plugins = append(plugins, inst.Plugin)
		}
		byPlugin[inst.Plugin] = append(byPlugin[inst.Plugin], inst)
	}
	type result struct {
		diags  hcl.Diagnostics
		values map[*hclconfig.PluginInstance]*sdk.Config
	}
	results := make([]result, len(plugins))
	var g errgroup.Group
	g.SetLimit(min(runtime.GOMAXPROCS(0), maxResolving))
	for i, p := range plugins {
		g.Go(func() error {
			values := map[*hclconfig.PluginInstance]*sdk.Config{}
			results[i] = result{diags: h.resolvePlugin(ctx, p, byPlugin[p], values), values: values}
			return nil
		})
	}
	_ = g.Wait() // every check reports through its diagnostics
	var diags hcl.Diagnostics
	values := map[*hclconfig.PluginInstance]*sdk.Config{}
	for _, r := range results {
		diags = append(diags, r.diags...)
		maps.Copy(values, r.values)
	}
	if diags.HasErrors() {
		h.DiscardChecked() // the configuration will not be applied
	}
	return cfg.WithPluginValues(values), diags
}

func (h *Host) resolvePlugin(ctx context.Context, p *hclconfig.Plugin, uses []*hclconfig.PluginInstance, values map[*hclconfig.PluginInstance]*sdk.Config) hcl.Diagnostics {
	rng := p.Range
	conn, err := h.Open(ctx, p)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot load plugin", Detail: fmt.Sprintf("%v.", err), Subject: &rng}}
	}
	var diags hcl.Diagnostics
	defer func() {
		if h.keepChecked && !diags.HasErrors() {
			h.keep(p, conn)
			return
		}
		h.logger.Debug("stopping the plugin started to check the configuration; it starts again when used", "plugin", p.Name)
		conn.Close()
	}()
	info, kind, err := conn.Info(ctx)
	if err != nil {
		diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Plugin does not answer", Detail: fmt.Sprintf("Plugin %q: %v.", p.Name, err), Subject: &rng}}
		return diags
	}
	schema, err := conn.Schema(ctx)
	if err != nil {
		diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Plugin does not answer", Detail: fmt.Sprintf("Plugin %q: %v.", p.Name, err), Subject: &rng}}
		return diags
	}
	for _, inst := range uses {
		if kind != inst.Kind {
			r := inst.PluginRange
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Wrong kind of plugin",
				Detail:  fmt.Sprintf("Plugin %q (%s) is %s plugin; %s block needs %s plugin.", p.Name, info.Name, withArticle(kind), withArticle(inst.Kind), withArticle(inst.Kind)),
				Subject: &r,
			})
			continue
		}
		if inst.MultiTarget && !info.HasCapability(sdk.CapabilityMultiTarget) {
			r := inst.TargetsRange
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Plugin takes no targets",
				Detail:  fmt.Sprintf("Exporter %q has targets, but plugin %q (%s) is not a multi-target exporter (it does not claim the %q capability): remove targets and discovery, or use a multi-target plugin.", inst.Name, p.Name, info.Name, sdk.CapabilityMultiTarget),
				Subject: &r,
			})
			continue
		}
		configJSON, d := hclconfig.DecodePluginConfig(inst, schema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		parsed, err := schema.Parse(configJSON)
		if err == nil {
			err = conn.Configure(ctx, configJSON)
		}
		if err != nil {
			diags = append(diags, configDiagnostic(inst, err))
			continue
		}
		values[inst] = &parsed
	}
	return diags
}

// withArticle writes a kind with its indefinite article: "an exporter".
func withArticle(k sdk.Kind) string {
	if k == sdk.KindExporter {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// configDiagnostic places a plugin's config error at the attribute it
// names, or at the block.
func configDiagnostic(inst *hclconfig.PluginInstance, err error) *hcl.Diagnostic {
	rng := inst.Range
	var ae *sdk.AttributeError
	if errors.As(err, &ae) && inst.Body != nil {
		if attrs, diags := inst.Body.JustAttributes(); !diags.HasErrors() {
			if a, ok := attrs[ae.Attribute]; ok {
				rng = a.Expr.Range()
			}
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: "Invalid plugin config",
		Detail:  fmt.Sprintf("Plugin %q refuses the config of %s %q: %v.", inst.Plugin.Name, inst.Kind, inst.Name, err),
		Subject: &rng,
	}
}

// ApplyConfig makes the running instances those of cfg, as Resolve
// returned it: new ones are created (their plugins start on first
// use, or were kept running by Resolve), ones whose config alone changed
// are reconfigured, ones whose plugin changed are replaced, and ones that
// are gone stop. The plugins Resolve kept that no new instance takes
// stop.
func (h *Host) ApplyConfig(ctx context.Context, cfg *hclconfig.Config) error {
	var unused []Conn
	defer func() { closeAll(unused) }() // after the lock is released
	h.mu.Lock()
	defer h.mu.Unlock()
	want := map[instanceKey]*hclconfig.PluginInstance{}
	for _, inst := range cfg.Instances() {
		want[instanceKey{inst.Kind, inst.Name}] = inst
	}
	var errs []error
	for key, m := range h.instances {
		inst, ok := want[key]
		if ok && samePlugin(m.plugin, *inst.Plugin) {
			config, err := configJSON(inst)
			if err == nil {
				err = m.Reconfigure(ctx, config)
			}
			if err == nil {
				delete(want, key)
				continue
			}
			errs = append(errs, err)
		}
		m.stop()
		delete(h.instances, key)
	}
	for key, inst := range want {
		config, err := configJSON(inst)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p := *inst.Plugin
		p.Range = hcl.Range{}
		kept := &keptConn{conn: h.takeChecked(p)}
		open := func(ctx context.Context) (Conn, error) {
			if conn := kept.take(); conn != nil {
				// It was checked moments ago; unless it died since, it
				// is the plugin this instance starts with.
				if _, _, err := conn.Info(ctx); err == nil {
					return conn, nil
				}
				conn.Close()
			}
			return h.Open(ctx, inst.Plugin)
		}
		h.instances[key] = &managed{
			Instance: NewInstance(inst.Name, inst.Plugin.Name, inst.Kind, config, open, h.logger, h.metrics),
			plugin:   p,
			kept:     kept,
		}
	}
	unused = h.takeAllChecked()
	return errors.Join(errs...)
}

// keep keeps conn, the running plugin of block p that Resolve checked,
// for ApplyConfig; once the host is closed, it stops it.
func (h *Host) keep(p *hclconfig.Plugin, conn Conn) {
	kept := *p
	kept.Range = hcl.Range{}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		conn.Close()
		return
	}
	h.checked = append(h.checked, checkedPlugin{plugin: kept, conn: conn})
}

// takeChecked removes and returns the kept plugin of block p, if any.
// h.mu must be held.
func (h *Host) takeChecked(p hclconfig.Plugin) Conn {
	for i, c := range h.checked {
		if samePlugin(c.plugin, p) {
			h.checked = slices.Delete(h.checked, i, i+1)
			return c.conn
		}
	}
	return nil
}

// DiscardChecked stops the plugins the last Resolve kept running
// (Options.KeepCheckedPlugins) that no instance took: a caller that
// does not apply the configuration it resolved calls it. Resolve,
// ApplyConfig and Close call it too.
func (h *Host) DiscardChecked() {
	h.mu.Lock()
	unused := h.takeAllChecked()
	h.mu.Unlock()
	closeAll(unused)
}

// takeAllChecked removes and returns every kept plugin. h.mu must be
// held.
func (h *Host) takeAllChecked() []Conn {
	var conns []Conn
	for _, c := range h.checked {
		h.logger.Debug("stopping the plugin started to check the configuration, which no new block uses", "plugin", c.plugin.Name)
		conns = append(conns, c.conn)
	}
	h.checked = nil
	return conns
}

// closeAll closes conns at once: stopping a plugin process may wait for
// it to exit.
func closeAll(conns []Conn) {
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.Close() })
	}
	wg.Wait()
}

// configJSON is an instance's decoded config as Configure takes it.
func configJSON(inst *hclconfig.PluginInstance) ([]byte, error) {
	if inst.Values == nil {
		return nil, fmt.Errorf("%s %q: the config was not resolved against plugin %q (Host.Resolve)", inst.Kind, inst.Name, inst.Plugin.Name)
	}
	return inst.Values.JSON()
}

func samePlugin(a, b hclconfig.Plugin) bool {
	a.Range, b.Range = hcl.Range{}, hcl.Range{}
	return reflect.DeepEqual(a, b)
}

func (h *Host) instance(kind sdk.Kind, name string) (*Instance, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, ok := h.instances[instanceKey{kind, name}]
	if !ok {
		return nil, false
	}
	return m.Instance, true
}

// Exporter returns the instance of the exporter block called name.
func (h *Host) Exporter(name string) (sdk.Exporter, bool) { return h.instance(sdk.KindExporter, name) }

// Discoverer returns the instance of the discovery block called name.
func (h *Host) Discoverer(name string) (sdk.Discoverer, bool) {
	return h.instance(sdk.KindDiscoverer, name)
}

// Notifier returns the instance of the notifier block called name.
func (h *Host) Notifier(name string) (sdk.Notifier, bool) { return h.instance(sdk.KindNotifier, name) }

// Names returns the names of the instances of a kind, sorted.
func (h *Host) Names(kind sdk.Kind) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for key := range h.instances {
		if key.kind == kind {
			out = append(out, key.name)
		}
	}
	sort.Strings(out)
	return out
}

// Status returns the status of every instance, sorted by kind and name.
func (h *Host) Status() []Status {
	h.mu.Lock()
	list := make([]*Instance, 0, len(h.instances))
	for _, m := range h.instances {
		list = append(list, m.Instance)
	}
	h.mu.Unlock()
	out := make([]Status, 0, len(list))
	for _, i := range list {
		out = append(out, i.Status())
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Kind != out[b].Kind {
			return out[a].Kind < out[b].Kind
		}
		return out[a].Name < out[b].Name
	})
	return out
}

// Run checks at once, then every few seconds, that each instance's
// plugin runs: it starts those not started yet, so that a notifier is
// ready before its first notification, and restarts those that died or
// hang, until ctx ends; then it stops every plugin.
func (h *Host) Run(ctx context.Context) error {
	t := time.NewTicker(h.checkEvery)
	defer t.Stop()
	for first := true; ; first = false {
		if first && ctx.Err() != nil {
			return h.Close()
		}
		if !first {
			select {
			case <-ctx.Done():
				return h.Close()
			case <-t.C:
			}
		}
		h.mu.Lock()
		list := make([]*Instance, 0, len(h.instances))
		for _, m := range h.instances {
			list = append(list, m.Instance)
		}
		h.mu.Unlock()
		for _, i := range list {
			cctx, cancel := context.WithTimeout(ctx, startTimeout)
			i.Check(cctx) // failures are logged and counted by the instance
			cancel()
		}
	}
}

// Close stops every plugin.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	var errs []error
	for key, m := range h.instances {
		errs = append(errs, m.stop())
		delete(h.instances, key)
	}
	closeAll(h.takeAllChecked())
	return errors.Join(errs...)
}
