package hclogslog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestLogsThroughHclog(t *testing.T) {
	var buf bytes.Buffer
	logger := New(hclog.New(&hclog.LoggerOptions{Name: "rules", Output: &buf, Level: hclog.Info}))
	logger.Debug("not shown")
	logger.With("group", "example").WithGroup("rule").Warn("evaluation failed", "err", errors.New("boom"), slog.Group("alert", "name", "Down"))
	logger.Info("done")
	out := buf.String()
	if strings.Contains(out, "not shown") {
		t.Errorf("a debug line passed an info logger:\n%s", out)
	}
	for _, want := range []string{
		"[WARN]  rules: evaluation failed: group=example rule.err=boom rule.alert.name=Down",
		"[INFO]  rules: done",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if !logger.Enabled(t.Context(), slog.LevelError) || logger.Enabled(t.Context(), slog.LevelDebug) {
		t.Error("levels do not follow the hclog logger's")
	}
}
