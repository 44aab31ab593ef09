// Command badversion is a broken notifier for the conformance suite's
// tests: it shakes hands at protocol version 1 but its Info says it
// speaks version 2. It fails plugin.protocol-version only.
package main

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/vigilmon/vigil/sdk"
	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
	pbgrpc "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1/pluginv1grpc"
)

type notifier struct{}

func (notifier) Notify(context.Context, *sdk.Notification) error { return nil }

// services serves the protocol from an sdk.Server, with Info's protocol
// version changed.
type services struct {
	pbgrpc.UnimplementedPluginServer
	pbgrpc.UnimplementedNotifierServer
	srv *sdk.Server
}

func (s services) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	r := s.srv.Info()
	r.ProtocolVersion = 2
	return r, nil
}

func (s services) Schema(context.Context, *pb.SchemaRequest) (*pb.SchemaResponse, error) {
	return s.srv.Schema(), nil
}

func (s services) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	return s.srv.Configure(req), nil
}

func (s services) Notify(ctx context.Context, req *pb.NotifyRequest) (*pb.NotifyResponse, error) {
	return s.srv.Notify(ctx, req), nil
}

type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *sdk.Server
}

func (p grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pbgrpc.RegisterPluginServer(s, services{srv: p.srv})
	pbgrpc.RegisterNotifierServer(s, services{srv: p.srv})
	return nil
}

func (grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("no client")
}

func main() {
	srv, err := sdk.NewServer(sdk.Plugin{
		Info:     sdk.Info{Name: "badversion", Version: "0.1.0", Description: "Claims protocol version 2."},
		Notifier: func(sdk.Config) (sdk.Notifier, error) { return notifier{}, nil },
	})
	if err != nil {
		panic(err)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginName: grpcPlugin{srv: srv}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           sdk.Logger(),
	})
}
