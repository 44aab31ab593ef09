package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fixture is a registry folder with one plugin in several versions,
// served over HTTP, and an installer that trusts its key.
type fixture struct {
	dir     string // the registry folder
	key     ed25519.PrivateKey
	pub     PublicKey
	content map[string][]byte // plugin file by version
	srv     *httptest.Server
	work    string // holds the plugin directory and the lock file
}

// otherPlatform is published besides the current one, so that the lock
// file must hold more than the platform installed.
var otherPlatform = Platform{OS: "plan9", Arch: "arm"}

func newFixture(t *testing.T, versions ...string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), work: t.TempDir(), content: map[string][]byte{}}
	f.pub = mustKey(t, filepath.Join(t.TempDir(), "key"), &f.key)
	for _, v := range versions {
		f.content[v] = []byte("#!/bin/sh\necho plugin " + v + "\n")
		file := filepath.Join(t.TempDir(), "plugin")
		if err := os.WriteFile(file, f.content[v], 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range []Platform{CurrentPlatform(), otherPlatform} {
			if _, err := Publish(PublishOptions{Dir: f.dir, Key: f.key, Namespace: "acme", Name: "hook", Version: v, Platform: p, File: file}); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.serve(t, Handler(f.dir))
	return f
}

// mustKey generates a key pair at path.
func mustKey(t *testing.T, path string, priv *ed25519.PrivateKey) PublicKey {
	t.Helper()
	pub, err := GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if *priv, err = ReadPrivateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	return pub
}

// serve serves h for the fixture.
func (f *fixture) serve(t *testing.T, h http.Handler) {
	if f.srv != nil {
		f.srv.Close()
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
}

// source is the plugin's source on the fixture's server.
func (f *fixture) source() Source {
	u, _ := url.Parse(f.srv.URL)
	return Source{Host: u.Host, Namespace: "acme", Name: "hook"}
}

// installer trusts keys (the fixture's when none are given).
func (f *fixture) installer(keys ...PublicKey) *Installer {
	if keys == nil {
		keys = []PublicKey{f.pub}
	}
	u, _ := ParseRegistryURL(f.srv.URL)
	return &Installer{
		PluginDir:  filepath.Join(f.work, DefaultPluginDir),
		LockFile:   filepath.Join(f.work, LockFileName),
		Registries: []Registry{{Host: f.source().Host, URL: u, TrustedKeys: keys}},
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// versionDir is the folder of a version in the registry folder.
func (f *fixture) versionDir(v string) string {
	return filepath.Join(f.dir, "v1", "plugins", "acme", "hook", v)
}

// sumsPath is the SHA256SUMS of a version.
func (f *fixture) sumsPath(v string) string {
	return filepath.Join(f.versionDir(v), sumsName("hook", v))
}

// resign signs a version's SHA256SUMS again with key.
func (f *fixture) resign(t *testing.T, v string, key ed25519.PrivateKey) {
	t.Helper()
	b, err := os.ReadFile(f.sumsPath(v))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.sumsPath(v)+".sig", []byte(SignatureLine(key, b)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshot is every file and folder under dir with its content's hash,
// or "missing" when dir does not exist.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, _ := d.Info()
		b.WriteString(rel + " " + info.Mode().String())
		if d.Type().IsRegular() {
			c, _ := os.ReadFile(p)
			sum := sha256.Sum256(c)
			b.WriteString(" " + hex.EncodeToString(sum[:8]))
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

func TestInstallChoosesByConstraintAndLocksEveryPlatform(t *testing.T) {
	f := newFixture(t, "1.0.0", "1.2.0", "1.2.5", "1.3.0-beta1", "2.0.0")
	in := f.installer()
	ctx := context.Background()

	lp, err := in.Install(ctx, f.source(), InstallOptions{Constraint: "~> 1.2"})
	if err != nil {
		t.Fatal(err)
	}
	if lp.Version != "1.2.5" {
		t.Fatalf("~> 1.2 chose %s, want 1.2.5 (no pre-releases)", lp.Version)
	}
	file, err := PluginPath(in.PluginDir, f.source().String(), "1.2.5", CurrentPlatform())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(got, f.content["1.2.5"]) {
		t.Fatalf("installed file %q: %v, %q", file, err, got)
	}
	if fi, _ := os.Stat(file); fi.Mode()&0o111 == 0 {
		t.Errorf("installed file %q is not executable: %s", file, fi.Mode())
	}

	lf, err := ReadLockFile(in.LockFile)
	if err != nil {
		t.Fatal(err)
	}
	locked, ok := lf.Plugin(f.source().String())
	if !ok {
		t.Fatalf("lock file lacks %s:\n%s", f.source(), lf.Bytes())
	}
	fileSum := sha256.Sum256(f.content["1.2.5"])
	if locked.Version != "1.2.5" || locked.Constraints != "~> 1.2" || len(locked.Platforms) != 2 {
		t.Fatalf("locked %+v", locked)
	}
	for _, p := range []Platform{CurrentPlatform(), otherPlatform} {
		h, ok := locked.Hashes(p)
		if !ok || !bytes.Equal(h.File, fileSum[:]) || len(h.Archive) != 32 {
			t.Errorf("hashes of %s: %x %x", p, h.Archive, h.File)
		}
	}
	if path, err := locked.Check(in.PluginDir); err != nil || path != file {
		t.Errorf("Check: %q, %v", path, err)
	}

	// The lock pins 1.2.5 while it matches; a wider constraint keeps it.
	if lp, err := in.Install(ctx, f.source(), InstallOptions{Constraint: ">= 1.0, < 3.0"}); err != nil || lp.Version != "1.2.5" {
		t.Fatalf("install with a pin: %v, %v", lp, err)
	}
	// --upgrade takes the newest.
	if lp, err := in.Install(ctx, f.source(), InstallOptions{Constraint: ">= 1.0, < 3.0", Upgrade: true}); err != nil || lp.Version != "2.0.0" {
		t.Fatalf("install --upgrade: %v, %v", lp, err)
	}
	// A constraint the pin does not match chooses again.
	if lp, err := in.Install(ctx, f.source(), InstallOptions{Constraint: "1.0.0"}); err != nil || lp.Version != "1.0.0" {
		t.Fatalf("install 1.0.0: %v, %v", lp, err)
	}
}

func TestInstallFailuresLeaveEverythingAsItWas(t *testing.T) {
	for name, tc := range map[string]struct {
		constraint string
		keys       func(f *fixture) []PublicKey
		breakIt    func(t *testing.T, f *fixture)
		is         error
		inMessage  []string
	}{
		"bad signature": {
			breakIt: func(t *testing.T, f *fixture) {
				b, _ := os.ReadFile(f.sumsPath("1.2.0"))
				os.WriteFile(f.sumsPath("1.2.0"), append(b, []byte(strings.Repeat("0", 64)+"  extra.zip\n")...), 0o644)
			},
			is:        ErrBadSignature,
			inMessage: []string{"_SHA256SUMS.sig", "does not match the SHA256SUMS file"},
		},
		"unknown key": {
			keys: func(*fixture) []PublicKey {
				var other ed25519.PrivateKey
				return []PublicKey{mustKey(t, filepath.Join(t.TempDir(), "other"), &other)}
			},
			is:        ErrUnknownKey,
			inMessage: []string{"which is not trusted", "the registry says it signs with ed25519:"},
		},
		"no trusted key": {
			keys:      func(*fixture) []PublicKey { return []PublicKey{} },
			is:        ErrNoTrustedKey,
			inMessage: []string{"has no trusted key"},
		},
		"checksum mismatch in SHA256SUMS": {
			breakIt: func(t *testing.T, f *fixture) {
				sums, _ := os.ReadFile(f.sumsPath("1.2.0"))
				s, _ := ParseSums(sums, "")
				name := ArchiveName("hook", "1.2.0", CurrentPlatform())
				s[name] = strings.Repeat("ab", 32)
				os.WriteFile(f.sumsPath("1.2.0"), s.Bytes(), 0o644)
				f.resign(t, "1.2.0", f.key)
				doc := filepath.Join(f.versionDir("1.2.0"), "download", CurrentPlatform().OS, CurrentPlatform().Arch)
				b, _ := os.ReadFile(doc)
				var dl struct{ SHASum string }
				_ = json.Unmarshal(b, &dl)
				os.WriteFile(doc, bytes.ReplaceAll(b, []byte(dl.SHASum), []byte(s[name])), 0o644)
			},
			is:        ErrChecksum,
			inMessage: []string{"vigil-plugin-hook_1.2.0_" + CurrentPlatform().String() + ".zip has SHA-256", "_SHA256SUMS says abab"},
		},
		"download document disagrees with SHA256SUMS": {
			breakIt: func(t *testing.T, f *fixture) {
				doc := filepath.Join(f.versionDir("1.2.0"), "download", CurrentPlatform().OS, CurrentPlatform().Arch)
				b, _ := os.ReadFile(doc)
				var dl struct{ SHASum string }
				_ = json.Unmarshal(b, &dl)
				os.WriteFile(doc, bytes.ReplaceAll(b, []byte(dl.SHASum), []byte(strings.Repeat("cd", 32))), 0o644)
			},
			is:        ErrChecksum,
			inMessage: []string{"gives SHA-256 cdcd", "says"},
		},
		"truncated download": {
			breakIt: func(t *testing.T, f *fixture) {
				h := Handler(f.dir)
				f.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.HasSuffix(r.URL.Path, ".zip") {
						h.ServeHTTP(w, r)
						return
					}
					b, _ := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(r.URL.Path)))
					w.Header().Set("Content-Length", strconv.Itoa(len(b)))
					w.Write(b[:len(b)/2])
				}))
			},
			is:        ErrTruncated,
			inMessage: []string{".zip was cut short after", " bytes"},
		},
		"version that does not exist": {
			constraint: "~> 9.0",
			is:         ErrNoVersion,
			inMessage:  []string{`matches "~> 9.0"`, "1.0.0, 1.2.0"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, "1.0.0", "1.2.0")
			in := f.installer()
			if _, err := in.Install(context.Background(), f.source(), InstallOptions{Constraint: "1.0.0"}); err != nil {
				t.Fatal(err)
			}
			before, lockBefore := snapshot(t, in.PluginDir), snapshot(t, in.LockFile)
			if tc.breakIt != nil {
				tc.breakIt(t, f)
			}
			in = f.installer()
			if tc.keys != nil {
				in.Registries[0].TrustedKeys = tc.keys(f)
			}
			constraint := tc.constraint
			if constraint == "" {
				constraint = "~> 1.2"
			}
			_, err := in.Install(context.Background(), f.source(), InstallOptions{Constraint: constraint})
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			for _, want := range tc.inMessage {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if after := snapshot(t, in.PluginDir); after != before {
				t.Errorf("plugin directory changed:\n%s", cmp.Diff(before, after))
			}
			if after := snapshot(t, in.LockFile); after != lockBefore {
				t.Errorf("lock file changed")
			}
			if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(in.PluginDir), ".vigil-install-*")); len(leftovers) > 0 {
				t.Errorf("staging folders left: %v", leftovers)
			}
		})
	}
}

func TestInstallFromNothingFailsWithoutCreatingThePluginDirectory(t *testing.T) {
	f := newFixture(t, "1.0.0")
	in := f.installer()
	if _, err := in.Install(context.Background(), f.source(), InstallOptions{Constraint: "2.0.0"}); !errors.Is(err, ErrNoVersion) {
		t.Fatalf("error %v", err)
	}
	if s := snapshot(t, in.PluginDir); s != "missing" {
		t.Errorf("plugin directory created:\n%s", s)
	}
	if _, err := os.Stat(in.LockFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file written: %v", err)
	}
}

func TestInstallRefusesWhatTheLockFileDoesNotPin(t *testing.T) {
	f := newFixture(t, "1.0.0")
	in := f.installer()
	lf := NewLockFile()
	lf.SetPlugin(&LockedPlugin{Source: f.source(), Version: "1.0.0", Platforms: map[Platform]PlatformHashes{
		CurrentPlatform(): {Archive: bytes.Repeat([]byte{1}, 32), File: bytes.Repeat([]byte{2}, 32)},
	}})
	if err := lf.Write(in.LockFile); err != nil {
		t.Fatal(err)
	}
	_, err := in.Install(context.Background(), f.source(), InstallOptions{})
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "pins 0101") {
		t.Fatalf("error %v", err)
	}
}

