package pluginhost

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/discovery"
	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
	"github.com/vigilmon/vigil/sdk/wasm"
	"github.com/vigilmon/vigil/sdk/wire"
)

// Defaults of WasmOptions.
const (
	DefaultWasmMemoryLimit       = 64 << 20
	DefaultWasmCallTimeout       = 10 * time.Second
	DefaultWasmPoolSize          = 4
	DefaultWasmStderrLimit       = 64 << 10
	DefaultWasmHTTPResponseLimit = 8 << 20
)

// wasmPageSize is the size of a page of Wasm linear memory.
const wasmPageSize = 64 << 10

// ErrWasmMemoryLimit is wrapped by the error of a call during which the
// module ran out of memory: it reached WasmOptions.MemoryLimitBytes.
var ErrWasmMemoryLimit = errors.New("the module ran out of memory")

// WasmOptions say how to load a WebAssembly plugin and bound it.
type WasmOptions struct {
	// Path is the module's file.
	Path string
	// Checksum is the SHA-256 the file must have; when set, a file that
	// does not match is refused before it is compiled.
	Checksum []byte
	// CacheDir keeps compiled modules across restarts; empty for none.
	// Plugins of the process that share a CacheDir (or have none) share
	// the compiler's cache in memory too: a module that another plugin
	// has loaded is not compiled again while that one stays loaded.
	CacheDir string
	// Interpret runs the module in wazero's interpreter instead of
	// compiling it to machine code: it loads in a fraction of the time,
	// and runs calls several times slower. For a short life, such as the
	// schema checks of vigil config validate. CacheDir is then read only
	// when it holds the module compiled by an earlier load (a server's
	// start, say), which reading back is faster still; it is not written.
	Interpret bool
	// MemoryLimitBytes bounds the linear memory of each instance; 64 MiB
	// when zero. It is rounded down to whole 64 KiB pages.
	MemoryLimitBytes int64
	// CallTimeout bounds every call into the module, and the start of an
	// instance; 10s when zero. A call past it is stopped, its instance
	// discarded.
	CallTimeout time.Duration
	// AllowHosts are the hosts http_request may reach: "example.com"
	// (any port), "example.com:8443", "*.example.com" (its subdomains)
	// or an IP address, with or without port. Empty allows none.
	AllowHosts []string
	// PoolSize is how many instances may serve calls at once; 4 when
	// zero. Instances are started when calls need them.
	PoolSize int
	// MaxCallsPerInstance retires an instance after that many calls
	// (Configure, Collect, Discover, Notify), and a fresh one takes its place; zero
	// keeps instances for ever.
	MaxCallsPerInstance int
	// StderrLimitBytes bounds what one call, or the start of an instance,
	// may write to stdout, stderr and the log import together; 64 KiB
	// when zero. The rest is dropped, with one warning.
	StderrLimitBytes int
	// HTTPResponseLimitBytes bounds the body of a response to
	// http_request; 8 MiB when zero.
	HTTPResponseLimitBytes int64
	// Logger receives the module's logs and output; discarded when nil.
	Logger hclog.Logger
}

// WasmPlugin is a loaded WebAssembly plugin: a compiled module and a pool
// of instances of it serving calls. It implements Conn.
type WasmPlugin struct {
	opts    WasmOptions
	path    string
	logger  hclog.Logger
	allow   []allowedHost
	http    *hostHTTP
	runtime wazero.Runtime
	module  wazero.CompiledModule
	info    sdk.Info
	kind    sdk.Kind
	schema  sdk.Schema
	// abi is the Wasm ABI version the module speaks.
	abi uint32

	// sem holds a token for each instance in use.
	sem      chan struct{}
	configMu sync.Mutex // serializes Configure

	// closing ends when Close is called, and with it every call in
	// progress; inflight counts the instances out of the pool, which
	// Close waits for.
	closing  context.Context
	endCalls context.CancelFunc
	inflight sync.WaitGroup

	mu        sync.Mutex
	idle      []*wasmInstance
	closed    bool
	config    []byte // the last config Configure accepted
	configGen uint64 // counts accepted configs; 0 before the first

	nextID    atomic.Uint64
	calls     atomic.Int64
	started   atomic.Int64
	recycled  atomic.Int64
	discarded atomic.Int64
}

var _ Conn = (*WasmPlugin)(nil)

// WasmStats counts what a Wasm plugin's pool has done.
type WasmStats struct {
	// Calls is the number of calls served: Configure, Collect, Discover,
	// Notify.
	Calls int64
	// Started is the number of instances started.
	Started int64
	// Recycled is the number retired after MaxCallsPerInstance calls.
	Recycled int64
	// Discarded is the number dropped because they trapped, timed out,
	// exited, ran out of memory or answered PANIC.
	Discarded int64
	// Idle is the number of instances waiting for a call.
	Idle int
}

