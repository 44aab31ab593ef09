package conformance_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/sdk"
)

// helperEnv makes TestHarnessOutcomes's helper tests run: they fail on
// purpose, in a process of their own.
const helperEnv = "VIGIL_CONFORMANCE_HELPER"

func TestHelperMustFails(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestHarnessOutcomes")
	}
	conformance.Exporter(t, conformance.InProcess(&slowPlugin))
}

func TestHelperShouldLogs(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestHarnessOutcomes")
	}
	p := slowPlugin
	p.Info.Description = ""
	p.Exporter = func(sdk.Config) (sdk.Exporter, error) { return fastExporter{}, nil }
	conformance.Exporter(t, conformance.InProcess(&p))
}

// TestHarnessOutcomes runs the helper tests in a new process of this test
// binary: a failed MUST check fails its subtest and the test, a failed
// SHOULD check is logged and fails nothing, a skip says why.
func TestHarnessOutcomes(t *testing.T) {
	helper := func(name string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := helper("TestHelperMustFails")
	if err == nil || !strings.Contains(out, "--- FAIL: TestHelperMustFails/call.deadline") || strings.Count(out, "--- FAIL:") != 2 {
		t.Errorf("a failed MUST check: %v\n%s", err, out)
	}
	out, err = helper("TestHelperShouldLogs")
	if err != nil || !strings.Contains(out, "--- PASS: TestHelperShouldLogs/plugin.info-description") ||
		!strings.Contains(out, "SHOULD (not failing the test)") || !strings.Contains(out, "--- SKIP: TestHelperShouldLogs/plugin.stdout-clean") ||
		!strings.Contains(out, "an in-process plugin has no stdout of its own") {
		t.Errorf("a failed SHOULD check: %v\n%s", err, out)
	}
}