func TestInstallWasmOnlyPlugin(t *testing.T) {
	f := newFixture(t)
	wasm := filepath.Join(t.TempDir(), "m.wasm")
	os.WriteFile(wasm, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if p, err := DetectPlatform(wasm); err != nil || p != Wasm {
		t.Fatalf("DetectPlatform: %v, %v", p, err)
	}
	if _, err := Publish(PublishOptions{Dir: f.dir, Key: f.key, Namespace: "acme", Name: "hook", Version: "0.1.0", Platform: Wasm, File: wasm}); err != nil {
		t.Fatal(err)
	}
	in := f.installer()
	lp, err := in.Install(context.Background(), f.source(), InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := lp.RunnablePlatform(CurrentPlatform()); !ok || p != Wasm {
		t.Fatalf("runnable platform %v", p)
	}
	path, err := lp.Check(in.PluginDir)
	if err != nil || !strings.HasSuffix(path, filepath.Join("0.1.0", "wasm", "vigil-plugin-hook.wasm")) {
		t.Fatalf("Check: %q, %v", path, err)
	}
}

func TestLockRemoveAndCheck(t *testing.T) {
	f := newFixture(t, "1.0.0", "1.1.0")
	in := f.installer()
	ctx := context.Background()
	if _, err := in.Install(ctx, f.source(), InstallOptions{Constraint: "~> 1.0"}); err != nil {
		t.Fatal(err)
	}
	lf, err := in.Lock(ctx, nil, nil, []Platform{CurrentPlatform()})
	if err != nil {
		t.Fatal(err)
	}
	lp, _ := lf.Plugin(f.source().String())
	if len(lp.Platforms) != 1 || lp.Version != "1.1.0" || lp.Constraints != "~> 1.0" {
		t.Fatalf("after lock --platform: %+v", lp)
	}
	if _, err := in.Lock(ctx, nil, nil, []Platform{{OS: "aix", Arch: "ppc64"}}); !errors.Is(err, ErrNoVersion) || !strings.Contains(err.Error(), "not published for aix_ppc64") {
		t.Fatalf("lock of an unpublished platform: %v", err)
	}
	if lf, err = in.Lock(ctx, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if lp, _ = lf.Plugin(f.source().String()); len(lp.Platforms) != 2 {
		t.Fatalf("after lock: %+v", lp)
	}

	// A changed file fails Check.
	path, _ := lp.Check(in.PluginDir)
	os.WriteFile(path, []byte("tampered"), 0o755)
	if _, err := lp.Check(in.PluginDir); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Check of a changed file: %v", err)
	}

	if err := in.Remove(f.source()); err != nil {
		t.Fatal(err)
	}
	if lf, _ = ReadLockFile(in.LockFile); len(lf.Sources()) != 0 {
		t.Errorf("lock file still has %v", lf.Sources())
	}
	if entries, _ := os.ReadDir(in.PluginDir); len(entries) != 0 {
		t.Errorf("plugin directory still has %v", entries)
	}
	if err := in.Remove(f.source()); err == nil {
		t.Error("removing twice succeeded")
	}
}

func TestPublishIsIdempotentAndRefusesChanges(t *testing.T) {
	f := newFixture(t, "1.0.0")
	file := filepath.Join(t.TempDir(), "plugin")
	os.WriteFile(file, f.content["1.0.0"], 0o755)
	before := snapshot(t, f.dir)
	if _, err := Publish(PublishOptions{Dir: f.dir, Key: f.key, Namespace: "acme", Name: "hook", Version: "1.0.0", Platform: CurrentPlatform(), File: file}); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, f.dir); after != before {
		t.Errorf("publishing the same file again changed the folder:\n%s", cmp.Diff(before, after))
	}
	os.WriteFile(file, []byte("another build"), 0o755)
	_, err := Publish(PublishOptions{Dir: f.dir, Key: f.key, Namespace: "acme", Name: "hook", Version: "1.0.0", Platform: CurrentPlatform(), File: file})
	if err == nil || !strings.Contains(err.Error(), "already published") {
		t.Fatalf("error %v", err)
	}
	wasm := filepath.Join(t.TempDir(), "m.wasm")
	os.WriteFile(wasm, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if _, err := Publish(PublishOptions{Dir: f.dir, Key: f.key, Namespace: "acme", Name: "hook", Version: "3.0.0", Platform: CurrentPlatform(), File: wasm}); err == nil {
		t.Error("a .wasm module published as a program")
	}
	if _, err := Publish(PublishOptions{Dir: f.dir, Key: f.key, Namespace: "acme", Name: "hook", Version: "one", Platform: CurrentPlatform(), File: file}); err == nil || !strings.Contains(err.Error(), `"one"`) {
		t.Errorf("version one: %v", err)
	}
}

func TestHandler(t *testing.T) {
	f := newFixture(t, "1.0.0")
	for name, tc := range map[string]struct {
		method, path string
		status       int
		contentType  string
	}{
		"discovery":         {"GET", "/.well-known/vigil.json", 200, "application/json"},
		"versions":          {"GET", "/v1/plugins/acme/hook/versions", 200, "application/json"},
		"download":          {"GET", "/v1/plugins/acme/hook/1.0.0/download/" + CurrentPlatform().OS + "/" + CurrentPlatform().Arch, 200, "application/json"},
		"archive":           {"HEAD", "/v1/plugins/acme/hook/1.0.0/" + ArchiveName("hook", "1.0.0", CurrentPlatform()), 200, "application/zip"},
		"no folder listing": {"GET", "/v1/plugins/acme/", 404, ""},
		"unknown plugin":    {"GET", "/v1/plugins/acme/nope/versions", 404, ""},
		"no POST":           {"POST", "/v1/plugins/acme/hook/versions", 405, ""},
		"no dot files":      {"GET", "/v1/plugins/acme/hook/1.0.0/.tmp-x", 404, ""},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.contentType != "" && resp.Header.Get("Content-Type") != tc.contentType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.contentType)
			}
		})
	}
}

