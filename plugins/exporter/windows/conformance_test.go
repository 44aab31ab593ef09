//go:build !windows

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/sdk/plugintest"
)

// Built for another system than Windows, the plugin serves Info, Schema
// and Configure as the Windows build does, and every collection fails
// with errWindowsOnly. So the conformance suite's checks that never
// collect must pass here, and those that collect must fail, each with
// that error; the exporter checks that read a collection are skipped.
// The checks that collect pass only on Windows.
var (
	// needCollect are the checks that collect.
	needCollect = []string{"exporter.collect", "call.deadline", "call.cancel", "call.concurrent", "lifecycle.restart"}
	// readCollection are the checks that read what a collection gave.
	readCollection = []string{"exporter.names-valid", "exporter.no-duplicate-series", "exporter.help-type", "exporter.help-text",
		"exporter.counter-monotonic", "exporter.histogram-buckets", "exporter.summary-quantiles", "exporter.collection-size"}
)

// TestConformanceOffWindows runs vigil conformance run with sample.hcl
// on the plugin built for this system: see needCollect. It runs the vigil
// that VIGIL_BINARY names (make test sets it), and is skipped without
// one.
func TestConformanceOffWindows(t *testing.T) {
	p := plugintest.Build(t, "vigil-exporter-windows.exe")
	t.Run("sample validates", func(t *testing.T) { p.ValidateConfig(t, "sample.hcl") })

	sample, err := filepath.Abs("sample.hcl")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Vigil, "conformance", "run", "--format", "json", "--config", sample, p.Path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("vigil conformance run: %v, want exit code 1 (a MUST check failed)\n%s%s", err, out, stderr.Bytes())
	}
	var report struct {
		Plugin   string `json:"plugin"`
		Kind     string `json:"kind"`
		Conforms bool   `json:"conforms"`
		Results  []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Detail string `json:"detail"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("the report: %v\n%s", err, out)
	}
	if report.Plugin != "windows" || report.Kind != "exporter" || len(report.Results) < 20 {
		t.Fatalf("plugin %q, kind %q, %d results", report.Plugin, report.Kind, len(report.Results))
	}
	status := map[string]string{}
	for _, r := range report.Results {
		status[r.ID] = r.Status
		collects, reads := slices.Contains(needCollect, r.ID), slices.Contains(readCollection, r.ID)
		switch {
		case collects && (r.Status != "fail" || !strings.Contains(r.Detail, errWindowsOnly.Error())):
			t.Errorf("%s: %s %q, want it to fail with %q", r.ID, r.Status, r.Detail, errWindowsOnly)
		case reads && r.Status != "skip":
			t.Errorf("%s: %s %q, want it skipped, as the collections failed", r.ID, r.Status, r.Detail)
		case !collects && !reads && r.Status == "fail":
			t.Errorf("%s failed: %s", r.ID, r.Detail)
		}
	}
	for _, id := range []string{"plugin.handshake", "plugin.info", "plugin.schema", "config.sample", "config.wrong-type", "plugin.stdout-clean", "lifecycle.shutdown"} {
		if status[id] != "pass" {
			t.Errorf("%s: %q, want pass", id, status[id])
		}
	}
	for _, id := range append(slices.Clone(needCollect), readCollection...) {
		if _, ok := status[id]; !ok {
			t.Errorf("the report has no check %s", id)
		}
	}
}