// LoadWasm compiles the module at opts.Path, starts a first instance,
// checks its ABI version, and asks it what it is and for its schema. A
// module of ABI version 1 cannot be a discovery plugin: only version 2
// has the polling discover call.
func LoadWasm(ctx context.Context, opts WasmOptions) (*WasmPlugin, error) {
	if opts.MemoryLimitBytes <= 0 {
		opts.MemoryLimitBytes = DefaultWasmMemoryLimit
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultWasmCallTimeout
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = DefaultWasmPoolSize
	}
	if opts.StderrLimitBytes <= 0 {
		opts.StderrLimitBytes = DefaultWasmStderrLimit
	}
	if opts.HTTPResponseLimitBytes <= 0 {
		opts.HTTPResponseLimitBytes = DefaultWasmHTTPResponseLimit
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	pages := opts.MemoryLimitBytes / wasmPageSize
	if pages < 1 || pages > 65536 {
		return nil, fmt.Errorf("wasm plugin %q: memory limit %d bytes is not between 64 KiB and 4 GiB", opts.Path, opts.MemoryLimitBytes)
	}
	allow, err := parseAllowHosts(opts.AllowHosts)
	if err != nil {
		return nil, fmt.Errorf("wasm plugin %q: %w", opts.Path, err)
	}
	code, err := os.ReadFile(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("read wasm plugin: %w", err)
	}
	var sum [sha256.Size]byte // for the checksum and the cache's mark
	if len(opts.Checksum) > 0 || opts.CacheDir != "" {
		sum = sha256.Sum256(code)
	}
	if len(opts.Checksum) > 0 && !bytes.Equal(sum[:], opts.Checksum) {
		return nil, fmt.Errorf("file %q has SHA-256 %x, but %x is expected: refusing to load it", opts.Path, sum, opts.Checksum)
	}
	rt, compiled, err := compileWasm(ctx, code, opts.CacheDir, compiledMark(opts.CacheDir, sum), uint32(pages), opts.Interpret)
	if err != nil {
		return nil, fmt.Errorf("wasm plugin %q: %w", opts.Path, err)
	}
	p := &WasmPlugin{
		opts:    opts,
		path:    opts.Path,
		logger:  opts.Logger,
		allow:   allow,
		runtime: rt,
		module:  compiled,
		sem:     make(chan struct{}, opts.PoolSize),
	}
	p.closing, p.endCalls = context.WithCancel(context.Background())
	p.http = newHostHTTP(p)
	if err := hostImports(ctx, rt); err != nil {
		p.closeRuntime()
		return nil, fmt.Errorf("wasm plugin %q: %w", opts.Path, err)
	}
	if err := p.load(ctx); err != nil {
		p.closeRuntime()
		return nil, fmt.Errorf("wasm plugin %q: %w", opts.Path, err)
	}
	return p, nil
}

// PrecompileWasm compiles the module at path into the compilation cache
// in cacheDir, so that LoadWasm with that CacheDir finds it compiled.
func PrecompileWasm(ctx context.Context, path, cacheDir string) error {
	code, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read wasm plugin: %w", err)
	}
	if cacheDir == "" {
		return errors.New("precompile: no cache directory")
	}
	rt, compiled, err := compileWasm(ctx, code, cacheDir, compiledMark(cacheDir, sha256.Sum256(code)), 65536, false)
	if err != nil {
		return fmt.Errorf("wasm plugin %q: %w", path, err)
	}
	compiled.Close(ctx)
	return rt.Close(ctx)
}

// caches are the compilation caches of the process, by directory (""
// for the one in memory only). They live as long as the process: a
// module compiled for one plugin serves every other that loads it while
// it is loaded.
var caches struct {
	sync.Mutex
	byDir map[string]wazero.CompilationCache
}

func compilationCache(dir string) (wazero.CompilationCache, error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %q: %w", dir, err)
		}
		dir = abs
	}
	caches.Lock()
	defer caches.Unlock()
	if c, ok := caches.byDir[dir]; ok {
		return c, nil
	}
	var c wazero.CompilationCache
	if dir == "" {
		c = wazero.NewCompilationCache()
	} else {
		var err error
		if c, err = wazero.NewCompilationCacheWithDir(dir); err != nil {
			return nil, fmt.Errorf("compilation cache %q: %w", dir, err)
		}
	}
	if caches.byDir == nil {
		caches.byDir = map[string]wazero.CompilationCache{}
	}
	caches.byDir[dir] = c
	return c, nil
}