func TestSignatures(t *testing.T) {
	var priv, other ed25519.PrivateKey
	pub := mustKey(t, filepath.Join(t.TempDir(), "k"), &priv)
	otherPub := mustKey(t, filepath.Join(t.TempDir(), "o"), &other)
	msg := []byte("sums\n")
	sig := []byte(SignatureLine(priv, msg))
	if k, err := VerifySignature(msg, sig, []PublicKey{otherPub, pub}, "s"); err != nil || !bytes.Equal(k, pub) {
		t.Fatalf("good signature: %v", err)
	}
	rotated := append([]byte(SignatureLine(other, msg)), sig...)
	if _, err := VerifySignature(msg, rotated, []PublicKey{pub}, "s"); err != nil {
		t.Fatalf("two signatures, one trusted: %v", err)
	}
	for name, tc := range map[string]struct {
		msg, sig []byte
		trusted  []PublicKey
		is       error
	}{
		"altered message": {[]byte("sums!\n"), sig, []PublicKey{pub}, ErrBadSignature},
		"unknown key":     {msg, sig, []PublicKey{otherPub}, ErrUnknownKey},
		"empty":           {msg, nil, []PublicKey{pub}, ErrUnknownKey},
		"garbage":         {msg, []byte("hello\n"), []PublicKey{pub}, ErrBadSignature},
		"not base64":      {msg, []byte("ed25519 " + pub.ID() + " !!!\n"), []PublicKey{pub}, ErrBadSignature},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := VerifySignature(tc.msg, tc.sig, tc.trusted, "s"); !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
		})
	}
	if k, err := ParsePublicKey(pub.String()); err != nil || !bytes.Equal(k, pub) {
		t.Errorf("ParsePublicKey(String()): %v", err)
	}
	for _, bad := range []string{"ssh-ed25519 AAAA", "ed25519:!!", "ed25519:AAAA", pub.String()[:len(pub.String())-2] + "B="} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
	if _, err := GenerateKey(filepath.Join(t.TempDir(), "k")); err != nil {
		t.Fatal(err)
	}
}

