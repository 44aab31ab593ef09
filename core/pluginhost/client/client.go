// Package client starts a plugin binary and talks to it: the host's side
// of the gRPC plugin protocol. Start returns a *Plugin, which implements
// sdk.Exporter, sdk.Discoverer and sdk.Notifier over the wire (the plugin
// answers the one of its kind). Vigil's plugin host and the conformance
// suite use it; plugin authors do not need it, so it lives in Vigil's
// module, not in the SDK's.
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
	pbgrpc "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1/pluginv1grpc"
)

// MaxMessageBytes bounds one message from a plugin. A collection is
// streamed in chunks well below it.
const MaxMessageBytes = 64 << 20

// Options say how to start a plugin.
type Options struct {
	// Path is the plugin's executable; Args are its arguments.
	Path string
	Args []string
	// Dir is the plugin's working directory, where the relative paths of
	// its configuration start; the host's when empty.
	Dir string
	// Env is the plugin's environment, as NAME=value, besides the
	// variables of go-plugin's handshake: the host's own environment is
	// not passed on.
	Env []string
	// Checksum is the SHA-256 the executable must have; when set, a
	// binary that does not match is refused before it runs.
	Checksum []byte
	// Logger receives the plugin's stderr, as hclog JSON lines, under the
	// plugin's name; and, line by line at info, what it writes to
	// os.Stderr once served, which go-plugin forwards over gRPC.
	Logger hclog.Logger
	// Stdout receives what the plugin writes to stdout after the
	// handshake, which it should never do; discarded when nil.
	Stdout io.Writer
	// StartTimeout bounds the handshake; 30s when zero.
	StartTimeout time.Duration
	// Reattach connects to a plugin already running, for example under a
	// debugger, instead of starting Path.
	Reattach *plugin.ReattachConfig
}

// Plugin is a running plugin.
type Plugin struct {
	client *plugin.Client
	// started is closed once the process has ended, letting the thread
	// that started it go.
	started  chan<- struct{}
	stopOnce sync.Once
	rpc      plugin.ClientProtocol
	health   healthpb.HealthClient
	plugin   pbgrpc.PluginClient
	exporter pbgrpc.ExporterClient
	discover pbgrpc.DiscovererClient
	notifier pbgrpc.NotifierClient
}

// Start starts the plugin and completes the handshake.
func Start(opts Options) (*Plugin, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginName: &grpcClientPlugin{}}},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		Logger:           opts.Logger,
		StartTimeout:     opts.StartTimeout,
		SyncStdout:       opts.Stdout,
		SyncStderr:       &lineLogger{logger: opts.Logger},
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.ForceCodecV2(sdk.GRPCCodec{}))},
	}
	if opts.Reattach != nil {
		cfg.Reattach = opts.Reattach
		// go-plugin negotiates nothing when it reattaches: the set is given.
		cfg.Plugins = cfg.VersionedPlugins[sdk.ProtocolVersion]
	} else {
		path := opts.Path
		if opts.Dir != "" && !filepath.IsAbs(path) {
			// A relative path is the host's, not Dir's, which the
			// command would start from.
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
		}
		cmd := exec.Command(path, opts.Args...)
		// Not nil: a nil Env would run the plugin with the host's.
		cmd.Env = append([]string{}, opts.Env...)
		cmd.Dir = opts.Dir
		endWithParent(cmd)
		cfg.Cmd = cmd
		if len(opts.Checksum) > 0 {
			cfg.SecureConfig = &plugin.SecureConfig{Checksum: opts.Checksum, Hash: sha256.New()}
		}
	}
	c := plugin.NewClient(cfg)
	rpc, started, err := startOnOwnThread(c)
	if err != nil {
		c.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, fmt.Errorf("file %q has SHA-256 %s, but %x is expected: refusing to run it", opts.Path, fileSHA256(opts.Path), opts.Checksum)
		}
		return nil, fmt.Errorf("cannot start plugin %q: %w", opts.Path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("cannot reach plugin %q: %w", opts.Path, err)
	}
	conn := raw.(*grpc.ClientConn)
	return &Plugin{
		client:   c,
		started:  started,
		rpc:      rpc,
		health:   healthpb.NewHealthClient(conn),
		plugin:   pbgrpc.NewPluginClient(conn),
		exporter: pbgrpc.NewExporterClient(conn),
		discover: pbgrpc.NewDiscovererClient(conn),
		notifier: pbgrpc.NewNotifierClient(conn),
	}, nil
}

// fileSHA256 is the hex SHA-256 of a file, or why there is none.
func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Kill stops the plugin process and waits for it to end.
func (p *Plugin) Kill() {
	p.client.Kill()
	p.stopOnce.Do(func() { close(p.started) })
}