// compileWasm makes a runtime with the sandbox's settings and compiles
// code in it, or, to interpret, only checks it: code is interpreted when
// interpret is set and the cache in cacheDir does not hold it compiled.
// Compiled code gets the interrupt flag that stops its calls (see
// instrumentModule); the interpreter stops them itself, at every loop
// and call, when their context ends or the module is closed. Compiled
// code with a cache is noted by mark (see compiledMark), which keeps the
// module as rewritten for the interrupt flag: a later load compiles what
// the mark holds, and wazero finds its compiled code in the cache,
// without rewriting the module again (24 ms for a 14 MiB module).
func compileWasm(ctx context.Context, code []byte, cacheDir, mark string, pages uint32, interpret bool) (wazero.Runtime, wazero.CompiledModule, error) {
	kept := readMark(mark)
	interpret = interpret && kept == nil
	config := wazero.NewRuntimeConfigInterpreter().WithCloseOnContextDone(true)
	if !interpret {
		cache, err := compilationCache(cacheDir)
		if err != nil {
			return nil, nil, err
		}
		config = wazero.NewRuntimeConfig().WithCompilationCache(cache)
	}
	config = config.WithMemoryLimitPages(pages)
	compile := func(code []byte) (wazero.Runtime, wazero.CompiledModule, error) {
		rt := wazero.NewRuntimeWithConfig(ctx, config)
		compiled, err := rt.CompileModule(ctx, code)
		if err != nil {
			rt.Close(ctx)
			return nil, nil, fmt.Errorf("compile: %w", err)
		}
		return rt, compiled, nil
	}
	if interpret {
		return compile(code)
	}
	if kept != nil {
		if rt, compiled, err := compile(kept); err == nil {
			return rt, compiled, nil
		}
		// A mark damaged but with a valid checksum: rewrite the module
		// again, and the mark with it.
	}
	code, err := instrumentModule(code)
	if err != nil {
		return nil, nil, fmt.Errorf("compile: %w", err)
	}
	rt, compiled, err := compile(code)
	if err != nil {
		return nil, nil, err
	}
	if mark != "" {
		writeMark(mark, code)
	}
	return rt, compiled, nil
}

// readMark returns the rewritten module that mark keeps (see
// compiledMark), or nil when there is none or it is damaged: the module
// is followed by its CRC-32C (Castagnoli), big-endian, which must match.
func readMark(mark string) []byte {
	if mark == "" {
		return nil
	}
	b, err := os.ReadFile(mark)
	if err != nil || len(b) <= crc32.Size {
		return nil
	}
	code, sum := b[:len(b)-crc32.Size], binary.BigEndian.Uint32(b[len(b)-crc32.Size:])
	if crc32.Checksum(code, castagnoli) != sum {
		return nil
	}
	return code
}

// castagnoli is the CRC-32C table of the marks' checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writeMark writes mark with the rewritten module code and its checksum
// (see readMark), through a temporary file synced and renamed into
// place, so that a reader never sees part of it. A mark that cannot be
// written only costs the next load the rewrite.
func writeMark(mark string, code []byte) {
	if os.MkdirAll(filepath.Dir(mark), 0o755) != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(mark), ".mark-*")
	if err != nil {
		return
	}
	_, err = f.Write(binary.BigEndian.AppendUint32(slices.Clip(code), crc32.Checksum(code, castagnoli)))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), mark)
	}
	if err != nil {
		os.Remove(f.Name())
		return
	}
	pruneMarks(mark)
}

// staleMarkAge is the age past which a temporary file of writeMark was
// left by a process that stopped while writing it.
const staleMarkAge = time.Hour

// pruneMarks removes, beside mark, the folders of marks of other wazero
// or instrumentVersion versions, which no load reads again, and
// temporary files of writeMark older than staleMarkAge. Each mark keeps
// a module (10 to 15 MB for a Go guest), so they would pile up with
// every upgrade.
func pruneMarks(mark string) {
	dir := filepath.Dir(mark)
	cacheDir := filepath.Dir(dir)
	if entries, err := os.ReadDir(cacheDir); err == nil {
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), "vigil-compiled-") && e.Name() != filepath.Base(dir) {
				_ = os.RemoveAll(filepath.Join(cacheDir, e.Name()))
			}
		}
	}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".mark-") {
				continue
			}
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleMarkAge {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
}

// wazeroVersion is the version of wazero this program is built with,
// which compiled the code in its caches.
var wazeroVersion = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" {
				return dep.Version
			}
		}
	}
	return "unknown"
})

// compiledMark is the file that says the compilation cache in cacheDir
// holds the module of SHA-256 sum compiled by this wazero version
// (wazero's own entries cannot be looked up without compiling), and
// keeps that module as instrumentModule rewrote it; compiling writes it.
// Empty for a cache only in memory, which is not noted.
func compiledMark(cacheDir string, sum [sha256.Size]byte) string {
	if cacheDir == "" {
		return ""
	}
	return filepath.Join(cacheDir, "vigil-compiled-"+wazeroVersion()+"-"+instrumentVersion, hex.EncodeToString(sum[:]))
}