// TestGenerateKeyCreatesFolder checks that a key file's missing folders
// are made, the last one readable by its owner only, and that the key
// written there signs what its public key verifies.
func TestGenerateKeyCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "team")
	path := filepath.Join(dir, "acme")
	pub, err := GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("key folder: %v, %v; want mode 0700", fi, err)
	}
	priv, err := ReadPrivateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	written, err := ReadPublicKeyFile(path + ".pub")
	if err != nil || !bytes.Equal(written, pub) {
		t.Fatalf("public key file: %v, %v; want %v", written, err, pub)
	}
	message := []byte("SHA256SUMS")
	if !ed25519.Verify(ed25519.PublicKey(written), message, ed25519.Sign(priv, message)) {
		t.Fatal("the private key does not sign what the public key verifies")
	}
	if _, err := GenerateKey(path); err == nil {
		t.Fatal("GenerateKey overwrote an existing key")
	}
}

func TestParseSourceAndPlatform(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example/acme/webhook":   "",
		"127.0.0.1:8080/acme/webhook":     "",
		"Registry.Example/acme/webhook":   "",
		"acme/webhook":                    "is not HOST/NAMESPACE/NAME",
		"r.example/Acme/webhook":          `namespace "Acme"`,
		"r.example/acme/web hook":         `name "web hook"`,
		"http://r.example/acme/webhook":   "is not HOST/NAMESPACE/NAME",
		"r.example:port/acme/webhook":     `host "r.example:port"`,
		"r.example/acme/webhook/extra/no": "is not HOST/NAMESPACE/NAME",
	} {
		_, err := ParseSource(in)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSource(%q): %v, want %q", in, err, want)
		}
	}
	for in, want := range map[string]Platform{"linux_amd64": {"linux", "amd64"}, "wasm": Wasm, "darwin_arm64": {"darwin", "arm64"}} {
		if p, err := ParsePlatform(in); err != nil || p != want || p.String() != in {
			t.Errorf("ParsePlatform(%q) = %v, %v", in, p, err)
		}
	}
	for _, bad := range []string{"linux", "Linux_amd64", "wasm_wasm", "linux_amd64_v3", ""} {
		if _, err := ParsePlatform(bad); err == nil {
			t.Errorf("ParsePlatform(%q) succeeded", bad)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if p, err := DetectPlatform(exe); err != nil || p != CurrentPlatform() {
		t.Errorf("DetectPlatform(test binary) = %v, %v; want %v", p, err, CurrentPlatform())
	}
	text := filepath.Join(t.TempDir(), "text")
	os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755)
	if _, err := DetectPlatform(text); err == nil || !strings.Contains(err.Error(), "--os and --arch") {
		t.Errorf("DetectPlatform(script): %v", err)
	}
	path, err := PluginPath("plugins", "127.0.0.1:8080/acme/webhook", "1.2.0", Platform{"linux", "amd64"})
	if err != nil || path != filepath.Join("plugins", "127.0.0.1_8080", "acme", "webhook", "1.2.0", "linux_amd64", "vigil-plugin-webhook") {
		t.Errorf("PluginPath = %q, %v", path, err)
	}
}