// startOnOwnThread starts the plugin from a goroutine locked to its OS
// thread, and keeps that thread until the returned channel is closed,
// after the process ended. On Linux the plugin's parent-death signal
// fires when the thread that forked it ends, not the process: the Go
// runtime ends a thread when a goroutine locked to it returns, so a
// plugin started from an ordinary goroutine could be killed at any time
// by some goroutine of the host that locks its thread and returns (Go
// issue 27505). A thread kept locked by a goroutine waiting for the
// plugin to end cannot be ended that way; it ends with the process.
// Starting or reattaching without a process, the channel is closed when
// the start fails.
func startOnOwnThread(c *plugin.Client) (plugin.ClientProtocol, chan<- struct{}, error) {
	type result struct {
		rpc plugin.ClientProtocol
		err error
	}
	done := make(chan struct{})
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		rpc, err := c.Client()
		res <- result{rpc, err}
		if err == nil {
			<-done
		}
	}()
	r := <-res
	return r.rpc, done, r.err
}

// Exited says whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Healthy checks, within ctx, that the plugin process runs and answers
// its health service: a plugin that hangs fails it at ctx's deadline.
func (p *Plugin) Healthy(ctx context.Context) error {
	if p.client.Exited() {
		return errors.New("the plugin process has exited")
	}
	r, err := p.health.Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if r.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health check: the plugin says %s", r.Status)
	}
	return nil
}

// ReattachConfig says how to reach the running plugin from another host
// process.
func (p *Plugin) ReattachConfig() *plugin.ReattachConfig { return p.client.ReattachConfig() }

// Info asks the plugin what it is.
func (p *Plugin) Info(ctx context.Context) (sdk.Info, sdk.Kind, error) {
	r, err := p.plugin.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return sdk.Info{}, 0, fmt.Errorf("info: %w", err)
	}
	return InfoFromProto(r)
}

// InfoFromProto converts an Info answer, refusing an unknown kind or
// protocol version.
func InfoFromProto(r *pb.InfoResponse) (sdk.Info, sdk.Kind, error) {
	info := sdk.Info{Name: r.Name, Version: r.Version, Description: r.Description, Capabilities: r.Capabilities}
	kind := sdk.Kind(r.Kind)
	if kind < sdk.KindExporter || kind > sdk.KindNotifier {
		return info, 0, fmt.Errorf("plugin %q says it is of unknown kind %d", r.Name, r.Kind)
	}
	if r.ProtocolVersion != sdk.ProtocolVersion {
		return info, 0, fmt.Errorf("plugin %q speaks protocol version %d, want %d", r.Name, r.ProtocolVersion, sdk.ProtocolVersion)
	}
	return info, kind, nil
}

// Schema asks the plugin for its config attributes.
func (p *Plugin) Schema(ctx context.Context) (sdk.Schema, error) {
	r, err := p.plugin.Schema(ctx, &pb.SchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return SchemaFromProto(r)
}

// SchemaFromProto converts a Schema answer.
func SchemaFromProto(r *pb.SchemaResponse) (sdk.Schema, error) {
	var s sdk.Schema
	for _, a := range r.Attributes {
		attr := sdk.Attribute{
			Name: a.Name, Type: sdk.AttributeType(a.Type), Description: a.Description,
			Required: a.Required, Sensitive: a.Sensitive,
		}
		if a.DefaultJson != "" {
			if err := json.Unmarshal([]byte(a.DefaultJson), &attr.Default); err != nil {
				return nil, fmt.Errorf("attribute %q has a default that is not JSON: %w", a.Name, err)
			}
		}
		s = append(s, attr)
	}
	return s, nil
}

// Configure hands the plugin its config, a JSON object. An error about
// one attribute is an *sdk.AttributeError.
func (p *Plugin) Configure(ctx context.Context, configJSON []byte) error {
	r, err := p.plugin.Configure(ctx, &pb.ConfigureRequest{ConfigJson: configJSON})
	if err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	return ConfigureError(r)
}

// ConfigureError is the error of a Configure answer, or nil.
func ConfigureError(r *pb.ConfigureResponse) error {
	switch {
	case r.Error == "":
		return nil
	case r.ErrorAttribute != "":
		return &sdk.AttributeError{Attribute: r.ErrorAttribute, Err: errors.New(r.Error)}
	}
	return errors.New(r.Error)
}

// Collect asks an exporter plugin for its metrics, decoded; a family
// split over several messages is joined again.
// When the plugin reports a target error, the families come with an
// *sdk.TargetError.
func (p *Plugin) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	b, err := p.CollectDelimited(ctx)
	if err != nil && sdk.AsTargetError(err) == nil {
		return nil, err
	}
	families, derr := DecodeFamilies(b)
	if derr != nil {
		return nil, derr
	}
	return families, err
}

// CollectDelimited asks an exporter plugin for its metrics as they come
// over the wire: MetricFamily messages in the delimited protobuf format,
// ready for a parser of that exposition format. When the plugin reports
// its target down (the response's target_error), it returns the
// families together with an *sdk.TargetError holding that error.
func (p *Plugin) CollectDelimited(ctx context.Context) ([]byte, error) {
	return p.collectDelimited(ctx, nil)
}

// CollectTargetDelimited is CollectDelimited for one target of a
// multi-target exporter: the plugin collects t. A plugin that is not a
// multi-target exporter answers with an error.
func (p *Plugin) CollectTargetDelimited(ctx context.Context, t sdk.Target) ([]byte, error) {
	return p.collectDelimited(ctx, TargetToProto(t))
}