// load checks the module and asks its first instance what it is.
func (p *WasmPlugin) load(ctx context.Context) error {
	for _, f := range p.module.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != wasm.ImportModule && mod != wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("the module imports %s.%s: a plugin may import only from %q and %q", mod, name, wasm.ImportModule, wasi_snapshot_preview1.ModuleName)
		}
	}
	if _, ok := p.module.ExportedMemories()["memory"]; !ok {
		return errors.New("the module does not export its memory as \"memory\"")
	}
	exports := p.module.ExportedFunctions()
	if _, ok := exports["_initialize"]; !ok {
		if _, ok := exports["_start"]; ok {
			return errors.New("the module is a command (it exports _start), not a reactor: build it with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared")
		}
	}
	if err := checkSignature(exports, wasm.ExportABIVersion, nil, []api.ValueType{api.ValueTypeI32}); err != nil {
		return fmt.Errorf("not a Vigil plugin module: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	inst, err := p.newInstance(ctx)
	if err != nil {
		return err
	}
	keep := false
	defer func() {
		if !keep {
			inst.close()
		}
	}()
	res, err := p.guard(ctx, inst, wasm.ExportABIVersion, func(ctx context.Context) ([]uint64, error) {
		return inst.mod.ExportedFunction(wasm.ExportABIVersion).Call(ctx)
	})
	if err != nil {
		return err
	}
	p.abi = uint32(res[0])
	if p.abi < wasm.MinABIVersion || p.abi > wasm.ABIVersion {
		return fmt.Errorf("the module speaks Wasm ABI version %d, this host speaks versions %d to %d", p.abi, wasm.MinABIVersion, wasm.ABIVersion)
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	checks := []struct {
		name            string
		params, results []api.ValueType
	}{
		{wasm.ExportAlloc, []api.ValueType{i32}, []api.ValueType{i32}},
		{wasm.ExportFree, []api.ValueType{i32}, nil},
		{wasm.ExportInfo, []api.ValueType{i32, i32}, []api.ValueType{i64}},
		{wasm.ExportSchema, []api.ValueType{i32, i32}, []api.ValueType{i64}},
		{wasm.ExportConfigure, []api.ValueType{i32, i32}, []api.ValueType{i64}},
	}
	for _, c := range checks {
		if err := checkSignature(exports, c.name, c.params, c.results); err != nil {
			return err
		}
	}

	info := &pb.InfoResponse{}
	if _, err := p.invoke(ctx, inst, wasm.ExportInfo, &pb.InfoRequest{}, info); err != nil {
		return err
	}
	if p.info, p.kind, err = client.InfoFromProto(info); err != nil {
		return err
	}
	switch p.kind {
	case sdk.KindDiscoverer:
		if p.abi < 2 {
			return fmt.Errorf("plugin %q is a discovery plugin of Wasm ABI version %d, which has no discover call: a discovery module needs version 2 (vigil_discover)", p.info.Name, p.abi)
		}
		err = checkSignature(exports, wasm.ExportDiscover, []api.ValueType{i32, i32}, []api.ValueType{i64})
	case sdk.KindExporter:
		err = checkSignature(exports, wasm.ExportCollect, []api.ValueType{i32, i32}, []api.ValueType{i64})
	case sdk.KindNotifier:
		err = checkSignature(exports, wasm.ExportNotify, []api.ValueType{i32, i32}, []api.ValueType{i64})
	}
	if err != nil {
		return fmt.Errorf("plugin %q: %w", p.info.Name, err)
	}
	schema := &pb.SchemaResponse{}
	if _, err := p.invoke(ctx, inst, wasm.ExportSchema, &pb.SchemaRequest{}, schema); err != nil {
		return err
	}
	if p.schema, err = client.SchemaFromProto(schema); err != nil {
		return fmt.Errorf("plugin %q: %w", p.info.Name, err)
	}
	p.logger.Debug("loaded wasm plugin", "plugin", p.info.Name, "version", p.info.Version, "kind", p.kind.String(), "abi", p.abi)
	keep = true
	p.idle = append(p.idle, inst)
	return nil
}

// checkSignature checks that the module exports a function called name
// of the given signature.
func checkSignature(exports map[string]api.FunctionDefinition, name string, params, results []api.ValueType) error {
	def, ok := exports[name]
	if !ok {
		return fmt.Errorf("the module does not export %s", name)
	}
	if !slicesEqual(def.ParamTypes(), params) || !slicesEqual(def.ResultTypes(), results) {
		return fmt.Errorf("the module exports %s as %s, want %s", name, signature(def.ParamTypes(), def.ResultTypes()), signature(params, results))
	}
	return nil
}

func slicesEqual(a, b []api.ValueType) bool { return bytes.Equal(a, b) }

func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		var b bytes.Buffer
		b.WriteByte('(')
		for i, t := range ts {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(api.ValueTypeName(t))
		}
		b.WriteByte(')')
		return b.String()
	}
	return names(params) + " -> " + names(results)
}

// Info says what the plugin is. The module is asked once, at load.
func (p *WasmPlugin) Info(context.Context) (sdk.Info, sdk.Kind, error) {
	info := p.info
	info.Capabilities = slices.Clone(info.Capabilities)
	return info, p.kind, nil
}

// Schema lists the plugin's config attributes. The module is asked once,
// at load.
func (p *WasmPlugin) Schema(context.Context) (sdk.Schema, error) {
	return slices.Clone(p.schema), nil
}

// Configure hands the plugin its config. The config is tried on one
// instance; once accepted, every other instance, idle, busy or started
// later, gets it before its next call. On failure the instances keep the
// config they had.
func (p *WasmPlugin) Configure(ctx context.Context, configJSON []byte) error {
	p.configMu.Lock()
	defer p.configMu.Unlock()
	configJSON = bytes.Clone(configJSON)
	return p.call(ctx, "configure", func(ctx context.Context, inst *wasmInstance) (bool, error) {
		resp := &pb.ConfigureResponse{}
		broken, err := p.invoke(ctx, inst, wasm.ExportConfigure, &pb.ConfigureRequest{ConfigJson: configJSON}, resp)
		if err != nil {
			return broken, err
		}
		if err := client.ConfigureError(resp); err != nil {
			return false, err
		}
		p.mu.Lock()
		p.config = configJSON
		p.configGen++
		inst.configGen = p.configGen
		p.mu.Unlock()
		return false, nil
	})
}

