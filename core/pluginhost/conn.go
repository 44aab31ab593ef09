// Package pluginhost launches and supervises plugins: gRPC programs
// through hashicorp/go-plugin (grpc.go) and WebAssembly modules through
// wazero (wasm.go), both behind the Conn interface. Start with Conn.
package pluginhost

import (
	"context"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
)

// Conn is a loaded plugin, whatever runs it. A call for a kind the plugin
// is not fails with an error saying so. Conns are safe for concurrent use.
type Conn interface {
	// Info says what the plugin is.
	Info(ctx context.Context) (sdk.Info, sdk.Kind, error)
	// Schema lists the plugin's config attributes.
	Schema(ctx context.Context) (sdk.Schema, error)
	// Configure hands the plugin its config as a JSON object; an error
	// about one attribute is an *sdk.AttributeError.
	Configure(ctx context.Context, configJSON []byte) error

	// Collect, Discover and Notify are the calls of the three kinds, as
	// sdk.Exporter, sdk.Discoverer and sdk.Notifier define them. A
	// notification error the plugin says is not worth retrying is
	// marked with sdk.Permanent.
	Collect(ctx context.Context) ([]*dto.MetricFamily, error)
	// CollectDelimited is Collect as the families come from the plugin:
	// in the delimited protobuf exposition format, undecoded.
	CollectDelimited(ctx context.Context) ([]byte, error)
	// CollectTargetDelimited is CollectDelimited for one target of a
	// multi-target exporter (sdk.TargetCollector); a plugin that is not
	// one answers with an error.
	CollectTargetDelimited(ctx context.Context, t sdk.Target) ([]byte, error)
	Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error
	Notify(ctx context.Context, n *sdk.Notification) error

	// Close stops the plugin and frees what it holds.
	Close() error
}