func TestLockFileRoundTripAndErrors(t *testing.T) {
	lf := NewLockFile()
	src, _ := ParseSource("registry.example/acme/webhook")
	lf.SetPlugin(&LockedPlugin{Source: src, Version: "1.2.0", Constraints: "~> 1.2", Protocols: []string{"1"}, Platforms: map[Platform]PlatformHashes{
		{OS: "linux", Arch: "amd64"}: {Archive: bytes.Repeat([]byte{0xaa}, 32), File: bytes.Repeat([]byte{0xbb}, 32)},
		Wasm:                         {Archive: bytes.Repeat([]byte{0xcc}, 32), File: bytes.Repeat([]byte{0xdd}, 32)},
	}})
	text := lf.Bytes()
	back, err := ParseLockFile("vigil.lock.hcl", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if diff := cmp.Diff(lf.plugins, back.plugins); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !bytes.Equal(back.Bytes(), text) {
		t.Errorf("not canonical:\n%s\n%s", text, back.Bytes())
	}
	if _, diags := hclsyntax.ParseConfig(text, "x", hcl.InitialPos); diags.HasErrors() {
		t.Error(diags)
	}
	for name, tc := range map[string]struct{ src, want string }{
		"syntax":       {`plugin "a/b/c" {`, "vigil.lock.hcl:1"},
		"bad source":   {`plugin "b/c" { version = "1.0.0" }`, "is not HOST/NAMESPACE/NAME"},
		"no version":   {`plugin "a/b/c" {}`, `"version" is required`},
		"bad hash":     {"plugin \"a/b/c\" {\n version = \"1.0.0\"\n platform \"wasm\" {\n archive = \"md5:00\"\n file = \"sha256:00\"\n}\n}", "vigil.lock.hcl:4"},
		"bad platform": {"plugin \"a/b/c\" {\n version = \"1.0.0\"\n platform \"linux\" {}\n}", "platform \"linux\""},
		"duplicate":    {"plugin \"a/b/c\" {\n version = \"1\"\n}\nplugin \"a/b/c\" {\n version = \"1\"\n}", "locked twice"},
		"unknown attr": {"plugin \"a/b/c\" {\n version = \"1\"\n hashes = []\n}", "Unsupported argument"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLockFile("vigil.lock.hcl", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if lf, err := ReadLockFile(filepath.Join(t.TempDir(), "none.hcl")); err != nil || len(lf.Sources()) != 0 {
		t.Errorf("missing lock file: %v, %v", lf, err)
	}
}

// TestExclusive holds the lock of a lock file: a second holder waits
// until the first releases it, and a cancelled wait gives up.
func TestExclusive(t *testing.T) {
	in := &Installer{LockFile: filepath.Join(t.TempDir(), LockFileName)}
	release, err := in.exclusive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := in.exclusive(ctx); err == nil || !strings.Contains(err.Error(), "waiting for") {
		t.Fatalf("a second holder while the first holds it: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := in.exclusive(context.Background())
		if err == nil {
			r()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second holder did not wait: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second holder still waits after the release")
	}
}