// Collect asks an exporter plugin for its metrics, decoded.
func (p *WasmPlugin) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	b, err := p.CollectDelimited(ctx)
	if err != nil && sdk.AsTargetError(err) == nil {
		return nil, err
	}
	families, derr := client.DecodeFamilies(b)
	if derr != nil {
		return nil, derr
	}
	return families, err
}

// CollectDelimited asks an exporter plugin for its metrics in the
// delimited protobuf format, as the module answers them. A response with
// a target_error comes with an *sdk.TargetError, as over gRPC.
func (p *WasmPlugin) CollectDelimited(ctx context.Context) ([]byte, error) {
	if p.kind != sdk.KindExporter {
		return nil, p.wrongKind(sdk.KindExporter)
	}
	return p.collect(ctx, nil)
}

// CollectTargetDelimited is CollectDelimited for one target of a
// multi-target exporter: the module collects t. Only a module of ABI
// version 2 that claims the multi-target capability can: the collect
// call of version 1 takes no target.
func (p *WasmPlugin) CollectTargetDelimited(ctx context.Context, t sdk.Target) ([]byte, error) {
	if p.kind != sdk.KindExporter {
		return nil, p.wrongKind(sdk.KindExporter)
	}
	if p.abi < 2 {
		return nil, fmt.Errorf("wasm plugin %q speaks Wasm ABI version %d, whose collect call takes no target: it cannot collect target %q", p.info.Name, p.abi, t.Address)
	}
	if !p.info.HasCapability(sdk.CapabilityMultiTarget) {
		return nil, fmt.Errorf("wasm plugin %q is not a multi-target exporter: it cannot collect target %q", p.info.Name, t.Address)
	}
	return p.collect(ctx, client.TargetToProto(t))
}

