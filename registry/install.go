package registry

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	goversion "github.com/hashicorp/go-version"
)

// Errors of the installer, to be told apart with errors.Is; the messages
// name the file, URL, version and hashes.
var (
	// ErrChecksum: a file's SHA-256 is not the one SHA256SUMS or the lock
	// file gives, or the registry's documents disagree with each other.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNoVersion: no published version matches the constraint (or the
	// locked version is gone).
	ErrNoVersion = errors.New("no matching version")
	// ErrNoTrustedKey: no key is trusted for the registry.
	ErrNoTrustedKey = errors.New("no trusted key")
)

// Installer installs plugins from registries into a plugin directory and
// records them in a lock file.
type Installer struct {
	// PluginDir is where plugins are unpacked (see PluginDir).
	PluginDir string
	// LockFile is the path of vigil.lock.hcl.
	LockFile string
	// Registries say where each registry host is and which keys it is
	// trusted to sign with. A host without one is reached at DefaultURL
	// and trusts no key, so nothing from it installs.
	Registries []Registry
	// Protocols are the protocol versions this host speaks;
	// DefaultProtocols when empty.
	Protocols []string
	// HTTPClient makes the requests; nil for a default client.
	HTTPClient *http.Client
	// Progress receives the download progress (stderr); nil for none.
	// Terminal says that it is a terminal, where a bar is drawn in place.
	Progress io.Writer
	Terminal bool
}

// InstallOptions refine Install.
type InstallOptions struct {
	// Constraint limits the versions, as "~> 1.2" or ">= 1.0, < 2.0"
	// (hashicorp/go-version syntax); empty for the newest release.
	Constraint string
	// Upgrade chooses the newest version matching the constraint even
	// when the lock file pins another one that matches.
	Upgrade bool
	// Platform is the platform to install; when zero, the current
	// platform, or Wasm when the version has no archive for it.
	Platform Platform
}

// registry returns the configuration of a host.
func (in *Installer) registry(host string) Registry {
	for _, r := range in.Registries {
		if r.Host == host {
			return r
		}
	}
	return Registry{Host: host, URL: DefaultURL(host)}
}

// protocols are the protocol versions spoken.
func (in *Installer) protocols() []string {
	if len(in.Protocols) > 0 {
		return in.Protocols
	}
	return DefaultProtocols
}

// release is a version chosen from a registry, with what the signed
// SHA256SUMS says of it.
type release struct {
	src     Source
	reg     Registry
	client  *Client
	info    VersionInfo
	sums    Sums
	sumsURL *url.URL
}

