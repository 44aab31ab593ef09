package registry

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	goversion "github.com/hashicorp/go-version"
)

// PublishOptions say what Publish puts into a registry folder.
type PublishOptions struct {
	// Dir is the registry folder, created when missing.
	Dir string
	// Key signs the version's SHA256SUMS.
	Key ed25519.PrivateKey
	// Namespace, Name and Version name the plugin version.
	Namespace, Name, Version string
	// Platform is the archive's platform: Wasm for a .wasm module.
	Platform Platform
	// Protocols are the protocol versions the plugin speaks;
	// DefaultProtocols when empty.
	Protocols []string
	// File is the built plugin: a program or a .wasm module.
	File string
}

// Published says what Publish wrote.
type Published struct {
	// Archive is the archive's path and ArchiveSHA256 its hex SHA-256;
	// FileSHA256 is the plugin file's.
	Archive       string
	ArchiveSHA256 string
	FileSHA256    string
	// KeyID is the ID of the signing key.
	KeyID string
}

// apiDir is the folder of the plugin API inside a registry folder.
const apiDir = "v1/plugins"

// archiveTime is the modification time of files in archives, fixed so that
// the same plugin file always gives the same archive.
var archiveTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Publish packs a built plugin into a registry folder, in the layout of
// FORMAT.md: the archive, the version's SHA256SUMS (with a line for this
// archive and one for the plugin file in it) signed again with Key, the
// download document of the platform, the versions document and the
// discovery document. Publishing the same file again changes nothing; a
// different file for a version and platform already published is
// refused, since locks pin what was published.
func Publish(opts PublishOptions) (*Published, error) {
	if opts.Key == nil {
		return nil, errors.New("publish: no signing key")
	}
	src := Source{Host: "localhost", Namespace: opts.Namespace, Name: opts.Name}
	if err := src.validate(); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	v, err := goversion.NewSemver(opts.Version)
	if err != nil {
		return nil, fmt.Errorf("publish: version %q is not a semantic version: %w", opts.Version, err)
	}
	version := v.String()
	if err := opts.Platform.validate(); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	protocols := opts.Protocols
	if len(protocols) == 0 {
		protocols = DefaultProtocols
	}
	content, err := os.ReadFile(opts.File)
	if err != nil {
		return nil, fmt.Errorf("publish: cannot read the plugin: %w", err)
	}
	if (string(content[:min(4, len(content))]) == "\x00asm") != opts.Platform.IsWasm() {
		return nil, fmt.Errorf("publish: %q is %s, but the platform is %s", opts.File, map[bool]string{true: "a WebAssembly module", false: "not a WebAssembly module"}[!opts.Platform.IsWasm()], opts.Platform)
	}
	archive, err := zipFile(FileName(opts.Name, opts.Platform), content, !opts.Platform.IsWasm())
	if err != nil {
		return nil, fmt.Errorf("publish: cannot pack %q: %w", opts.File, err)
	}
	archiveSum, fileSum := sha256.Sum256(archive), sha256.Sum256(content)
	pub := &Published{
		ArchiveSHA256: hex.EncodeToString(archiveSum[:]),
		FileSHA256:    hex.EncodeToString(fileSum[:]),
		KeyID:         PublicKey(opts.Key.Public().(ed25519.PublicKey)).ID(),
	}

	versionDir := filepath.Join(opts.Dir, filepath.FromSlash(apiDir), opts.Namespace, opts.Name, version)
	archiveName := ArchiveName(opts.Name, version, opts.Platform)
	pub.Archive = filepath.Join(versionDir, archiveName)
	sumsPath := filepath.Join(versionDir, sumsName(opts.Name, version))
	sums := Sums{}
	if b, err := os.ReadFile(sumsPath); err == nil {
		if sums, err = ParseSums(b, sumsPath); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if old, ok := sums[archiveName]; ok && old != pub.ArchiveSHA256 {
		return nil, fmt.Errorf("publish: %s %s for %s is already published in %q with archive SHA-256 %s (this file gives %s): publish a new version instead", opts.Name, version, opts.Platform, opts.Dir, old, pub.ArchiveSHA256)
	}
	sums[archiveName] = pub.ArchiveSHA256
	sums[fileSumName(opts.Name, version, opts.Platform)] = pub.FileSHA256
	sumsBytes := sums.Bytes()

	if err := writeFileAtomic(pub.Archive, archive, 0o644); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := writeFileAtomic(sumsPath, sumsBytes, 0o644); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := writeFileAtomic(sumsPath+".sig", []byte(SignatureLine(opts.Key, sumsBytes)), 0o644); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	signer := PublicKey(opts.Key.Public().(ed25519.PublicKey))
	dl := Download{
		Protocols:           protocols,
		OS:                  opts.Platform.OS,
		Arch:                opts.Platform.Arch,
		Filename:            archiveName,
		DownloadURL:         "../../" + archiveName,
		SHASumsURL:          "../../" + sumsName(opts.Name, version),
		SHASumsSignatureURL: "../../" + sumsName(opts.Name, version) + ".sig",
		SHASum:              pub.ArchiveSHA256,
		File:                FileName(opts.Name, opts.Platform),
		FileSHASum:          pub.FileSHA256,
		SigningKeys:         SigningKeys{ED25519PublicKeys: []SigningKey{{KeyID: signer.ID(), PublicKey: signer.String()}}},
	}
	if err := writeJSON(filepath.Join(opts.Dir, filepath.FromSlash(apiDir), filepath.FromSlash(downloadPath(opts.Namespace, opts.Name, version, opts.Platform))), dl); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := addVersion(filepath.Join(opts.Dir, filepath.FromSlash(apiDir), filepath.FromSlash(versionsPath(opts.Namespace, opts.Name))), version, protocols, opts.Platform); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := writeJSON(filepath.Join(opts.Dir, filepath.FromSlash(DiscoveryPath)), Discovery{PluginsV1: "../" + apiDir + "/"}); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return pub, nil
}

// zipFile is a zip archive holding one file.
func zipFile(name string, content []byte, executable bool) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: archiveTime}
	h.SetMode(0o644)
	if executable {
		h.SetMode(0o755)
	}
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(content); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// addVersion adds a version's platform to a versions document.
func addVersion(path, version string, protocols []string, p Platform) error {
	var doc Versions
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("versions document %q: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	i := slices.IndexFunc(doc.Versions, func(v VersionInfo) bool { return v.Version == version })
	if i < 0 {
		doc.Versions = append(doc.Versions, VersionInfo{Version: version})
		i = len(doc.Versions) - 1
	}
	v := &doc.Versions[i]
	v.Protocols = protocols
	if !slices.Contains(v.Platforms, p) {
		v.Platforms = append(v.Platforms, p)
	}
	slices.SortFunc(v.Platforms, func(a, b Platform) int { return strings.Compare(a.String(), b.String()) })
	slices.SortFunc(doc.Versions, func(a, b VersionInfo) int {
		va, _ := goversion.NewVersion(a.Version)
		vb, _ := goversion.NewVersion(b.Version)
		if va == nil || vb == nil {
			return strings.Compare(a.Version, b.Version)
		}
		return va.Compare(vb)
	})
	return writeJSON(path, doc)
}

// writeJSON writes v, indented, to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}

// writeFileAtomic writes a file through a temporary file in the same
// folder and a rename, creating the folder when missing.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot create the folder of %q: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("cannot write %q: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cannot write %q: %w", path, err)
	}
	return nil
}