// TargetToProto is t as the protocol's CollectRequest carries it.
func TargetToProto(t sdk.Target) *pb.CollectTarget {
	return &pb.CollectTarget{Address: t.Address, Module: t.Module, Params: t.Params}
}

func (p *Plugin) collectDelimited(ctx context.Context, target *pb.CollectTarget) ([]byte, error) {
	req := &pb.CollectRequest{Target: target}
	if d, ok := ctx.Deadline(); ok {
		req.TimeoutMillis = time.Until(d).Milliseconds()
	}
	stream, err := p.exporter.Collect(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	var out []byte
	var targetErr string
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, TargetError(targetErr)
		}
		if err != nil {
			return nil, fmt.Errorf("collect: %w", err)
		}
		if r.TargetError != "" {
			targetErr = r.TargetError
		}
		if out == nil {
			out = r.MetricFamilies
		} else {
			out = append(out, r.MetricFamilies...)
		}
	}
}

// TargetError is the target error a collection's response carries, as
// an *sdk.TargetError, or nil when msg is empty.
func TargetError(msg string) error {
	if msg == "" {
		return nil
	}
	return sdk.TargetDown(errors.New(msg))
}

// DecodeFamilies decodes metric families in the delimited protobuf
// format, joining a family split over consecutive messages.
func DecodeFamilies(b []byte) ([]*dto.MetricFamily, error) {
	var out []*dto.MetricFamily
	for len(b) > 0 {
		n, l := protowire.ConsumeVarint(b)
		if l < 0 || uint64(len(b)-l) < n {
			return nil, fmt.Errorf("collect: metric family %d is cut short", len(out)+1)
		}
		f := &dto.MetricFamily{}
		if err := proto.Unmarshal(b[l:l+int(n)], f); err != nil {
			return nil, fmt.Errorf("collect: metric family %d: %w", len(out)+1, err)
		}
		b = b[l+int(n):]
		if k := len(out); k > 0 && out[k-1].GetName() == f.GetName() && out[k-1].GetType() == f.GetType() {
			out[k-1].Metric = append(out[k-1].Metric, f.Metric...)
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// Discover streams a discovery plugin's updates to send until ctx ends or
// the plugin stops.
func (p *Plugin) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	stream, err := p.discover.Discover(ctx, &pb.DiscoverRequest{})
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	for {
		r, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return errors.New("discover: the plugin ended the stream")
			}
			return fmt.Errorf("discover: %w", err)
		}
		if err := send(TargetGroupsFromProto(r)); err != nil {
			return err
		}
	}
}

// TargetGroupsFromProto converts a Discover answer.
func TargetGroupsFromProto(r *pb.DiscoverResponse) []sdk.TargetGroup {
	out := make([]sdk.TargetGroup, 0, len(r.Groups))
	for _, g := range r.Groups {
		tg := sdk.TargetGroup{Source: g.Source, Labels: g.Labels}
		for _, t := range g.Targets {
			tg.Targets = append(tg.Targets, t.Labels)
		}
		out = append(out, tg)
	}
	return out
}

// Notify asks a notifier plugin to deliver n. An error the plugin marks
// as not retryable is wrapped with sdk.Permanent.
func (p *Plugin) Notify(ctx context.Context, n *sdk.Notification) error {
	r, err := p.notifier.Notify(ctx, &pb.NotifyRequest{Notification: n.Proto()})
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return NotifyError(r)
}

// NotifyError is the error of a Notify answer, or nil.
func NotifyError(r *pb.NotifyResponse) error {
	switch {
	case r.Error == "":
		return nil
	case r.Retryable:
		return errors.New(r.Error)
	}
	return sdk.Permanent(errors.New(r.Error))
}

// grpcClientPlugin hands go-plugin's connection to Start. It is the host
// side only.
type grpcClientPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// GRPCServer implements plugin.GRPCPlugin; the host serves nothing.
func (grpcClientPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the host side has no server")
}

// GRPCClient implements plugin.GRPCPlugin.
func (grpcClientPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return conn, nil
}

// maxLoggedLine bounds a line lineLogger logs; the rest of a longer line
// is dropped.
const maxLoggedLine = 16 << 10

// lineLogger logs, line by line at info, what a plugin writes to
// os.Stderr once served: go-plugin forwards it in chunks that may split
// a line, and discards it unless given a writer.
type lineLogger struct {
	mu     sync.Mutex
	logger hclog.Logger
	line   []byte
}

// Write implements io.Writer.
func (l *lineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.line = append(l.line, b[:min(len(b), max(maxLoggedLine-len(l.line), 0))]...)
			break
		}
		l.line = append(l.line, b[:min(i, max(maxLoggedLine-len(l.line), 0))]...)
		if s := strings.TrimRight(string(l.line), "\r"); s != "" {
			l.logger.Info(s, "stream", "stderr")
		}
		l.line, b = l.line[:0], b[i+1:]
	}
	return n, nil
}