// Install resolves a version of src, downloads its archive for the
// platform, checks it against the signed SHA256SUMS (and against the lock
// file when the lock pins this version), unpacks it into the plugin
// directory and records the version and the hashes of every platform in
// the lock file. When the lock file pins a version that matches the
// constraint, that version is installed, unless opts.Upgrade. On any
// error the plugin directory and the lock file are left as they were.
func (in *Installer) Install(ctx context.Context, src Source, opts InstallOptions) (*LockedPlugin, error) {
	release, err := in.exclusive(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	lf, err := ReadLockFile(in.LockFile)
	if err != nil {
		return nil, err
	}
	locked, _ := lf.Plugin(src.String())
	var pin *LockedPlugin
	if locked != nil && !opts.Upgrade {
		pin = locked
	}
	rel, err := in.resolve(ctx, src, opts.Constraint, pin)
	if err != nil {
		return nil, err
	}
	platform := opts.Platform
	if platform == (Platform{}) {
		platform = CurrentPlatform()
		if !slices.Contains(rel.info.Platforms, platform) && slices.Contains(rel.info.Platforms, Wasm) {
			platform = Wasm
		}
	}
	if !slices.Contains(rel.info.Platforms, platform) {
		return nil, fmt.Errorf("%s %s is not published for %s (only for %s): %w", src, rel.info.Version, platform, platformList(rel.info.Platforms), ErrNoVersion)
	}
	lp, err := rel.lockedPlugin(opts.Constraint, nil)
	if err != nil {
		return nil, err
	}
	if locked != nil && locked.Version == lp.Version {
		if err := compareLocked(in.LockFile, locked, lp); err != nil {
			return nil, err
		}
	}
	if opts.Constraint == "" && locked != nil && locked.Version == lp.Version {
		lp.Constraints = locked.Constraints
	}

	final := PluginDir(in.PluginDir, src, lp.Version, platform)
	if got, err := fileSHA256(filepath.Join(final, FileName(src.Name, platform))); err == nil && bytes.Equal(got, lp.Platforms[platform].File) {
		// Installed already, as the registry has it: only the lock changes.
		lf.SetPlugin(lp)
		return lp, lf.Write(in.LockFile)
	}
	staging, err := in.stagingDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	unpacked, err := rel.download(ctx, in, platform, lp.Platforms[platform], staging)
	if err != nil {
		return nil, err
	}
	lf.SetPlugin(lp)
	if err := in.commit(unpacked, final, staging, lf); err != nil {
		return nil, err
	}
	return lp, nil
}

// resolve chooses the version: the pinned one when it matches the
// constraint, else the newest that matches and speaks a protocol of
// ours. It then reads and verifies the version's SHA256SUMS.
func (in *Installer) resolve(ctx context.Context, src Source, constraint string, pin *LockedPlugin) (*release, error) {
	var cons goversion.Constraints
	if constraint != "" {
		var err error
		if cons, err = goversion.NewConstraint(constraint); err != nil {
			return nil, fmt.Errorf("version constraint %q of %s: %w", constraint, src, err)
		}
	}
	reg := in.registry(src.Host)
	if len(reg.TrustedKeys) == 0 {
		return nil, fmt.Errorf("registry %s (%s) has no trusted key: add trusted_keys to its registry block or pass --trusted-key: %w", reg.Host, reg.URL, ErrNoTrustedKey)
	}
	client := NewClient(reg.URL, in.HTTPClient)
	vs, err := client.Versions(ctx, src.Namespace, src.Name)
	if err != nil {
		return nil, err
	}
	info, err := chooseVersion(src, vs.Versions, cons, constraint, pin, in.protocols())
	if err != nil {
		return nil, err
	}
	rel := &release{src: src, reg: reg, client: client, info: info}
	if err := rel.readSums(ctx); err != nil {
		return nil, err
	}
	return rel, nil
}

// chooseVersion picks a version from the registry's list.
func chooseVersion(src Source, list []VersionInfo, cons goversion.Constraints, constraint string, pin *LockedPlugin, protocols []string) (VersionInfo, error) {
	if pin != nil {
		pv, err := goversion.NewVersion(pin.Version)
		if err == nil && (cons == nil || cons.Check(pv)) {
			for _, v := range list {
				if vv, err := goversion.NewVersion(v.Version); err == nil && vv.Equal(pv) {
					return v, nil
				}
			}
			return VersionInfo{}, fmt.Errorf("the lock file pins %s %s, which the registry no longer lists (it has %s): %w", src, pin.Version, versionList(list), ErrNoVersion)
		}
	}
	var best *VersionInfo
	var bestV *goversion.Version
	var matching []string
	for i, v := range list {
		vv, err := goversion.NewVersion(v.Version)
		if err != nil {
			continue
		}
		if cons != nil && !cons.Check(vv) || cons == nil && vv.Prerelease() != "" {
			continue
		}
		matching = append(matching, v.Version)
		if !slices.ContainsFunc(v.Protocols, func(p string) bool { return slices.Contains(protocols, p) }) {
			continue
		}
		if best == nil || vv.GreaterThan(bestV) {
			best, bestV = &list[i], vv
		}
	}
	if best != nil {
		return *best, nil
	}
	if constraint == "" {
		constraint = "any release"
	}
	if len(matching) > 0 {
		return VersionInfo{}, fmt.Errorf("versions %s of %s match %q, but none speaks protocol %s: %w", strings.Join(matching, ", "), src, constraint, strings.Join(protocols, ", "), ErrNoVersion)
	}
	return VersionInfo{}, fmt.Errorf("no version of %s matches %q (the registry has %s): %w", src, constraint, versionList(list), ErrNoVersion)
}

// readSums finds the version's SHA256SUMS through the download document of
// its first platform, and checks the signature.
func (r *release) readSums(ctx context.Context) error {
	if len(r.info.Platforms) == 0 {
		return fmt.Errorf("the registry lists %s %s without any platform: %w", r.src, r.info.Version, ErrNoVersion)
	}
	dl, dlURL, err := r.client.Download(ctx, r.src.Namespace, r.src.Name, r.info.Version, r.info.Platforms[0])
	if err != nil {
		return err
	}
	sumsURL, err := resolveRef(dlURL, dl.SHASumsURL)
	if err != nil {
		return err
	}
	sigURL, err := resolveRef(dlURL, dl.SHASumsSignatureURL)
	if err != nil {
		return err
	}
	sums, err := r.client.getBytes(ctx, sumsURL, maxDocumentBytes)
	if err != nil {
		return err
	}
	sig, err := r.client.getBytes(ctx, sigURL, maxDocumentBytes)
	if err != nil {
		return err
	}
	if _, err := VerifySignature(sums, sig, r.reg.TrustedKeys, "signature "+sigURL.String()); err != nil {
		hint := ""
		for _, k := range dl.SigningKeys.ED25519PublicKeys {
			// A hint only when the key the registry names made the signature.
			if pk, perr := ParsePublicKey(k.PublicKey); errors.Is(err, ErrUnknownKey) && perr == nil && bytes.Contains(sig, []byte(" "+pk.ID()+" ")) {
				hint = fmt.Sprintf(" (the registry says it signs with %s; trust that key only if you know it to be the publisher's)", pk)
			}
		}
		return fmt.Errorf("%s %s from %s: %w%s", r.src, r.info.Version, r.reg.URL, err, hint)
	}
	if r.sums, err = ParseSums(sums, sumsURL.String()); err != nil {
		return err
	}
	r.sumsURL = sumsURL
	return nil
}

// resolveRef resolves a URL of a download document.
func resolveRef(base *url.URL, ref string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil || ref == "" {
		return nil, fmt.Errorf("download document %s: %q is not a URL", base, ref)
	}
	return base.ResolveReference(u), nil
}

// lockedPlugin is the lock file's block for the release, with the hashes
// of the given platforms (all published ones when nil).
func (r *release) lockedPlugin(constraint string, platforms []Platform) (*LockedPlugin, error) {
	if platforms == nil {
		platforms = r.info.Platforms
	}
	lp := &LockedPlugin{Source: r.src, Version: r.info.Version, Constraints: constraint, Protocols: r.info.Protocols, Platforms: map[Platform]PlatformHashes{}}
	for _, p := range platforms {
		if !slices.Contains(r.info.Platforms, p) {
			return nil, fmt.Errorf("%s %s is not published for %s (only for %s): %w", r.src, r.info.Version, p, platformList(r.info.Platforms), ErrNoVersion)
		}
		var h PlatformHashes
		for name, dst := range map[string]*[]byte{ArchiveName(r.src.Name, r.info.Version, p): &h.Archive, fileSumName(r.src.Name, r.info.Version, p): &h.File} {
			sum, ok := r.sums[name]
			if !ok {
				return nil, fmt.Errorf("%s lists no %q, although the registry publishes %s %s for %s: %w", r.sumsURL, name, r.src, r.info.Version, p, ErrChecksum)
			}
			*dst, _ = hex.DecodeString(sum)
		}
		lp.Platforms[p] = h
	}
	return lp, nil
}

// compareLocked checks that the registry's hashes for a version agree
// with the lock file's, platform by platform.
func compareLocked(lockPath string, locked, fresh *LockedPlugin) error {
	for p, want := range locked.Platforms {
		got, ok := fresh.Platforms[p]
		if !ok {
			continue
		}
		if !bytes.Equal(got.Archive, want.Archive) {
			return fmt.Errorf("the registry's archive of %s %s for %s has SHA-256 %x, but the lock file %q pins %x: %w", locked.Source, locked.Version, p, got.Archive, lockPath, want.Archive, ErrChecksum)
		}
		if !bytes.Equal(got.File, want.File) {
			return fmt.Errorf("the registry's plugin file of %s %s for %s has SHA-256 %x, but the lock file %q pins %x: %w", locked.Source, locked.Version, p, got.File, lockPath, want.File, ErrChecksum)
		}
	}
	return nil
}

// stagingDir makes a temporary folder beside the plugin directory, on the
// same file system, so that the unpacked plugin can be renamed into it.
func (in *Installer) stagingDir() (string, error) {
	parent := filepath.Dir(filepath.Clean(in.PluginDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("cannot create %q: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, ".vigil-install-")
	if err != nil {
		return "", fmt.Errorf("cannot create a temporary folder: %w", err)
	}
	return dir, nil
}

// download fetches the archive of a platform into staging, checks it and
// unpacks it; it returns the folder it unpacked into.
func (r *release) download(ctx context.Context, in *Installer, p Platform, want PlatformHashes, staging string) (string, error) {
	dl, dlURL, err := r.client.Download(ctx, r.src.Namespace, r.src.Name, r.info.Version, p)
	if err != nil {
		return "", err
	}
	archiveName := ArchiveName(r.src.Name, r.info.Version, p)
	if dl.Filename != archiveName {
		return "", fmt.Errorf("download document %s names the archive %q, want %q", dlURL, dl.Filename, archiveName)
	}
	if !strings.EqualFold(dl.SHASum, hex.EncodeToString(want.Archive)) {
		return "", fmt.Errorf("download document %s gives SHA-256 %s for %s, but %s says %x: %w", dlURL, dl.SHASum, archiveName, r.sumsURL, want.Archive, ErrChecksum)
	}
	archiveURL, err := resolveRef(dlURL, dl.DownloadURL)
	if err != nil {
		return "", err
	}
	zipPath := filepath.Join(staging, archiveName)
	f, err := os.Create(zipPath)
	if err != nil {
		return "", fmt.Errorf("cannot create a temporary file: %w", err)
	}
	h := sha256.New()
	bar := newProgressBar(in.Progress, in.Terminal, fmt.Sprintf("%s %s (%s)", r.src, r.info.Version, p))
	_, err = r.client.fetch(ctx, archiveURL, io.MultiWriter(f, h), bar)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot write %q: %w", zipPath, cerr)
	}
	if err != nil {
		return "", err
	}
	if got := h.Sum(nil); !bytes.Equal(got, want.Archive) {
		return "", fmt.Errorf("archive %s has SHA-256 %x, but %s says %x: %w", archiveURL, got, r.sumsURL, want.Archive, ErrChecksum)
	}
	out := filepath.Join(staging, "unpacked")
	if err := unzip(zipPath, out); err != nil {
		return "", fmt.Errorf("cannot unpack %s: %w", archiveURL, err)
	}
	file := filepath.Join(out, FileName(r.src.Name, p))
	got, err := fileSHA256(file)
	if err != nil {
		return "", fmt.Errorf("archive %s does not hold the plugin file %q: %w", archiveURL, FileName(r.src.Name, p), err)
	}
	if !bytes.Equal(got, want.File) {
		return "", fmt.Errorf("plugin file %q in %s has SHA-256 %x, but %s says %x: %w", FileName(r.src.Name, p), archiveURL, got, r.sumsURL, want.File, ErrChecksum)
	}
	return out, nil
}

// unzip unpacks the regular files at the top of an archive into dir; files
// in folders are ignored. Executable bits are kept.
func unzip(archive, dir string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	var total uint64
	for _, zf := range zr.File {
		if strings.ContainsAny(zf.Name, `/\`) || zf.Name == "." || zf.Name == ".." || !zf.Mode().IsRegular() {
			continue
		}
		if total += zf.UncompressedSize64; total > maxArchiveBytes {
			return fmt.Errorf("the archive unpacks to more than %d bytes", int64(maxArchiveBytes))
		}
		if err := unzipFile(zf, filepath.Join(dir, zf.Name)); err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
	}
	return nil
}

// unzipFile writes one archive member.
func unzipFile(zf *zip.File, dst string) error {
	r, err := zf.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	mode := os.FileMode(0o644)
	if zf.Mode()&0o111 != 0 {
		mode = 0o755
	}
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, io.LimitReader(r, maxArchiveBytes)); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// fileSHA256 is a file's SHA-256.
func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("cannot read %q: %w", path, err)
	}
	return h.Sum(nil), nil
}

// commit renames the unpacked folder to final and writes the lock file;
// when either fails it puts back what was there, so the plugin directory
// and the lock file are as they were.
func (in *Installer) commit(unpacked, final, staging string, lf *LockFile) error {
	created, err := mkdirAllTracked(filepath.Dir(final))
	undoDirs := func() {
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i])
		}
	}
	if err != nil {
		undoDirs()
		return fmt.Errorf("cannot create %q: %w", filepath.Dir(final), err)
	}
	old := ""
	if _, err := os.Lstat(final); err == nil {
		old = filepath.Join(staging, "old")
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("cannot move the installed %q aside: %w", final, err)
		}
	}
	undo := func() {
		os.RemoveAll(final)
		if old != "" {
			os.Rename(old, final)
		}
		undoDirs()
	}
	if err := os.Rename(unpacked, final); err != nil {
		undo()
		return fmt.Errorf("cannot move the plugin into %q: %w", final, err)
	}
	if err := lf.Write(in.LockFile); err != nil {
		undo()
		return err
	}
	return nil
}

// mkdirAllTracked is os.MkdirAll that returns the folders it created,
// outermost first.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil {
			return created, err
		}
		created = append(created, missing[i])
	}
	return created, nil
}

// Lock records in the lock file the hashes of the given platforms (all
// published platforms when none are given) for each source, without
// installing anything. A source the lock file pins keeps its version
// (its hashes must agree with the registry's); a source it does not pin
// is resolved against its constraint, given by constraints (by source
// string; empty for the newest release). With no sources, every plugin of
// the lock file is locked again.
func (in *Installer) Lock(ctx context.Context, sources []Source, constraints map[string]string, platforms []Platform) (*LockFile, error) {
	release, err := in.exclusive(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	lf, err := ReadLockFile(in.LockFile)
	if err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		for _, s := range lf.Sources() {
			src, _ := ParseSource(s)
			sources = append(sources, src)
		}
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("the lock file %q pins no plugin; name one to lock", in.LockFile)
	}
	for _, src := range sources {
		locked, _ := lf.Plugin(src.String())
		constraint, given := constraints[src.String()]
		if !given && locked != nil {
			constraint = locked.Constraints
		}
		rel, err := in.resolve(ctx, src, constraint, locked)
		if err != nil {
			return nil, err
		}
		lp, err := rel.lockedPlugin(constraint, platforms)
		if err != nil {
			return nil, err
		}
		if locked != nil && locked.Version == lp.Version {
			if err := compareLocked(in.LockFile, locked, lp); err != nil {
				return nil, err
			}
		}
		lf.SetPlugin(lp)
	}
	if err := lf.Write(in.LockFile); err != nil {
		return nil, err
	}
	return lf, nil
}

// RunnablePlatform is the platform of a locked plugin to run on the
// platform current: current when the lock has hashes for it, else Wasm
// when it has those.
func (p *LockedPlugin) RunnablePlatform(current Platform) (Platform, bool) {
	if _, ok := p.Platforms[current]; ok {
		return current, true
	}
	if _, ok := p.Platforms[Wasm]; ok {
		return Wasm, true
	}
	return Platform{}, false
}

// Check says whether the locked plugin is installed under pluginDir for
// the current platform with the SHA-256 the lock file gives; it returns
// the plugin file's path, and an error (wrapping ErrChecksum for a
// mismatch) when it is not.
func (p *LockedPlugin) Check(pluginDir string) (string, error) {
	pl, ok := p.RunnablePlatform(CurrentPlatform())
	if !ok {
		return "", fmt.Errorf("the lock file has no hashes of %s %s for %s or wasm", p.Source, p.Version, CurrentPlatform())
	}
	file, err := PluginPath(pluginDir, p.Source.String(), p.Version, pl)
	if err != nil {
		return "", err
	}
	got, err := fileSHA256(file)
	if err != nil {
		return file, fmt.Errorf("%s %s is not installed: %w", p.Source, p.Version, err)
	}
	if want := p.Platforms[pl].File; !bytes.Equal(got, want) {
		return file, fmt.Errorf("%q has SHA-256 %x, but the lock file pins %x for %s %s (%s): %w", file, got, want, p.Source, p.Version, pl, ErrChecksum)
	}
	return file, nil
}

// Remove deletes a plugin's folder (every version) from the plugin
// directory and its block from the lock file; on error both are left as
// they were.
func (in *Installer) Remove(src Source) error {
	release, err := in.exclusive(context.Background())
	if err != nil {
		return err
	}
	defer release()
	lf, err := ReadLockFile(in.LockFile)
	if err != nil {
		return err
	}
	dir := pluginFolder(in.PluginDir, src)
	_, statErr := os.Lstat(dir)
	if !lf.RemovePlugin(src.String()) && statErr != nil {
		return fmt.Errorf("plugin %s is neither in the lock file %q nor in %q", src, in.LockFile, in.PluginDir)
	}
	staging := ""
	if statErr == nil {
		if staging, err = in.stagingDir(); err != nil {
			return err
		}
		defer os.RemoveAll(staging)
		if err := os.Rename(dir, filepath.Join(staging, "removed")); err != nil {
			return fmt.Errorf("cannot remove %q: %w", dir, err)
		}
	}
	if err := lf.Write(in.LockFile); err != nil {
		if staging != "" {
			os.Rename(filepath.Join(staging, "removed"), dir)
		}
		return err
	}
	// Remove the namespace and host folders when they became empty.
	for d := filepath.Dir(dir); d != filepath.Clean(in.PluginDir) && strings.HasPrefix(d, filepath.Clean(in.PluginDir)); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// versionList lists the versions of a versions document.
func versionList(list []VersionInfo) string {
	if len(list) == 0 {
		return "no version"
	}
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = v.Version
	}
	return strings.Join(s, ", ")
}

// platformList lists platforms.
func platformList(ps []Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
