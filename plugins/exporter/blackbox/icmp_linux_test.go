package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

// unprivilegedEnv makes the test binary run only the ICMP probe and say
// how it went, as a user without privileges.
const unprivilegedEnv = "VIGIL_TEST_ICMP_UNPRIVILEGED"

// TestICMPWithoutPrivilege runs an ICMP probe as the user nobody: where
// the system allows ping sockets it succeeds, and where it does not the
// error says how to give the privilege. It needs root to switch users.
func TestICMPWithoutPrivilege(t *testing.T) {
	if os.Getenv(unprivilegedEnv) == "1" {
		e := newTestExporter(t, "modules:\n  icmp:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip4\n")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		fams, err := e.CollectTarget(ctx, sdk.Target{Address: "127.0.0.1", Module: "icmp"})
		if err != nil {
			fmt.Printf("RESULT error: %v\n", err)
			return
		}
		fmt.Printf("RESULT probe_success %v\n", series(fams)["probe_success"])
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the probe as nobody")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "vigil-icmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "blackbox.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^TestICMPWithoutPrivilege$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the probe as nobody: %v\n%s", err, out)
	}
	var result string
	for _, line := range strings.Split(string(out), "\n") {
		if r, ok := strings.CutPrefix(line, "RESULT "); ok {
			result = r
		}
	}
	switch {
	case result == "probe_success 1":
		t.Log("this system allows nobody ping sockets")
	case strings.HasPrefix(result, "error: ") && strings.Contains(result, "CAP_NET_RAW") && strings.Contains(result, "ping_group_range"):
		t.Logf("as nobody: %s", result)
	default:
		t.Errorf("as nobody, the probe gives %q; want success, or an error saying how to give the privilege\n%s", result, out)
	}
}
