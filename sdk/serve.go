package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
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

// Logger returns the logger a plugin should use: hclog's JSON on stderr,
// which the host re-logs under the plugin's name. Nothing may be written
// to stdout after the handshake.
func Logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Trace})
}

// Serve serves p over gRPC until the host ends the process. It exits with
// status 1 when p is not a valid plugin.
func Serve(p Plugin) {
	srv, err := NewServer(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot serve the plugin:", err)
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &grpcServerPlugin{srv: srv}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           Logger(),
	})
}

// grpcServerPlugin registers a Server's services with go-plugin's gRPC
// server. It is the plugin side only.
type grpcServerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *Server
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *grpcServerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, pluginService{srv: p.srv})
	switch p.srv.Kind() {
	case KindExporter:
		pb.RegisterExporterServer(s, exporterService{srv: p.srv})
	case KindDiscoverer:
		pb.RegisterDiscovererServer(s, discovererService{srv: p.srv})
	case KindNotifier:
		pb.RegisterNotifierServer(s, notifierService{srv: p.srv})
	}
	return nil
}

// GRPCClient implements plugin.GRPCPlugin; a plugin is never a client.
func (p *grpcServerPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the plugin side has no client")
}

type pluginService struct {
	pb.UnimplementedPluginServer
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
	pb.UnimplementedExporterServer
	srv *Server
}

func (s exporterService) Collect(_ *pb.CollectRequest, stream grpc.ServerStreamingServer[pb.CollectResponse]) error {
	return s.srv.Collect(stream.Context(), stream.Send)
}

type discovererService struct {
	pb.UnimplementedDiscovererServer
	srv *Server
}

func (s discovererService) Discover(_ *pb.DiscoverRequest, stream grpc.ServerStreamingServer[pb.DiscoverResponse]) error {
	return s.srv.Discover(stream.Context(), stream.Send)
}

type notifierService struct {
	pb.UnimplementedNotifierServer
	srv *Server
}

func (s notifierService) Notify(ctx context.Context, req *pb.NotifyRequest) (*pb.NotifyResponse, error) {
	return s.srv.Notify(ctx, req), nil
}
