package registry

import (
	"fmt"
	"path"
	"strconv"

	"github.com/vigilmon/vigil/sdk"
)

// DiscoveryPath is where a registry says where its plugin API is,
// relative to the registry's URL.
const DiscoveryPath = ".well-known/vigil.json"

// Discovery is the document at DiscoveryPath.
type Discovery struct {
	// PluginsV1 is the base of the plugin API, version 1, relative to the
	// discovery document's URL or absolute; it ends with "/".
	PluginsV1 string `json:"plugins.v1"`
}

// Versions is the answer of NAMESPACE/NAME/versions: every published
// version of a plugin.
type Versions struct {
	Versions []VersionInfo `json:"versions"`
}

// VersionInfo is one published version.
type VersionInfo struct {
	// Version is a semantic version without "v", such as "1.2.0".
	Version string `json:"version"`
	// Protocols are the plugin protocol versions the plugin speaks: the
	// gRPC protocol version for programs, the Wasm ABI version for
	// modules ("1" for both today).
	Protocols []string `json:"protocols"`
	// Platforms are those with an archive.
	Platforms []Platform `json:"platforms"`
}

// Download is the answer of NAMESPACE/NAME/VERSION/download/OS/ARCH: where
// the archive for one platform is and how to check it.
type Download struct {
	// Protocols, OS and Arch are those of the version and platform.
	Protocols []string `json:"protocols"`
	OS        string   `json:"os"`
	Arch      string   `json:"arch"`
	// Filename is the archive's name, as listed in SHA256SUMS.
	Filename string `json:"filename"`
	// The URLs are absolute or relative to this document's URL.
	DownloadURL         string `json:"download_url"`
	SHASumsURL          string `json:"shasums_url"`
	SHASumsSignatureURL string `json:"shasums_signature_url"`
	// SHASum is the archive's SHA-256 in hex; SHA256SUMS must say the same.
	SHASum string `json:"shasum"`
	// File is the plugin's file inside the archive, and FileSHASum its
	// SHA-256 in hex.
	File       string `json:"file"`
	FileSHASum string `json:"file_shasum"`
	// SigningKeys are the keys the publisher says it signs with. They are
	// a hint for error messages only: a client trusts the keys of its own
	// configuration, never these.
	SigningKeys SigningKeys `json:"signing_keys"`
}

// SigningKeys lists public keys in a Download.
type SigningKeys struct {
	ED25519PublicKeys []SigningKey `json:"ed25519_public_keys"`
}

// SigningKey is one public key: its ID and text form.
type SigningKey struct {
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
}

// Platform returns the download's platform.
func (d *Download) Platform() Platform { return Platform{OS: d.OS, Arch: d.Arch} }

// versionsPath is the versions document of a plugin, relative to the API base.
func versionsPath(ns, name string) string { return path.Join(ns, name, "versions") }

// downloadPath is the download document of a platform, relative to the API base.
func downloadPath(ns, name, version string, p Platform) string {
	return path.Join(ns, name, version, "download", p.OS, p.Arch)
}

// ArchiveName is the name of a plugin's archive for a version and
// platform: vigil-plugin-NAME_VERSION_PLATFORM.zip.
func ArchiveName(name, version string, p Platform) string {
	return fmt.Sprintf("vigil-plugin-%s_%s_%s.zip", name, version, p)
}

// sumsName is the SHA256SUMS file of a version; the signature is sumsName+".sig".
func sumsName(name, version string) string {
	return fmt.Sprintf("vigil-plugin-%s_%s_SHA256SUMS", name, version)
}

// fileSumName is the SHA256SUMS entry of the plugin's file inside an
// archive: the archive's name without ".zip", "/", the file's name.
func fileSumName(name, version string, p Platform) string {
	return fmt.Sprintf("vigil-plugin-%s_%s_%s/%s", name, version, p, FileName(name, p))
}

// DefaultProtocols are the protocol versions this Vigil speaks.
var DefaultProtocols = []string{strconv.Itoa(sdk.ProtocolVersion)}
