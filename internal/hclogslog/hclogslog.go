// Package hclogslog lets code that logs with log/slog, such as the upstream
// Prometheus packages, write to a go-hclog logger, so that Vigil keeps one
// logger. Start with New.
package hclogslog

import (
	"context"
	"log/slog"
	"slices"

	"github.com/hashicorp/go-hclog"
)

// New returns a slog logger that writes to logger: its levels map to
// hclog's, and attributes in groups get keys joined with dots.
func New(logger hclog.Logger) *slog.Logger {
	return slog.New(&handler{logger: logger})
}

// handler is a slog.Handler over an hclog.Logger.
type handler struct {
	logger hclog.Logger
	args   []any  // key and value pairs from WithAttrs
	prefix string // of keys, from WithGroup: "group."
}

func (h *handler) Enabled(_ context.Context, level slog.Level) bool {
	switch level := hclogLevel(level); level {
	case hclog.Error:
		return h.logger.IsError()
	case hclog.Warn:
		return h.logger.IsWarn()
	case hclog.Info:
		return h.logger.IsInfo()
	default:
		return h.logger.IsDebug()
	}
}

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	args := slices.Clip(h.args)
	r.Attrs(func(a slog.Attr) bool {
		args = appendAttr(args, h.prefix, a)
		return true
	})
	h.logger.Log(hclogLevel(r.Level), r.Message, args...)
	return nil
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	args := slices.Clip(h.args)
	for _, a := range attrs {
		args = appendAttr(args, h.prefix, a)
	}
	return &handler{logger: h.logger, args: args, prefix: h.prefix}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{logger: h.logger, args: h.args, prefix: h.prefix + name + "."}
}

// appendAttr appends a's key and value to args, a group's attributes each
// with the group's name before its key.
func appendAttr(args []any, prefix string, a slog.Attr) []any {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return args
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			args = appendAttr(args, prefix, ga)
		}
		return args
	}
	return append(args, prefix+a.Key, a.Value.Any())
}

func hclogLevel(level slog.Level) hclog.Level {
	switch {
	case level >= slog.LevelError:
		return hclog.Error
	case level >= slog.LevelWarn:
		return hclog.Warn
	case level >= slog.LevelInfo:
		return hclog.Info
	default:
		return hclog.Debug
	}
}
