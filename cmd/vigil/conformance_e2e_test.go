package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// sampleSecrets are the variables the first-party samples read with
// env(), with values their plugins take.
var sampleSecrets = []string{
	"INVENTORY_TOKEN=t", "SMTP_PASSWORD=p", "PAGERDUTY_ROUTING_KEY=0123456789abcdef0123456789abcdef",
	"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/X", "ONCALL_WEBHOOK_TOKEN=t",
	"MYSQL_EXPORTER_PASSWORD=p",
	"OPSGENIE_API_KEY=k",
	"MSTEAMS_WEBHOOK_URL=https://example.webhook.office.com/webhookb2/x",
	"MSTEAMS_WORKFLOW_URL=https://prod-00.westeurope.logic.azure.com/workflows/x",
	"TELEGRAM_BOT_TOKEN=123456:ABC",
	"DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/1/x",
	"PUSHOVER_USER_KEY=u", "PUSHOVER_TOKEN=a",
	"VICTOROPS_API_KEY=k",
	"WEBEX_BOT_TOKEN=t",
	"AWS_SECRET_ACCESS_KEY=s",
	"JIRA_API_TOKEN=t",
	"ROCKETCHAT_TOKEN=t",
	"INCIDENTIO_TOKEN=t",
	"KUBERNETES_TOKEN=t", "CONSUL_TOKEN=t", "AZURE_CLIENT_SECRET=t", "OS_PASSWORD=t", "NOMAD_TOKEN=t",
}

// conformanceReport is what vigil conformance run --format json writes.
type conformanceReport struct {
	Plugin   string `json:"plugin"`
	Kind     string `json:"kind"`
	Conforms bool   `json:"conforms"`
	Results  []struct {
		ID     string `json:"id"`
		Level  string `json:"level"`
		Status string `json:"status"`
		Detail string `json:"detail"`
	} `json:"results"`
}

// status is the status and detail of check id.
func (r conformanceReport) status(id string) (string, string) {
	for _, res := range r.Results {
		if res.ID == id {
			return res.Status, res.Detail
		}
	}
	return "missing", ""
}

// mustFailures lists the MUST checks that failed, with why.
func (r conformanceReport) mustFailures() []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == "fail" && res.Level == "MUST" {
			out = append(out, res.ID+": "+res.Detail)
		}
	}
	return out
}

// runConformance runs vigil conformance run --format json with args,
// in an environment without the samples' secrets but those of env, and
// returns its exit code, report and stderr.
func runConformance(t *testing.T, env []string, args ...string) (int, conformanceReport, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigilBinary(t), append([]string{"conformance", "run", "--format", "json"}, args...)...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(sampleSecrets, func(s string) bool { return strings.HasPrefix(s, name+"=") }) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatal(err)
		}
		code = exit.ExitCode()
	}
	var rep conformanceReport
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("%v\n%s", err, stdout.String())
		}
	}
	return code, rep, stderr.String()
}

// TestConformanceEmail runs the conformance suite on the email notifier
// as its user would: with no config, and with its sample.hcl, both on
// the suite's SMTP server, every MUST check passing and the failure
// checks run.
func TestConformanceEmail(t *testing.T) {
	email := testplugins.Build(t, "plugins/notifier/email")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(root, "plugins/notifier/email/sample.hcl")
	for name, args := range map[string][]string{
		"no config": {email},
		"sample":    {"--config", sample, email},
	} {
		t.Run(name, func(t *testing.T) {
			code, rep, stderr := runConformance(t, sampleSecrets, args...)
			if code != 0 || !rep.Conforms || rep.Plugin != "email" {
				t.Fatalf("exit %d, conforms %v, plugin %q, failed %q\n%s", code, rep.Conforms, rep.Plugin, rep.mustFailures(), stderr)
			}
			for _, id := range []string{"plugin.capabilities", "config.sample", "notifier.v4-payload", "notifier.failure-reported", "notifier.failure-classified", "plugin.sensitive-redacted"} {
				if status, detail := rep.status(id); status != "pass" {
					t.Errorf("%s: %s %s", id, status, detail)
				}
			}
		})
	}
	t.Run("sample without its secret", func(t *testing.T) {
		// The notifier block's config is the one read: its env() fails.
		code, rep, _ := runConformance(t, nil, "--config", sample, email)
		status, detail := rep.status("config.sample")
		if code != 1 || status != "fail" || !strings.Contains(detail, "sample.hcl:15") || !strings.Contains(detail, "environment variable SMTP_PASSWORD is not set") {
			t.Errorf("exit %d, config.sample %s %q", code, status, detail)
		}
	})
}