// collect calls the module's collect export, for target when it is not
// nil.
func (p *WasmPlugin) collect(ctx context.Context, target *pb.CollectTarget) ([]byte, error) {
	var families []byte
	var targetErr string
	err := p.call(ctx, "collect", func(ctx context.Context, inst *wasmInstance) (bool, error) {
		if err := p.bringUpToDate(ctx, inst); err != nil {
			return true, err
		}
		req := &pb.CollectRequest{Target: target}
		if d, ok := ctx.Deadline(); ok {
			req.TimeoutMillis = time.Until(d).Milliseconds()
		}
		resp := &pb.CollectResponse{}
		broken, err := p.invoke(ctx, inst, wasm.ExportCollect, req, resp)
		if err != nil {
			return broken, err
		}
		families, targetErr = resp.MetricFamilies, resp.TargetError
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return families, client.TargetError(targetErr)
}

// DefaultWasmRefreshInterval is how often a discovery module is polled
// when its config has no refresh_interval.
const DefaultWasmRefreshInterval = 60 * time.Second

// Discover polls a discovery module now and at every refresh interval
// (the config's refresh_interval attribute) until ctx ends, and sends
// what changed as a gRPC plugin's stream does: first every group, then
// the groups that are new or changed, and each group that vanished with
// its Source and no targets. A failed poll is logged and keeps the groups
// of the last good one; when the first fails, an empty first update is
// sent at once, so that the host does not wait for it.
func (p *WasmPlugin) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	if p.kind != sdk.KindDiscoverer {
		return p.wrongKind(sdk.KindDiscoverer)
	}
	var tracker discovery.Tracker
	sent := false
	for {
		groups, err := p.poll(ctx)
		var update []sdk.TargetGroup
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.logger.Warn("discovery poll failed; keeping the last target groups", "plugin", p.info.Name, "error", err)
		default:
			update = tracker.Set("", groups)
		}
		if !sent && update == nil {
			update = []sdk.TargetGroup{}
		}
		if update != nil {
			if err := send(update); err != nil {
				return err
			}
			sent = true
		}
		t := time.NewTimer(p.refreshInterval())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// poll calls the module's discover export once.
func (p *WasmPlugin) poll(ctx context.Context) ([]sdk.TargetGroup, error) {
	var groups []sdk.TargetGroup
	err := p.call(ctx, "discover", func(ctx context.Context, inst *wasmInstance) (bool, error) {
		if err := p.bringUpToDate(ctx, inst); err != nil {
			return true, err
		}
		resp := &pb.DiscoverResponse{}
		broken, err := p.invoke(ctx, inst, wasm.ExportDiscover, &pb.DiscoverRequest{}, resp)
		if err != nil {
			return broken, err
		}
		groups = client.TargetGroupsFromProto(resp)
		return false, nil
	})
	return groups, err
}

// refreshInterval is the refresh_interval of the config Configure last
// accepted, or DefaultWasmRefreshInterval.
func (p *WasmPlugin) refreshInterval() time.Duration {
	p.mu.Lock()
	config := p.config
	p.mu.Unlock()
	var c struct {
		RefreshInterval string `json:"refresh_interval"`
	}
	if json.Unmarshal(config, &c) != nil || c.RefreshInterval == "" {
		return DefaultWasmRefreshInterval
	}
	d, err := model.ParseDuration(c.RefreshInterval)
	if err != nil || d <= 0 {
		p.logger.Warn("the config's refresh_interval is not a positive duration; polling at the default", "plugin", p.info.Name, "refresh_interval", c.RefreshInterval, "default", DefaultWasmRefreshInterval)
		return DefaultWasmRefreshInterval
	}
	return time.Duration(d)
}

// Notify asks a notifier plugin to deliver n. An error the plugin marks
// as not retryable is wrapped with sdk.Permanent; a failure of the module
// itself (a trap, a timeout) is retryable.
func (p *WasmPlugin) Notify(ctx context.Context, n *sdk.Notification) error {
	if p.kind != sdk.KindNotifier {
		return p.wrongKind(sdk.KindNotifier)
	}
	return p.call(ctx, "notify", func(ctx context.Context, inst *wasmInstance) (bool, error) {
		if err := p.bringUpToDate(ctx, inst); err != nil {
			return true, err
		}
		resp := &pb.NotifyResponse{}
		broken, err := p.invoke(ctx, inst, wasm.ExportNotify, &pb.NotifyRequest{Notification: n.Proto()}, resp)
		if err != nil {
			return broken, err
		}
		return false, client.NotifyError(resp)
	})
}

// Stats counts what the plugin's pool has done.
func (p *WasmPlugin) Stats() WasmStats {
	p.mu.Lock()
	idle := len(p.idle)
	p.mu.Unlock()
	return WasmStats{
		Calls:     p.calls.Load(),
		Started:   p.started.Load(),
		Recycled:  p.recycled.Load(),
		Discarded: p.discarded.Load(),
		Idle:      idle,
	}
}

// Close stops every instance, ending the calls in progress, and frees
// the compiled module.
func (p *WasmPlugin) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.idle = nil
	p.mu.Unlock()
	// Ending the calls' contexts interrupts them; they return at once,
	// and the runtime is closed once no instance runs.
	p.endCalls()
	p.inflight.Wait()
	p.http.close()
	return p.closeRuntime()
}

func (p *WasmPlugin) closeRuntime() error {
	p.endCalls()
	ctx := context.Background()
	err := p.runtime.Close(ctx)
	p.module.Close(ctx)
	if err != nil {
		return fmt.Errorf("close wasm plugin %q: %w", p.path, err)
	}
	return nil
}

func (p *WasmPlugin) wrongKind(want sdk.Kind) error {
	article := func(k sdk.Kind) string {
		if k == sdk.KindExporter {
			return "an " + k.String()
		}
		return "a " + k.String()
	}
	return fmt.Errorf("plugin %q is %s plugin, not %s plugin", p.info.Name, article(p.kind), article(want))
}

// errWasmClosed is the error of calls after Close, and of those Close
// ends.
var errWasmClosed = errors.New("the plugin is closed")

// call runs fn on an instance from the pool, within the call timeout.
// fn says whether the instance must be discarded.
func (p *WasmPlugin) call(ctx context.Context, what string, fn func(context.Context, *wasmInstance) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wasm plugin %q: %s: %w", p.info.Name, what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	defer context.AfterFunc(p.closing, cancel)()
	inst, err := p.acquire(ctx)
	if err != nil {
		return fmt.Errorf("wasm plugin %q: %s: %w", p.info.Name, what, err)
	}
	p.calls.Add(1)
	inst.calls++
	broken, err := fn(ctx, inst)
	p.release(inst, broken)
	if err != nil {
		return fmt.Errorf("wasm plugin %q: %w", p.info.Name, err)
	}
	return nil
}

// acquire takes an idle instance, or starts one, once fewer than
// PoolSize are in use.
func (p *WasmPlugin) acquire(ctx context.Context) (*wasmInstance, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		if p.closing.Err() != nil {
			return nil, errWasmClosed
		}
		return nil, fmt.Errorf("waiting for a free instance: %w", ctx.Err())
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, errWasmClosed
	}
	p.inflight.Add(1)
	if n := len(p.idle); n > 0 {
		inst := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return inst, nil
	}
	p.mu.Unlock()
	inst, err := p.newInstance(ctx)
	if err != nil {
		p.inflight.Done()
		<-p.sem
		return nil, err
	}
	return inst, nil
}

