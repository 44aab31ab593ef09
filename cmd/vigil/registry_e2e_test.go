package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/registry"
	"github.com/vigilmon/vigil/sdk"
)

// regVigil runs the vigil binary in dir and returns its exit code and outputs.
func regVigil(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(vigilBinary(t), args...)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("vigil %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// regMustVigil runs the vigil binary in dir and fails the test unless it
// exits 0.
func regMustVigil(t *testing.T, dir string, args ...string) (string, string) {
	t.Helper()
	code, stdout, stderr := regVigil(t, dir, args...)
	if code != exitOK {
		t.Fatalf("vigil %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
	}
	return stdout, stderr
}

// startRegistry runs `vigil registry serve` for dir on a free loopback
// port and returns the address it listens on.
func startRegistry(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(vigilBinary(t), "registry", "serve", "--listen", "127.0.0.1:0", dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening: address=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("vigil registry serve did not listen within 30s")
	}
	return ""
}

// regSnapshot lists every file and folder under dir with its mode and
// content hash; "missing" when dir does not exist.
func regSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %s", rel, info.Mode())
		if info.Mode().IsRegular() {
			fmt.Fprintf(&b, " %s", regFileHash(t, p))
		}
		b.WriteString("\n")
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return "missing"
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// regFileHash is the hex SHA-256 of a file.
func regFileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// regCopyTree copies the folder src to dst.
func regCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRegistryEndToEnd publishes the webhook notifier to a registry
// folder with the real binary, serves it, installs it with a constraint
// and checks the lock file; then each kind of bad registry gives its own
// error and leaves the plugin directory and the lock file as they were.
func TestRegistryEndToEnd(t *testing.T) {
	plugin := testplugins.Build(t, "plugins/notifier/webhook")
	work := t.TempDir()
	regDir := filepath.Join(work, "registry")
	project := filepath.Join(work, "project")
	if err := os.Mkdir(project, 0o755); err != nil {
		t.Fatal(err)
	}

	// Publish: a key pair, four versions, two platforms for some.
	out, _ := regMustVigil(t, work, "plugin", "keygen", "acme")
	if !strings.Contains(out, "public key: ed25519:") {
		t.Fatalf("keygen printed %q", out)
	}
	for _, v := range []string{"1.0.0", "1.2.0", "1.2.3", "1.3.0", "2.0.0"} {
		out, _ := regMustVigil(t, work, "plugin", "publish", "--dir", "registry", "--key", "acme", "--namespace", "acme", "--name", "webhook", "--version", v, plugin)
		if !strings.Contains(out, "published acme/webhook "+v+" for "+registry.CurrentPlatform().String()) {
			t.Fatalf("publish printed %q", out)
		}
	}
	other := registry.Platform{OS: "darwin", Arch: "arm64"}
	if registry.CurrentPlatform() == other {
		other = registry.Platform{OS: "linux", Arch: "amd64"}
	}
	for _, v := range []string{"1.2.3", "1.3.0"} {
		regMustVigil(t, work, "plugin", "publish", "--dir", "registry", "--key", "acme", "--namespace", "acme", "--name", "webhook", "--version", v, "--os", other.OS, "--arch", other.Arch, plugin)
	}
	addr := startRegistry(t, regDir)
	source := addr + "/acme/webhook"
	os.WriteFile(filepath.Join(project, "vigil.hcl"), []byte(fmt.Sprintf(`
registry %q {
  url          = "http://%s/"
  trusted_keys = [file("../acme.pub")]
}

server {
  audit {
    file = "audit.log"
  }
}
`, addr, addr)), 0o644)

	// Install with a constraint: ~> 1.2.0 is the newest 1.2.x.
	stdout, stderr := regMustVigil(t, project, "plugin", "install", "acme/webhook@~> 1.2.0")
	if !strings.Contains(stdout, "installed "+source+" 1.2.3") || !strings.Contains(stderr, "Downloading "+source+" 1.2.3") {
		t.Fatalf("install printed\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	// The installation is in the server's audit log, the file of its
	// audit block under its data folder.
	auditLog, err := os.ReadFile(filepath.Join(project, "data", "audit.log"))
	if err != nil || !strings.Contains(string(auditLog), `"plugin installed"`) || !strings.Contains(string(auditLog), `"plugin":"`+source+`"`) ||
		!strings.Contains(string(auditLog), `"version":"1.2.3"`) || !strings.Contains(string(auditLog), `"who":"os user `) {
		t.Errorf("audit log after the install: %v\n%s", err, auditLog)
	}
	lockPath := filepath.Join(project, registry.LockFileName)
	lf, err := registry.ReadLockFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	lp, ok := lf.Plugin(source)
	if !ok {
		t.Fatalf("the lock file lacks %s", source)
	}
	if lp.Version != "1.2.3" || lp.Constraints != "~> 1.2.0" || len(lp.Platforms) != 2 {
		t.Fatalf("locked %+v", lp)
	}
	want := regFileHash(t, plugin)
	for _, p := range []registry.Platform{registry.CurrentPlatform(), other} {
		if h, ok := lp.Hashes(p); !ok || hex.EncodeToString(h.File) != want || len(h.Archive) != 32 {
			t.Errorf("lock file hashes of %s: %x, %x; want file %s", p, h.Archive, h.File, want)
		}
	}
	lockText, _ := os.ReadFile(lockPath)
	for _, s := range []string{`plugin "` + source + `"`, `version     = "1.2.3"`, `constraints = "~> 1.2.0"`, `platform "` + other.String() + `"`, "sha256:" + want} {
		if !strings.Contains(string(lockText), s) {
			t.Errorf("lock file lacks %q:\n%s", s, lockText)
		}
	}

	// The installed plugin runs with the lock file's checksum, as
	// go-plugin's SecureConfig checks it.
	pluginDir := filepath.Join(project, filepath.FromSlash(registry.DefaultPluginDir))
	path, err := registry.PluginPath(pluginDir, source, lp.Version, registry.CurrentPlatform())
	if err != nil {
		t.Fatal(err)
	}
	h, _ := lp.Hashes(registry.CurrentPlatform())
	p, err := client.Start(client.Options{Path: path, Checksum: h.File})
	if err != nil {
		t.Fatal(err)
	}
	info, kind, err := p.Info(context.Background())
	p.Kill()
	if err != nil || info.Name != "webhook" || kind != sdk.KindNotifier {
		t.Fatalf("installed plugin: %+v %v %v", info, kind, err)
	}

	stdout, _ = regMustVigil(t, project, "plugin", "list")
	if !regexp.MustCompile(regexp.QuoteMeta(source) + `\s+1\.2\.3\s+~> 1\.2\.0\s+\S+\s+yes`).MatchString(stdout) {
		t.Errorf("list printed:\n%s", stdout)
	}
	stdout, _ = regMustVigil(t, project, "plugin", "verify")
	if !strings.Contains(stdout, source+" 1.2.3: ok") {
		t.Errorf("verify printed:\n%s", stdout)
	}

	// Failures: each registry is a broken copy, reached through --registry
	// as a mirror of the same host, so that the same plugin is upgraded.
	key, err := registry.ReadPrivateKeyFile(filepath.Join(work, "acme"))
	if err != nil {
		t.Fatal(err)
	}
	regMustVigil(t, work, "plugin", "keygen", "stranger")
	stranger, err := registry.ReadPrivateKeyFile(filepath.Join(work, "stranger"))
	if err != nil {
		t.Fatal(err)
	}
	versionDir := func(dir, v string) string { return filepath.Join(dir, "v1", "plugins", "acme", "webhook", v) }
	sumsFile := func(dir, v string) string {
		return filepath.Join(versionDir(dir, v), "vigil-plugin-webhook_"+v+"_SHA256SUMS")
	}
	resign := func(dir, v string, k []byte) {
		b, _ := os.ReadFile(sumsFile(dir, v))
		os.WriteFile(sumsFile(dir, v)+".sig", []byte(registry.SignatureLine(k, b)), 0o644)
	}
	archive := registry.ArchiveName("webhook", "1.3.0", registry.CurrentPlatform())

	for name, tc := range map[string]struct {
		breakIt    func(dir string)
		proxy      func(target string) string // serves the registry another way
		constraint string
		inStderr   []string
	}{
		"bad signature": {
			breakIt: func(dir string) {
				f, _ := os.OpenFile(sumsFile(dir, "1.3.0"), os.O_APPEND|os.O_WRONLY, 0)
				fmt.Fprintf(f, "%s  vigil-plugin-webhook_1.3.0_plan9_386.zip\n", strings.Repeat("0", 64))
				f.Close()
			},
			inStderr: []string{"vigil-plugin-webhook_1.3.0_SHA256SUMS.sig", "does not match the SHA256SUMS file", "signature does not verify"},
		},
		"unknown key": {
			breakIt:  func(dir string) { resign(dir, "1.3.0", stranger) },
			inStderr: []string{"which is not trusted", "signed by no trusted key"},
		},
		"checksum mismatch in SHA256SUMS": {
			breakIt: func(dir string) {
				b, _ := os.ReadFile(sumsFile(dir, "1.3.0"))
				sums, _ := registry.ParseSums(b, "")
				real := sums[archive]
				sums[archive] = strings.Repeat("ab", 32)
				os.WriteFile(sumsFile(dir, "1.3.0"), sums.Bytes(), 0o644)
				resign(dir, "1.3.0", key)
				doc := filepath.Join(versionDir(dir, "1.3.0"), "download", registry.CurrentPlatform().OS, registry.CurrentPlatform().Arch)
				d, _ := os.ReadFile(doc)
				os.WriteFile(doc, []byte(strings.ReplaceAll(string(d), real, sums[archive])), 0o644)
			},
			inStderr: []string{archive + " has SHA-256 ", "but http://", "_SHA256SUMS says " + strings.Repeat("ab", 32), "checksum mismatch"},
		},
		"truncated download": {
			proxy: func(target string) string {
				u, _ := url.Parse("http://" + target)
				rp := httputil.NewSingleHostReverseProxy(u)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.HasSuffix(r.URL.Path, ".zip") {
						rp.ServeHTTP(w, r)
						return
					}
					b, err := os.ReadFile(filepath.Join(regDir, filepath.FromSlash(r.URL.Path)))
					if err != nil {
						http.NotFound(w, r)
						return
					}
					w.Header().Set("Content-Length", fmt.Sprint(len(b)))
					w.Write(b[:len(b)/3])
				}))
				t.Cleanup(srv.Close)
				return strings.TrimPrefix(srv.URL, "http://")
			},
			inStderr: []string{archive + " was cut short after ", "download cut short", "Download of " + source + " 1.3.0"},
		},
		"version that does not exist": {
			constraint: "~> 9.0",
			inStderr:   []string{`no version of ` + source + ` matches "~> 9.0" (the registry has 1.0.0, 1.2.0, 1.2.3, 1.3.0, 2.0.0)`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			serveAt := addr
			if tc.breakIt != nil {
				dir := t.TempDir()
				regCopyTree(t, regDir, dir)
				tc.breakIt(dir)
				serveAt = startRegistry(t, dir)
			}
			if tc.proxy != nil {
				serveAt = tc.proxy(addr)
			}
			before, lockBefore := regSnapshot(t, pluginDir), regSnapshot(t, lockPath)
			constraint := tc.constraint
			if constraint == "" {
				constraint = "~> 1.3"
			}
			code, stdout, stderr := regVigil(t, project, "plugin", "install", "--registry", "http://"+serveAt, source+"@"+constraint)
			if code != exitFailure {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitFailure, stdout, stderr)
			}
			t.Logf("stderr of vigil plugin install:\n%s", stderr)
			for _, s := range tc.inStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if after := regSnapshot(t, pluginDir); after != before {
				t.Errorf("the plugin directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if after := regSnapshot(t, lockPath); after != lockBefore {
				t.Errorf("the lock file changed")
			}
			if left, _ := filepath.Glob(filepath.Join(project, ".vigil", ".vigil-install-*")); len(left) > 0 {
				t.Errorf("staging folders left: %v", left)
			}
		})
	}

	// A plugin block with the registry address and a constraint: plugin
	// install without arguments installs what the configuration asks for,
	// an upgrade from the real registry after all that.
	os.WriteFile(filepath.Join(project, "vigil.hcl"), []byte(fmt.Sprintf(`
server {
  data_dir = %q
}
registry %q {
  url          = "http://%s/"
  trusted_keys = [file("../acme.pub")]
}
plugin "webhook" {
  source  = %q
  version = "~> 1.3"
}
notifier "ops" {
  plugin = "webhook"
  config { url = "http://127.0.0.1:1/hook" }
}
`, filepath.Join(project, "data"), addr, addr, source)), 0o644)
	stdout, _ = regMustVigil(t, project, "plugin", "install")
	if !strings.Contains(stdout, "installed "+source+" 1.3.0") {
		t.Errorf("install of the configuration's plugins printed %q", stdout)
	}
	// lock --platform keeps the hashes of this platform only.
	regMustVigil(t, project, "plugin", "lock", "--platform", registry.CurrentPlatform().String())
	if lf, _ = registry.ReadLockFile(lockPath); len(regLocked(t, lf, source).Platforms) != 1 {
		t.Errorf("lock --platform kept %v", regLocked(t, lf, source).Platforms)
	}
	// The server and config validate run what the lock file pins.
	regMustVigil(t, project, "config", "validate", "vigil.hcl")
	srv := startServer(t, "--config", filepath.Join(project, "vigil.hcl"))
	srv.stop(t)
	// One byte changed in the installed binary: the server refuses it,
	// naming the file, the locked hash and the file's.
	path, _ = registry.PluginPath(pluginDir, source, "1.3.0", registry.CurrentPlatform())
	locked := regFileHash(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(project, path) // the configuration is given as vigil.hcl
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"config", "validate", "vigil.hcl"}, {"server", "--config", "vigil.hcl", "--listen", "127.0.0.1:0"}} {
		code, _, stderr := regVigil(t, project, args...)
		if code == exitOK || !strings.Contains(stderr, rel) || !strings.Contains(stderr, locked) || !strings.Contains(stderr, regFileHash(t, path)) {
			t.Errorf("vigil %s with a tampered plugin: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
	}

	// A file changed after installing fails verify.
	os.WriteFile(path, []byte("tampered"), 0o755)
	if code, _, stderr := regVigil(t, project, "plugin", "verify"); code != exitFailure || !strings.Contains(stderr, "but the lock file pins") {
		t.Errorf("verify of a changed plugin: exit %d, %s", code, stderr)
	}
	regMustVigil(t, project, "plugin", "remove", source)
	if lf, _ = registry.ReadLockFile(lockPath); len(lf.Sources()) != 0 {
		t.Errorf("remove left %v in the lock file", lf.Sources())
	}
	if code, _, stderr := regVigil(t, work, "plugin", "install", "acme/webhook"); code != exitUsage || !strings.Contains(stderr, "has no registry host") {
		t.Errorf("install without a registry: exit %d, %s", code, stderr)
	}
}

// regLocked returns the lock file's block of source.
func regLocked(t *testing.T, lf *registry.LockFile, source string) *registry.LockedPlugin {
	t.Helper()
	lp, ok := lf.Plugin(source)
	if !ok {
		t.Fatalf("the lock file lacks %s", source)
	}
	return lp
}
