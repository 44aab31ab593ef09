package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// levelValue prints as go-kit's level values do.
type levelValue string

func (l levelValue) String() string { return string(l) }

// TestKitLogger checks that the go-kit log lines of windows_exporter's
// collectors reach the plugin's logger with their level, message and
// fields.
func TestKitLogger(t *testing.T) {
	var buf bytes.Buffer
	kl := kitLogger{hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true, Level: hclog.Info})}
	kl.Log("collector", "service", "level", levelValue("warn"), "msg", "No where-clause specified for service collector.")
	kl.Log("level", levelValue("debug"), "msg", "not written at info")
	kl.Log("msg", "failed collecting", "err", errors.New("Access denied"), "level", levelValue("error"), "odd")
	var lines []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (the debug line is below the level): %s", len(lines), buf.String())
	}
	for i, want := range []map[string]any{
		{"@level": "warn", "@message": "No where-clause specified for service collector.", "collector": "service"},
		{"@level": "error", "@message": "failed collecting", "err": "Access denied", "odd": "(missing)"},
	} {
		for k, v := range want {
			if fmt.Sprint(lines[i][k]) != v {
				t.Errorf("line %d: %s = %v, want %v: %v", i, k, lines[i][k], v, lines[i])
			}
		}
	}
}