// release returns an instance to the pool, or discards it when it is
// broken or has served its calls.
func (p *WasmPlugin) release(inst *wasmInstance, broken bool) {
	defer func() {
		p.inflight.Done()
		<-p.sem
	}()
	// An instance whose interrupt flag was set, even by a deadline that
	// came as its call returned, would trap in its next call.
	broken = broken || inst.interrupted.Load()
	recycle := !broken && p.opts.MaxCallsPerInstance > 0 && inst.calls >= p.opts.MaxCallsPerInstance
	p.mu.Lock()
	if !broken && !recycle && !p.closed {
		p.idle = append(p.idle, inst)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	switch {
	case broken:
		p.discarded.Add(1)
		p.logger.Debug("discarded a wasm instance", "instance", inst.id, "calls", inst.calls)
	case recycle:
		p.recycled.Add(1)
		p.logger.Trace("recycled a wasm instance", "instance", inst.id, "calls", inst.calls)
	}
	inst.close()
}

// bringUpToDate hands inst the last config Configure accepted, unless it
// has it already.
func (p *WasmPlugin) bringUpToDate(ctx context.Context, inst *wasmInstance) error {
	p.mu.Lock()
	config, gen := p.config, p.configGen
	p.mu.Unlock()
	if inst.configGen == gen {
		return nil
	}
	resp := &pb.ConfigureResponse{}
	if _, err := p.invoke(ctx, inst, wasm.ExportConfigure, &pb.ConfigureRequest{ConfigJson: config}, resp); err != nil {
		return fmt.Errorf("configure a new instance: %w", err)
	}
	if err := client.ConfigureError(resp); err != nil {
		return fmt.Errorf("configure a new instance: %w", err)
	}
	inst.configGen = gen
	return nil
}

// invoke calls the export name of inst with req, protobuf-encoded (a
// NotifyRequest by package wire, without proto's reflection), and
// decodes the result frame's response into resp. It says whether inst
// must be discarded.
func (p *WasmPlugin) invoke(ctx context.Context, inst *wasmInstance, name string, req, resp proto.Message) (broken bool, err error) {
	var in []byte
	if n, ok := req.(*pb.NotifyRequest); ok {
		in, err = wire.MarshalNotifyRequest(n)
	} else {
		in, err = proto.Marshal(req)
	}
	if err != nil {
		return false, fmt.Errorf("%s: encode the request: %w", name, err)
	}
	var frame []byte
	_, err = p.guard(ctx, inst, name, func(ctx context.Context) ([]uint64, error) {
		var ptr uint64
		if len(in) > 0 {
			res, err := inst.alloc.Call(ctx, uint64(len(in)))
			if err != nil {
				return nil, err
			}
			ptr = res[0]
			if ptr == 0 || !inst.mod.Memory().Write(uint32(ptr), in) {
				return nil, fmt.Errorf("%s returned no buffer for %d bytes", wasm.ExportAlloc, len(in))
			}
		}
		res, err := inst.mod.ExportedFunction(name).Call(ctx, ptr, uint64(len(in)))
		if err != nil {
			return nil, err
		}
		if ptr != 0 {
			if _, err := inst.free.Call(ctx, ptr); err != nil {
				return nil, err
			}
		}
		out, size := wasm.Unpack(res[0])
		if size == 0 {
			return nil, fmt.Errorf("%s returned no result frame", name)
		}
		b, ok := inst.mod.Memory().Read(out, size)
		if !ok {
			return nil, fmt.Errorf("%s returned a result frame (%d bytes at %#x) outside its memory", name, size, out)
		}
		frame = bytes.Clone(b)
		_, err = inst.free.Call(ctx, uint64(out))
		return nil, err
	})
	if err != nil {
		return true, err
	}
	switch status := wasm.Status(frame[0]); status {
	case wasm.StatusOK:
		if err := proto.Unmarshal(frame[1:], resp); err != nil {
			return false, fmt.Errorf("%s: decode the response: %w", name, err)
		}
		return false, nil
	case wasm.StatusError:
		return false, fmt.Errorf("%s: %s", name, frame[1:])
	default:
		return status == wasm.StatusPanic, fmt.Errorf("%s: %s: %s", name, status, frame[1:])
	}
}

// guard runs fn, a call into inst, and turns the ways a call can fail
// into errors that say what happened: a timeout, an exit, a trap, a
// memory limit reached.
func (p *WasmPlugin) guard(ctx context.Context, inst *wasmInstance, name string, fn func(context.Context) ([]uint64, error)) ([]uint64, error) {
	start := time.Now()
	p.begin(ctx, inst)
	ctx = context.WithValue(ctx, callKey{}, &callState{plugin: p, inst: inst})
	res, err := fn(ctx)
	p.end(inst)
	if err == nil {
		return res, nil
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errWasmClosed
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			d, _ := ctx.Deadline()
			return nil, fmt.Errorf("%s: did not return within %s; the instance was stopped: %w", name, d.Sub(start).Round(time.Millisecond), ctxErr)
		}
		return nil, fmt.Errorf("%s: the call was cancelled; the instance was stopped: %w", name, ctxErr)
	}
	detail := inst.stderr.summary()
	if inst.outOfMemory(detail, p.opts.MemoryLimitBytes) {
		err = fmt.Errorf("%w (memory limit %d MiB): %v", ErrWasmMemoryLimit, p.opts.MemoryLimitBytes>>20, err)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) && !errors.Is(err, ErrWasmMemoryLimit) {
		err = fmt.Errorf("the module exited with code %d", exit.ExitCode())
	}
	if detail != "" {
		return nil, fmt.Errorf("%s: %w; it wrote: %s", name, err, detail)
	}
	return nil, fmt.Errorf("%s: %w", name, err)
}

