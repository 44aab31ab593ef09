package pluginhost

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

// GRPCPlugin is a plugin program speaking gRPC through go-plugin.
type GRPCPlugin struct {
	*client.Plugin
}

// StartGRPC starts the plugin program at path, or attaches to it when
// sdk.ReattachEnv lists name (a plugin running under a debugger). The
// program's stderr is logged through logger under the plugin's name. A
// checksum, when given, must match the program's SHA-256.
func StartGRPC(name, path string, checksum []byte, logger hclog.Logger) (*GRPCPlugin, error) {
	reattach, err := sdk.ReattachConfig(name)
	if err != nil {
		return nil, err
	}
	opts := client.Options{Path: path, Checksum: checksum, Logger: logger.Named(name), Reattach: reattach}
	if reattach != nil {
		logger.Info("attaching to a plugin started by hand", "plugin", name, "pid", reattach.Pid)
	}
	p, err := client.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", name, err)
	}
	return &GRPCPlugin{p}, nil
}

// Close stops the plugin process.
func (p *GRPCPlugin) Close() error {
	p.Kill()
	return nil
}

// Healthy reports a plugin process that has exited or does not answer
// its health check before ctx ends.
func (p *GRPCPlugin) Healthy(ctx context.Context) error { return p.Plugin.Healthy(ctx) }