// TestConformanceSamples runs the conformance suite on every first-party
// plugin with its sample.hcl as --config, where it sits: the suite finds
// the block that uses the plugin, by the bare file name of its source,
// and the plugin passes every MUST check with it.
// samplesNeedingAService are the first-party samples whose plugin cannot
// start without the service they name, and why; each plugin's own tests
// run the suite with a config that reaches a local stand-in.
var samplesNeedingAService = map[string]string{
	"plugins/discovery/kubernetes": "the sample reads a cluster's CA and token files; plugins/discovery/kubernetes runs the suite against a recorded API server",
	"plugins/discovery/gce":        "the sample needs Google credentials; plugins/discovery/gce runs the suite with a local token endpoint",
}

// sampleBlocks names the block to take of a sample with several blocks
// of its plugin.
var sampleBlocks = map[string]string{
	"plugins/discovery/dns": "api",
}

func TestConformanceSamples(t *testing.T) {
	vigilBinary(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range slices.Sorted(maps.Keys(firstPartyPlugins)) {
		t.Run(pkg, func(t *testing.T) {
			if pkg == "plugins/exporter/node" && runtime.GOOS != "linux" {
				t.Skip("the node exporter reads /proc and /sys")
			}
			if why := samplesNeedingAService[pkg]; why != "" {
				t.Skip(why)
			}
			var args []string
			if block := sampleBlocks[pkg]; block != "" {
				args = append(args, "--block", block)
			}
			plugin := ""
			if firstPartyPlugins[pkg] {
				plugin = testplugins.BuildWasm(t, pkg)
				args = append(args, "--wasm-cache", t.TempDir())
			} else {
				plugin = testplugins.Build(t, pkg)
			}
			args = append(args, "--config", filepath.Join(root, pkg, "sample.hcl"), plugin)
			code, rep, stderr := runConformance(t, sampleSecrets, args...)
			if code != 0 || !rep.Conforms {
				t.Fatalf("exit %d, failed %q\n%s", code, rep.mustFailures(), stderr)
			}
			if status, detail := rep.status("config.sample"); status != "pass" {
				t.Errorf("config.sample: %s %s", status, detail)
			}
		})
	}
}

// TestConformanceConfigBlocks checks how --config finds the block of a
// Vigil configuration: the only one that uses the plugin, the one --block
// names, and errors that say what was looked for.
func TestConformanceConfigBlocks(t *testing.T) {
	webhook := testplugins.Build(t, "plugins/notifier/webhook")
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const plugins = "plugin \"webhook\" {\n  source = \"vigil-notifier-webhook\"\n}\nplugin \"other\" {\n  source = \"/opt/vigil/other\"\n}\n"
	block := func(name, plugin, config string) string {
		return "notifier \"" + name + "\" {\n  plugin = \"" + plugin + "\"\n  config {\n    " + config + "\n  }\n}\n"
	}
	one := write("one.hcl", plugins+block("oncall", "webhook", `url = "https://hooks.example.com/a"`)+block("elsewhere", "other", `port = 1`))
	several := write("several.hcl", plugins+block("oncall", "webhook", `url = "https://hooks.example.com/a"`)+block("broken", "webhook", "url = \"https://hooks.example.com/b\"\n    timeout = \"soon\""))
	none := write("none.hcl", plugins+block("elsewhere", "other", `port = 1`))

	t.Run("the only one", func(t *testing.T) {
		if code, rep, stderr := runConformance(t, nil, "--config", one, webhook); code != 0 || !rep.Conforms {
			t.Errorf("exit %d, failed %q\n%s", code, rep.mustFailures(), stderr)
		}
	})
	t.Run("several", func(t *testing.T) {
		code, rep, _ := runConformance(t, nil, "--config", several, webhook)
		status, detail := rep.status("config.sample")
		if code != 1 || status != "fail" || !strings.Contains(detail, `several blocks that use the plugin, notifier "oncall", notifier "broken": name the one to take (--block NAME)`) {
			t.Errorf("exit %d, config.sample %s %q", code, status, detail)
		}
	})
	t.Run("--block", func(t *testing.T) {
		if code, rep, stderr := runConformance(t, nil, "--config", several, "--block", "oncall", webhook); code != 0 || !rep.Conforms {
			t.Errorf("oncall: exit %d, failed %q\n%s", code, rep.mustFailures(), stderr)
		}
		// The block named is the one decoded: its timeout is refused.
		code, rep, _ := runConformance(t, nil, "--config", several, "--block", "broken", webhook)
		status, detail := rep.status("config.sample")
		if code != 1 || status != "fail" || !strings.Contains(detail, `"soon" is not a valid duration for timeout`) {
			t.Errorf("broken: exit %d, config.sample %s %q", code, status, detail)
		}
	})
	t.Run("none", func(t *testing.T) {
		code, rep, _ := runConformance(t, nil, "--config", none, webhook)
		status, detail := rep.status("config.sample")
		want := none + ` has no notifier block that uses the plugin: looked for a plugin block whose source is ` + webhook + ` or a file named "vigil-notifier-webhook", then a plugin block named "webhook", the plugin's name`
		if code != 1 || status != "fail" || !strings.Contains(detail, want) {
			t.Errorf("exit %d, config.sample %s %q, want %q", code, status, detail, want)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--block", "oncall", webhook}, 2, "--block names a block of the --config file; give --config"},
			{[]string{"--config", write("attributes.hcl", `url = "https://hooks.example.com/a"`), "--block", "oncall", webhook}, 2, "holds one plugin's config attributes"},
			{[]string{"--config", one, "--block", "nowhere", webhook}, 1, `has no exporter, discovery or notifier block named "nowhere"`},
			{[]string{"--config", write("bad.hcl", "notifier \"x\" {\n  plugin = \"nope\"\n}\n"), webhook}, 1, `Unknown plugin`},
		} {
			code, rep, stderr := runConformance(t, nil, append([]string{}, tc.args...)...)
			if code != tc.code || len(rep.Results) > 0 || !strings.Contains(stderr, tc.want) {
				t.Errorf("%q: exit %d, %d results, stderr %q; want exit %d and %q", tc.args, code, len(rep.Results), stderr, tc.code, tc.want)
			}
		}
	})
}

// TestConformanceTargets runs the suite on the blackbox prober, a
// multi-target exporter, on the targets and module the flags name.
func TestConformanceTargets(t *testing.T) {
	plugin := testplugins.Build(t, "plugins/exporter/blackbox")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	code, rep, stderr := runConformance(t, nil, "--target", ln.Addr().String(), "--target", "127.0.0.1:1", "--module", "tcp_connect", plugin)
	if code != 0 || !rep.Conforms {
		t.Fatalf("exit %d, failed %q\n%s", code, rep.mustFailures(), stderr)
	}
	for _, id := range []string{"exporter.multi-target-independent", "exporter.multi-target-bad-target"} {
		if status, detail := rep.status(id); status != "pass" {
			t.Errorf("%s: %s %s", id, status, detail)
		}
	}
	// A module the plugin does not have fails every collection.
	if code, rep, _ := runConformance(t, nil, "--target", ln.Addr().String(), "--module", "nope", plugin); code != 1 || rep.Conforms {
		t.Errorf("an unknown module: exit %d, conforms %v", code, rep.Conforms)
	}
	if code, _, stderr := runConformance(t, nil, "--module", "tcp_connect", plugin); code != 2 || !strings.Contains(stderr, "give --target") {
		t.Errorf("--module without --target: exit %d\n%s", code, stderr)
	}
}
