//go:build !wasip1

package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
	pbgrpc "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1/pluginv1grpc"
)

// Handshake is the go-plugin handshake of Vigil plugins: a plugin started
// without VIGIL_PLUGIN set to this value says it is a plugin and exits.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "VIGIL_PLUGIN",
	MagicCookieValue: "b5c1c3f4-vigil-plugin",
}

// PluginName is the name under which a plugin's services are dispensed.
const PluginName = "vigil"

// stderr is the process's standard error as it was when the program
// started. Once Serve runs, go-plugin points os.Stderr at a pipe whose
// bytes reach the host as raw output; the host reads this one as hclog
// JSON lines, each with its level and fields.
var stderr = os.Stderr

// Logger returns the logger a plugin should use: hclog's JSON on the
// process's stderr, which the host re-logs under the plugin's name, with
// each line's level and fields, whether it is made before Serve or after,
// in a constructor. Nothing may be written to stdout after the handshake.
func Logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: stderr, JSONFormat: true, Level: hclog.Trace})
}

// DebugEnv, when set in a plugin's environment, makes Serve run the
// plugin on its own, for a debugger, instead of waiting to be started by
// a host: it prints a line to export into the host's environment, which
// then attaches to this process instead of starting the plugin.
const DebugEnv = "VIGIL_PLUGIN_DEBUG"

// ReattachEnv is the host's environment variable that lists plugins
// running under a debugger: a JSON object from plugin block name to
// go-plugin's reattach config, as DebugEnv mode prints it.
const ReattachEnv = "VIGIL_REATTACH_PLUGINS"

// Serve serves p over gRPC until the host ends the process. It exits with
// status 1 when p is not a valid plugin.
func Serve(p Plugin) {
	srv, err := NewServer(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot serve the plugin:", err)
		os.Exit(1)
	}
	cfg := &plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &grpcServerPlugin{srv: srv}}},
		GRPCServer:       grpcServer,
		Logger:           Logger(),
	}
	if os.Getenv(DebugEnv) != "" {
		serveDebug(cfg, p.Info.Name)
		return
	}
	go exitWithHost(os.Getppid, parentCheckInterval, func() { os.Exit(1) })
	plugin.Serve(cfg)
}

// parentCheckInterval is how often a plugin checks that its host runs.
const parentCheckInterval = time.Second

// exitWithHost calls exit once the process's parent, the host that
// started it, has gone: its parent process ID, read with ppid, is no
// longer the one it started with, as an orphan is given to init or to a
// subreaper. On Linux the host also has the kernel kill the plugin when
// it ends; this check ends a plugin on the other systems, and one whose
// host ended before the kernel was told.
func exitWithHost(ppid func() int, interval time.Duration, exit func()) {
	host := ppid()
	t := time.NewTicker(interval)
	defer t.Stop()
	for range t.C {
		if ppid() != host {
			exit()
			return
		}
	}
}

// serveDebug serves until interrupted, after printing how a host reaches
// this process.
func serveDebug(cfg *plugin.ServeConfig, name string) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)
	select {
	case rc := <-reattach:
		line, err := json.Marshal(map[string]reattachJSON{name: {
			Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid,
			Addr: reattachAddr{Network: rc.Addr.Network(), String: rc.Addr.String()},
		}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "cannot encode the reattach config:", err)
			os.Exit(1)
		}
		fmt.Printf("Plugin %q is running for a debugger. Start Vigil with:\n\n\t%s='%s'\n\n", name, ReattachEnv, line)
	case <-closed:
		fmt.Fprintln(os.Stderr, "the plugin stopped before it could serve")
		os.Exit(1)
	}
	<-closed
}

// reattachJSON is one plugin's entry of ReattachEnv.
type reattachJSON struct {
	Protocol        string       `json:"protocol"`
	ProtocolVersion int          `json:"protocol_version"`
	Pid             int          `json:"pid"`
	Addr            reattachAddr `json:"addr"`
}

type reattachAddr struct {
	Network string `json:"network"`
	String  string `json:"string"`
}

// ReattachConfig returns the reattach config ReattachEnv gives for the
// plugin called name, or nil.
func ReattachConfig(name string) (*plugin.ReattachConfig, error) {
	v := os.Getenv(ReattachEnv)
	if v == "" {
		return nil, nil
	}
	var all map[string]reattachJSON
	if err := json.Unmarshal([]byte(v), &all); err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", ReattachEnv, err)
	}
	r, ok := all[name]
	if !ok {
		return nil, nil
	}
	var addr net.Addr
	switch r.Addr.Network {
	case "unix":
		addr = &net.UnixAddr{Net: "unix", Name: r.Addr.String}
	case "tcp":
		tcp, err := net.ResolveTCPAddr("tcp", r.Addr.String)
		if err != nil {
			return nil, fmt.Errorf("%s: plugin %q: %w", ReattachEnv, name, err)
		}
		addr = tcp
	default:
		return nil, fmt.Errorf("%s: plugin %q has unknown network %q", ReattachEnv, name, r.Addr.Network)
	}
	return &plugin.ReattachConfig{
		Protocol: plugin.Protocol(r.Protocol), ProtocolVersion: r.ProtocolVersion, Pid: r.Pid, Addr: addr, Test: true,
	}, nil
}

// grpcServer is go-plugin's default gRPC server with the protocol's
// codec, GRPCCodec.
func grpcServer(opts []grpc.ServerOption) *grpc.Server {
	return plugin.DefaultGRPCServer(append(opts, grpc.ForceServerCodecV2(GRPCCodec{})))
}

// grpcServerPlugin registers a Server's services with go-plugin's gRPC
// server. It is the plugin side only.
type grpcServerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *Server
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *grpcServerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pbgrpc.RegisterPluginServer(s, pluginService{srv: p.srv})
	switch p.srv.Kind() {
	case KindExporter:
		pbgrpc.RegisterExporterServer(s, exporterService{srv: p.srv})
	case KindDiscoverer:
		pbgrpc.RegisterDiscovererServer(s, discovererService{srv: p.srv})
	case KindNotifier:
		pbgrpc.RegisterNotifierServer(s, notifierService{srv: p.srv})
	}
	return nil
}

// GRPCClient implements plugin.GRPCPlugin; a plugin is never a client.
func (p *grpcServerPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the plugin side has no client")
}

type pluginService struct {
	pbgrpc.UnimplementedPluginServer
	srv *Server
}

func (s pluginService) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	return s.srv.Info(), nil
}

func (s pluginService) Schema(context.Context, *pb.SchemaRequest) (*pb.SchemaResponse, error) {
	return s.srv.Schema(), nil
}

func (s pluginService) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	return s.srv.Configure(req), nil
}

type exporterService struct {
	pbgrpc.UnimplementedExporterServer
	srv *Server
}

func (s exporterService) Collect(req *pb.CollectRequest, stream grpc.ServerStreamingServer[pb.CollectResponse]) error {
	return s.srv.CollectRequest(stream.Context(), req, stream.Send)
}

type discovererService struct {
	pbgrpc.UnimplementedDiscovererServer
	srv *Server
}

func (s discovererService) Discover(_ *pb.DiscoverRequest, stream grpc.ServerStreamingServer[pb.DiscoverResponse]) error {
	return s.srv.Discover(stream.Context(), stream.Send)
}

type notifierService struct {
	pbgrpc.UnimplementedNotifierServer
	srv *Server
}

func (s notifierService) Notify(ctx context.Context, req *pb.NotifyRequest) (*pb.NotifyResponse, error) {
	return s.srv.Notify(ctx, req), nil
}
