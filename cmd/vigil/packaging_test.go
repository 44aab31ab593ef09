package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// instruction is one instruction of a Dockerfile, its continuation lines
// joined.
type instruction struct {
	keyword, args string
}

// readDockerfile returns the instructions of the repository's Dockerfile.
func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var line string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || (text == "" && line == "") {
			continue
		}
		if more, ok := strings.CutSuffix(text, `\`); ok {
			line += more + " "
			continue
		}
		line += text
		keyword, args, _ := strings.Cut(line, " ")
		out = append(out, instruction{strings.ToUpper(keyword), strings.TrimSpace(args)})
		line = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDockerfile checks what of the Dockerfile can be checked without a
// container engine: its build stage uses the Go of go.mod and builds with
// the Makefile's build and plugins targets, taking every file they write;
// its runtime image runs `vigil server` on 0.0.0.0:9090 with /data as its
// data volume, as a user other than root.
func TestDockerfile(t *testing.T) {
	ins := readDockerfile(t)
	var stages [][]instruction
	for _, in := range ins {
		if in.keyword == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s before the first FROM", in.keyword)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, runtime := stages[0], stages[1]

	// The build stage's Go is that of go.mod.
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(data)
	if goLine == nil {
		t.Fatalf("go.mod has no go line:\n%s", data)
	}
	if want := "golang:" + string(goLine[1]) + " AS build"; build[0].args != want {
		t.Errorf("build stage FROM %s, want %s (the Go of go.mod)", build[0].args, want)
	}

	// It runs make with the build and plugins targets, which exist.
	var makeRun string
	for _, in := range build {
		if in.keyword == "RUN" && strings.HasPrefix(in.args, "make ") {
			makeRun = in.args
		}
	}
	var targets []string
	for _, w := range strings.Fields(strings.TrimPrefix(makeRun, "make ")) {
		if strings.ContainsAny(w, "=$&") {
			break
		}
		targets = append(targets, w)
	}
	if !slices.Equal(targets, []string{"build", "plugins"}) {
		t.Fatalf("the build stage runs make %v, want make build plugins", targets)
	}
	// Run with GO=true, the targets say what they would build, and build
	// nothing.
	bin := t.TempDir()
	out, err := exec.Command("make", append([]string{"-C", repoRoot, "GO=true", "BIN=" + bin}, targets...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(targets, " "), err, out)
	}
	// Every file they write is the binary or a plugin, which the stage
	// moves to where the runtime stage copies them from.
	written := regexp.MustCompile(`-o `+regexp.QuoteMeta(bin)+`/(\S+)`).FindAllStringSubmatch(string(out), -1)
	plugins := 0
	for _, w := range written {
		switch ok, _ := filepath.Match("vigil-*", w[1]); {
		case w[1] == "vigil":
		case ok:
			plugins++
		default:
			t.Errorf("make writes bin/%s, which the Dockerfile does not take", w[1])
		}
	}
	if plugins == 0 {
		t.Errorf("make %s builds no plugin:\n%s", strings.Join(targets, " "), out)
	}
	for _, mv := range []string{"mv bin/vigil /out/vigil", "mv bin/vigil-* /out/plugins/"} {
		if !strings.Contains(makeRun, mv) {
			t.Errorf("the build stage lacks %q: %s", mv, makeRun)
		}
	}

	// The runtime stage.
	var user, volume, expose, entrypoint string
	var copies []string
	for _, in := range runtime {
		switch in.keyword {
		case "USER":
			user = in.args
		case "VOLUME":
			volume = in.args
		case "EXPOSE":
			expose = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "COPY":
			copies = append(copies, in.args)
		}
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0:") || user == "0" {
		t.Errorf("USER %q: the image must not run as root", user)
	}
	if volume != `["/data"]` || expose != "9090" {
		t.Errorf("VOLUME %s, EXPOSE %s; want [\"/data\"] and 9090", volume, expose)
	}
	for _, want := range []string{"--from=build /out/vigil /usr/local/bin/vigil", "--from=build /out/plugins/ /usr/local/bin/"} {
		if !slices.Contains(copies, want) {
			t.Errorf("no COPY %s among %q", want, copies)
		}
	}
	var argv []string
	if err := json.Unmarshal([]byte(entrypoint), &argv); err != nil {
		t.Fatalf("ENTRYPOINT %s is not the exec form: %v", entrypoint, err)
	}
	if diff := cmp.Diff([]string{"/usr/local/bin/vigil", "server", "--listen", "0.0.0.0:9090", "--data", "/data"}, argv); diff != "" {
		t.Errorf("ENTRYPOINT (-want +got):\n%s", diff)
	}
	if err := newServerCommand().ParseFlags(argv[2:]); err != nil {
		t.Errorf("vigil server does not take the entrypoint's flags: %v", err)
	}
}

// readUnit returns the settings of packaging/vigil.service by key, each
// key's values in order.
func readUnit(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "vigil.service"))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string][]string{}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("vigil.service: %q is not KEY=VALUE", line)
		}
		settings[key] = append(settings[key], value)
	}
	return settings
}

// TestSystemdUnit checks packaging/vigil.service: it runs vigil server
// with flags the server takes, may write its data directory and nothing
// else, has the hardening settings, reloads with SIGHUP, and, where
// systemd-analyze is installed, passes `systemd-analyze verify` and rates
// OK in `systemd-analyze security`.
func TestSystemdUnit(t *testing.T) {
	unit := readUnit(t)
	get := func(key string) string {
		if v := unit[key]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	argv := strings.Fields(get("ExecStart"))
	if len(argv) < 2 || argv[0] != "/usr/local/bin/vigil" || argv[1] != "server" {
		t.Fatalf("ExecStart=%s, want /usr/local/bin/vigil server ...", get("ExecStart"))
	}
	server := newServerCommand()
	if err := server.ParseFlags(argv[2:]); err != nil {
		t.Fatalf("vigil server does not take ExecStart's flags: %v", err)
	}
	dataDir, _ := server.Flags().GetString("data")
	if dataDir == "" || !slices.Contains(strings.Fields(get("ReadWritePaths")), dataDir) || "/var/lib/"+get("StateDirectory") != dataDir {
		t.Errorf("--data %q must be the StateDirectory (%q) and in ReadWritePaths (%q)", dataDir, get("StateDirectory"), get("ReadWritePaths"))
	}
	for key, want := range map[string]string{
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"ProtectHome":           "read-only",
		"PrivateTmp":            "yes",
		"PrivateDevices":        "yes",
		"ProtectKernelTunables": "yes",
		"ProtectKernelModules":  "yes",
		"ProtectControlGroups":  "yes",
		"RestrictSUIDSGID":      "yes",
		"CapabilityBoundingSet": "",
		"User":                  "vigil",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
	} {
		if _, ok := unit[key]; !ok || get(key) != want {
			t.Errorf("%s=%q (set: %v), want %q", key, get(key), ok, want)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze (Debian's systemd package): the unit is not verified by systemd")
	}
	// verify wants ExecStart's program to exist: the copy runs the
	// binary built for the tests.
	data, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "vigil.service"))
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "vigil.service")
	if err := os.WriteFile(copied, []byte(strings.ReplaceAll(string(data), "/usr/local/bin/vigil", vigilBinary(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", copied).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(analyze, "security", "--offline=true", "--no-pager", copied).CombinedOutput()
	if err != nil && strings.Contains(string(out), "offline") {
		t.Logf("this systemd-analyze rates no unit file offline: %s", out)
		return
	}
	level := regexp.MustCompile(`Overall exposure level for vigil.service: (\S+) (\S+)`).FindStringSubmatch(string(out))
	if level == nil || level[2] != "OK" {
		t.Errorf("systemd-analyze security: want an exposure level rated OK:\n%s", out)
	}
}