// newInstance starts an instance of the module, running its
// _initialize export.
func (p *WasmPlugin) newInstance(ctx context.Context) (*wasmInstance, error) {
	inst := &wasmInstance{id: p.nextID.Add(1)}
	budget := &outputBudget{limit: p.opts.StderrLimitBytes}
	inst.budget = budget
	inst.stdout = newGuestOutput(p.logger, "stdout", budget, hclog.Info)
	inst.stderr = newGuestOutput(p.logger, "stderr", budget, hclog.Warn)
	// The module's start function (which instrumentModule exports) and
	// _initialize are called below, as calls the interrupt flag can stop,
	// once the instance exists.
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(inst.stdout).
		WithStderr(inst.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.sleep).
		WithRandSource(rand.Reader)
	callCtx := context.WithValue(ctx, callKey{}, &callState{plugin: p, inst: inst})
	mod, err := p.runtime.InstantiateModule(callCtx, p.module, cfg)
	if err == nil {
		inst.mod = mod
		if flag, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal); ok {
			inst.flag = flag
		}
		for _, name := range []string{startExport, "_initialize"} {
			if f := mod.ExportedFunction(name); f != nil && err == nil {
				p.begin(ctx, inst)
				_, err = f.Call(callCtx)
				p.end(inst)
			}
		}
		if err != nil {
			mod.Close(context.Background())
		}
	}
	if err != nil {
		detail := inst.stderr.summary()
		if ctx.Err() != nil {
			err = fmt.Errorf("did not start within %s: %w", p.opts.CallTimeout, ctx.Err())
		}
		if detail != "" {
			return nil, fmt.Errorf("start an instance: %w; it wrote: %s", err, detail)
		}
		return nil, fmt.Errorf("start an instance: %w", err)
	}
	// load checks these exports before any call uses them.
	inst.alloc = mod.ExportedFunction(wasm.ExportAlloc)
	inst.free = mod.ExportedFunction(wasm.ExportFree)
	p.started.Add(1)
	p.logger.Trace("started a wasm instance", "instance", inst.id)
	return inst, nil
}

// wasmInstance is one instance of the module. It serves one call at a
// time.
type wasmInstance struct {
	id          uint64
	mod         api.Module
	alloc, free api.Function
	calls       int
	configGen   uint64

	budget         *outputBudget
	stdout, stderr *guestOutput
	// done is the Done channel of the call in progress, which ends the
	// module's sleeps.
	done atomic.Pointer[<-chan struct{}]

	// flag is the module's interrupt flag (see instrumentModule); nil
	// in the interpreter. stop disarms the interrupt of the call in
	// progress; interrupted says that the flag was set or may yet be.
	flag        api.MutableGlobal
	stop        func() bool
	interrupted atomic.Bool
}

// begin readies inst for a call under ctx, and arms its interrupt: the
// call is stopped when ctx ends (at its deadline, or when the plugin is
// closed).
func (p *WasmPlugin) begin(ctx context.Context, inst *wasmInstance) {
	done := ctx.Done()
	inst.done.Store(&done)
	inst.budget.reset()
	inst.stdout.reset()
	inst.stderr.reset()
	if inst.flag == nil {
		return
	}
	inst.stop = context.AfterFunc(ctx, inst.interrupt)
}

// end flushes what the call wrote, and disarms its interrupt.
func (p *WasmPlugin) end(inst *wasmInstance) {
	inst.stdout.flush()
	inst.stderr.flush()
	inst.done.Store(nil)
	if inst.flag == nil {
		return
	}
	if !inst.stop() {
		// The interrupt has started: it sets the flag, if it has
		// not yet.
		inst.interrupted.Store(true)
	}
}

// interrupt sets the module's interrupt flag: the call in progress traps
// at the next head of a loop it reaches.
func (inst *wasmInstance) interrupt() {
	inst.interrupted.Store(true)
	inst.flag.Set(1)
}

// sleep implements the module's sleeps (WASI poll_oneoff): they end
// early when the call does, so a sleeping module can be stopped.
func (inst *wasmInstance) sleep(ns int64) {
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	var done <-chan struct{}
	if d := inst.done.Load(); d != nil {
		done = *d
	}
	select {
	case <-t.C:
	case <-done:
	}
}

// outOfMemory guesses whether a failed call ran out of memory: the
// module said so, or its memory is within a Go heap arena of the limit.
func (inst *wasmInstance) outOfMemory(output string, limit int64) bool {
	if bytes.Contains([]byte(output), []byte("out of memory")) {
		return true
	}
	if inst.mod == nil {
		return false
	}
	return int64(inst.mod.Memory().Size())+4<<20 >= limit
}

func (inst *wasmInstance) close() {
	if inst.mod != nil {
		inst.mod.Close(context.Background())
	}
}

// callKey keys the callState of a call in its context, for the host
// functions.
type callKey struct{}

// callState is what the host functions know of the call they serve.
type callState struct {
	plugin *WasmPlugin
	inst   *wasmInstance
}

func stateOf(ctx context.Context) *callState {
	s, _ := ctx.Value(callKey{}).(*callState)
	return s
}
