package conformance

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// Target is the plugin under test: a program speaking gRPC, a WebAssembly
// module, or a plugin in this process. Set Path or Plugin, not both.
type Target struct {
	// Path is a plugin program, or a WebAssembly module when it ends in
	// ".wasm".
	Path string
	// Plugin is a plugin run in this process, through the same
	// sdk.Server that sdk.Serve uses, without a process or a wire: quick
	// to test, but the checks of the handshake and of stdout are skipped.
	Plugin *sdk.Plugin

	// WasmCacheDir is the compilation cache for a module
	// (pluginhost.WasmOptions.CacheDir); empty for none.
	WasmCacheDir string
	// AllowHosts are hosts a module may reach besides 127.0.0.1, which
	// the suite's loopback receiver needs.
	AllowHosts []string
}

// Program is the Target of a plugin program, or of a module when path
// ends in ".wasm".
func Program(path string) Target { return Target{Path: path} }

// InProcess is the Target of a plugin run in this process.
func InProcess(p *sdk.Plugin) Target { return Target{Plugin: p} }

// IsWasm says whether the target is a WebAssembly module.
func (t Target) IsWasm() bool { return t.Plugin == nil && strings.HasSuffix(t.Path, ".wasm") }

// String names the target in reports.
func (t Target) String() string {
	if t.Plugin != nil {
		return "in-process plugin " + fmt.Sprintf("%q", t.Plugin.Info.Name)
	}
	return t.Path
}

func (t Target) check() error {
	switch {
	case t.Plugin != nil && t.Path != "":
		return errors.New("conformance target sets both Path and Plugin")
	case t.Plugin == nil && t.Path == "":
		return errors.New("conformance target sets neither Path nor Plugin")
	}
	return nil
}

// conn is what the checks call: pluginhost.Conn without the decoded
// Collect, which the checks do themselves.
type conn interface {
	Info(ctx context.Context) (sdk.Info, sdk.Kind, error)
	Schema(ctx context.Context) (sdk.Schema, error)
	Configure(ctx context.Context, configJSON []byte) error
	CollectDelimited(ctx context.Context) ([]byte, error)
	CollectTargetDelimited(ctx context.Context, t sdk.Target) ([]byte, error)
	Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error
	Notify(ctx context.Context, n *sdk.Notification) error
	Close() error
}

// plugConn is a started plugin and what the suite can see of it.
type plugConn struct {
	conn
	// logs holds what the plugin logged (hclog JSON lines), and for a
	// module what it wrote to stdout and stderr.
	logs *syncBuffer
	// stdout holds what a program wrote to stdout after the handshake;
	// nil when that cannot be seen.
	stdout *syncBuffer
	// pid is the plugin's process; 0 when it has none.
	pid    int
	exited func() bool
	// closeTime is how long Close took.
	closeTime time.Duration
	closeOnce sync.Once
}

// close stops the plugin once, timing it.
func (c *plugConn) close() {
	c.closeOnce.Do(func() {
		start := time.Now()
		c.conn.Close()
		c.closeTime = time.Since(start)
	})
}

// alive says whether the plugin can still serve: its process runs.
func (c *plugConn) alive() bool { return c.exited == nil || !c.exited() }

// processGone says whether the plugin's process is gone from the system.
func (c *plugConn) processGone() bool {
	if c.pid == 0 {
		return true
	}
	if c.exited != nil && !c.exited() {
		return false
	}
	p, err := os.FindProcess(c.pid)
	if err != nil {
		return true
	}
	return p.Signal(syscall.Signal(0)) != nil
}

// start starts the target.
func start(ctx context.Context, t Target, opts *Options) (*plugConn, error) {
	logs := &syncBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, JSONFormat: true, Level: hclog.Trace, Name: "plugin"})
	switch {
	case t.Plugin != nil:
		srv, err := sdk.NewServer(*t.Plugin)
		if err != nil {
			return nil, err
		}
		return &plugConn{conn: inProcess{srv: srv}, logs: logs}, nil
	case t.IsWasm():
		w, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{
			Path:        t.Path,
			CacheDir:    t.WasmCacheDir,
			AllowHosts:  append([]string{"127.0.0.1"}, t.AllowHosts...),
			CallTimeout: opts.CallTimeout,
			Logger:      logger,
		})
		if err != nil {
			return nil, err
		}
		return &plugConn{conn: w, logs: logs}, nil
	}
	stdout := &syncBuffer{}
	p, err := client.Start(client.Options{Path: t.Path, Logger: logger, Stdout: stdout, StartTimeout: opts.StartTimeout})
	if err != nil {
		return nil, err
	}
	pid := 0
	if rc := p.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	return &plugConn{conn: grpcConn{p}, logs: logs, stdout: stdout, pid: pid, exited: p.Exited}, nil
}

// grpcConn is a plugin program.
type grpcConn struct{ *client.Plugin }

func (c grpcConn) Close() error { c.Kill(); return nil }

// inProcess calls an sdk.Server directly, converting through the
// protocol's messages as the wire would.
type inProcess struct{ srv *sdk.Server }

func (c inProcess) Info(context.Context) (sdk.Info, sdk.Kind, error) {
	return client.InfoFromProto(c.srv.Info())
}

func (c inProcess) Schema(context.Context) (sdk.Schema, error) {
	return client.SchemaFromProto(c.srv.Schema())
}

func (c inProcess) Configure(_ context.Context, configJSON []byte) error {
	return client.ConfigureError(c.srv.Configure(&pb.ConfigureRequest{ConfigJson: configJSON}))
}

func (c inProcess) CollectDelimited(ctx context.Context) ([]byte, error) {
	var out []byte
	var targetErr string
	err := c.srv.Collect(ctx, func(r *pb.CollectResponse) error {
		out = append(out, r.MetricFamilies...)
		targetErr = cmp.Or(r.TargetError, targetErr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, client.TargetError(targetErr)
}

func (c inProcess) CollectTargetDelimited(ctx context.Context, t sdk.Target) ([]byte, error) {
	var out []byte
	var targetErr string
	err := c.srv.CollectRequest(ctx, &pb.CollectRequest{Target: client.TargetToProto(t)}, func(r *pb.CollectResponse) error {
		out = append(out, r.MetricFamilies...)
		targetErr = cmp.Or(r.TargetError, targetErr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, client.TargetError(targetErr)
}

func (c inProcess) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	return c.srv.Discover(ctx, func(r *pb.DiscoverResponse) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return send(client.TargetGroupsFromProto(r))
	})
}

func (c inProcess) Notify(ctx context.Context, n *sdk.Notification) error {
	return client.NotifyError(c.srv.Notify(ctx, &pb.NotifyRequest{Notification: n.Proto()}))
}

func (c inProcess) Close() error { return nil }

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
