package upstream

import (
	"context"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// Logger returns a slog.Logger, as upstream discoverers take, that logs
// through log, so that the plugin's one log stream carries both.
func Logger(log hclog.Logger) *slog.Logger { return slog.New(&handler{log: log}) }

// handler is a slog.Handler writing to an hclog.Logger.
type handler struct {
	log    hclog.Logger
	attrs  []any
	prefix string // the open groups' names, each followed by "."
}

func level(l slog.Level) hclog.Level {
	switch {
	case l < slog.LevelInfo:
		return hclog.Debug
	case l < slog.LevelWarn:
		return hclog.Info
	case l < slog.LevelError:
		return hclog.Warn
	}
	return hclog.Error
}

// Enabled implements slog.Handler.
func (h *handler) Enabled(_ context.Context, l slog.Level) bool {
	return h.log.GetLevel() <= level(l)
}

// Handle implements slog.Handler.
func (h *handler) Handle(_ context.Context, r slog.Record) error {
	args := append([]any(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = h.appendAttr(args, h.prefix, a)
		return true
	})
	h.log.Log(level(r.Level), r.Message, args...)
	return nil
}

func (h *handler) appendAttr(args []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			args = h.appendAttr(args, prefix+a.Key+".", g)
		}
		return args
	}
	if a.Key == "" {
		return args
	}
	return append(args, prefix+a.Key, v.Any())
}

// WithAttrs implements slog.Handler.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := &handler{log: h.log, prefix: h.prefix, attrs: append([]any(nil), h.attrs...)}
	for _, a := range attrs {
		n.attrs = h.appendAttr(n.attrs, h.prefix, a)
	}
	return n
}

// WithGroup implements slog.Handler.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{log: h.log, attrs: h.attrs, prefix: h.prefix + name + "."}
}
