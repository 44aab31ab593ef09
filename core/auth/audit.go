package auth

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/hclconfig"
)

// Audit writes the audit log: one line for each request that changes
// something (a silence, posted alerts, a reload, an admin call, a push,
// a remote write or OTLP request), with who sent it, what it asked, when,
// from where and how it was answered. A nil *Audit writes nothing.
type Audit struct {
	logger hclog.Logger
	file   *os.File // nil when the lines go to the server's log
}

// OpenAudit opens the audit log the audit block describes: the file it
// names, relative to dataDir, appended to as JSON lines, or else logger's
// sub-logger "audit". It returns nil when the block disables it.
func OpenAudit(cfg hclconfig.Audit, dataDir string, logger hclog.Logger) (*Audit, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	if cfg.File == "" {
		if logger == nil {
			logger = hclog.NewNullLogger()
		}
		return &Audit{logger: logger.Named("audit")}, nil
	}
	name := cfg.File
	if !filepath.IsAbs(name) {
		name = filepath.Join(dataDir, name)
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return nil, fmt.Errorf("cannot make the folder of the audit log %q: %w", name, err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the audit log %q: %w", name, err)
	}
	return &Audit{
		logger: hclog.New(&hclog.LoggerOptions{Name: "audit", Output: f, JSONFormat: true, Level: hclog.Info}),
		file:   f,
	}, nil
}

// Close closes the audit log's file.
func (a *Audit) Close() error {
	if a == nil || a.file == nil {
		return nil
	}
	return a.file.Close()
}

// PluginInstalled logs the installation of a plugin by a command run by
// who on this machine: the plugin's registry address, its version and the
// file it was unpacked to.
func (a *Audit) PluginInstalled(who, plugin, version, file string) {
	if a == nil {
		return
	}
	a.logger.Info("plugin installed", "who", who, "action", "vigil plugin install", "plugin", plugin, "version", version, "file", file, "outcome", "done")
}

// Served logs a request that was let through and answered status.
func (a *Audit) Served(r *http.Request, id Identity, route string, status int) {
	outcome := "done"
	if status >= 400 {
		outcome = "failed"
	}
	a.record(r, id, route, status, outcome)
}

// Refused logs a request that was refused, 401 or 403, before its
// handler.
func (a *Audit) Refused(r *http.Request, id Identity, route string, status int) {
	a.record(r, id, route, status, "refused")
}

func (a *Audit) record(r *http.Request, id Identity, route string, status int, outcome string) {
	if a == nil {
		return
	}
	args := []any{"who", id.String(), "role", id.Role.String(), "action", route, "path", r.URL.Path}
	if r.URL.RawQuery != "" {
		args = append(args, "query", r.URL.RawQuery)
	}
	if id.Certificate != "" {
		args = append(args, "certificate", id.Certificate)
	}
	args = append(args, "remote", r.RemoteAddr, "status", status, "outcome", outcome)
	a.logger.Info("request", args...)
}
