package pluginhost

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

// GRPCPlugin is a plugin program speaking gRPC through go-plugin.
type GRPCPlugin struct {
	*client.Plugin
	// stopping is set by Close, before it stops the process, so that
	// the process's end is logged as a stop and not as a crash.
	stopping *atomic.Bool
}

// StartGRPC starts the plugin program at path, in the working directory
// dir (the host's when empty), or attaches to it when sdk.ReattachEnv
// lists name (a plugin running under a debugger). The
// program's stderr is logged through logger under the plugin's name. A
// checksum, when given, must match the program's SHA-256. env is the
// program's whole environment, as NAME=value: it gets nothing else of the
// host's.
func StartGRPC(name, path, dir string, checksum []byte, env []string, logger hclog.Logger) (*GRPCPlugin, error) {
	reattach, err := sdk.ReattachConfig(name)
	if err != nil {
		return nil, err
	}
	stopping := &atomic.Bool{}
	opts := client.Options{Path: path, Dir: dir, Env: env, Checksum: checksum, Logger: exitLogger{logger.Named(name), stopping}, Reattach: reattach}
	if reattach != nil {
		logger.Info("attaching to a plugin started by hand", "plugin", name, "pid", reattach.Pid)
	}
	p, err := client.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", name, err)
	}
	return &GRPCPlugin{Plugin: p, stopping: stopping}, nil
}

// Close stops the plugin process.
func (p *GRPCPlugin) Close() error {
	p.stopping.Store(true)
	p.Kill()
	return nil
}

// Healthy reports a plugin process that has exited or does not answer
// its health check before ctx ends.
func (p *GRPCPlugin) Healthy(ctx context.Context) error { return p.Plugin.Healthy(ctx) }

// processExited is what go-plugin logs when a plugin process ends, at
// info (exit status 0) or error, whether or not the host stopped it.
const processExited = "plugin process exited"

// exitLogger is the logger go-plugin logs a plugin's process through. It
// logs the end of a process the host stopped (stopping is set) at debug
// as "plugin process stopped"; the end of any other, a crash or a plugin
// quitting on its own, stays as go-plugin logs it.
type exitLogger struct {
	hclog.Logger
	stopping *atomic.Bool
}

// Log implements hclog.Logger.
func (l exitLogger) Log(level hclog.Level, msg string, args ...any) {
	if msg == processExited && l.stopping.Load() {
		l.Logger.Debug("plugin process stopped", args...)
		return
	}
	l.Logger.Log(level, msg, args...)
}

// Info implements hclog.Logger.
func (l exitLogger) Info(msg string, args ...any) { l.Log(hclog.Info, msg, args...) }

// Warn implements hclog.Logger.
func (l exitLogger) Warn(msg string, args ...any) { l.Log(hclog.Warn, msg, args...) }

// Error implements hclog.Logger.
func (l exitLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }
