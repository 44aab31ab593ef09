package registry

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Source is a plugin's registry address, HOST/NAMESPACE/NAME, as in
// "registry.example/acme/webhook" or "127.0.0.1:8080/acme/webhook". HOST
// names the registry (a `registry "HOST"` block may say at which URL it
// is reached); the lock file and plugin directory are keyed by it.
type Source struct {
	Host      string
	Namespace string
	Name      string
}

var (
	namePart = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$`)
	hostPart = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?$`)
)

// ValidHost says whether host is a registry host: a lower-case host name
// with an optional :port.
func ValidHost(host string) bool { return hostPart.MatchString(host) }

// ParseSource parses HOST/NAMESPACE/NAME. Names are lower case: letters,
// digits, "-" and "_".
func ParseSource(s string) (Source, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Source{}, fmt.Errorf("plugin source %q is not HOST/NAMESPACE/NAME", s)
	}
	src := Source{Host: strings.ToLower(parts[0]), Namespace: parts[1], Name: parts[2]}
	if err := src.validate(); err != nil {
		return Source{}, fmt.Errorf("plugin source %q: %w", s, err)
	}
	return src, nil
}

// validate checks each part.
func (s Source) validate() error {
	if !hostPart.MatchString(s.Host) {
		return fmt.Errorf("host %q is not a host name with an optional :port", s.Host)
	}
	if !namePart.MatchString(s.Namespace) {
		return fmt.Errorf("namespace %q must be lower-case letters, digits, - and _", s.Namespace)
	}
	if !namePart.MatchString(s.Name) {
		return fmt.Errorf("name %q must be lower-case letters, digits, - and _", s.Name)
	}
	return nil
}

// String is HOST/NAMESPACE/NAME.
func (s Source) String() string { return s.Host + "/" + s.Namespace + "/" + s.Name }

// FileName is the name of the plugin's file for a platform:
// vigil-plugin-NAME, with ".wasm" for a WebAssembly module and ".exe" on
// Windows.
func FileName(name string, p Platform) string {
	switch {
	case p.IsWasm():
		return "vigil-plugin-" + name + ".wasm"
	case p.OS == "windows":
		return "vigil-plugin-" + name + ".exe"
	}
	return "vigil-plugin-" + name
}

// PluginDir is the folder a plugin version for a platform is unpacked
// into: PLUGINDIR/HOST/NAMESPACE/NAME/VERSION/PLATFORM. A ":" in HOST
// becomes "_" so that the path is valid everywhere.
func PluginDir(pluginDir string, src Source, version string, p Platform) string {
	return filepath.Join(pluginFolder(pluginDir, src), version, p.String())
}

// pluginFolder is the folder of every version of src under pluginDir.
func pluginFolder(pluginDir string, src Source) string {
	return filepath.Join(pluginDir, strings.ReplaceAll(src.Host, ":", "_"), src.Namespace, src.Name)
}

// PluginPath is the path of an installed plugin's file (the program, or
// the .wasm module) under pluginDir, for source (HOST/NAMESPACE/NAME),
// version and platform: the file whose SHA-256 the lock file's
// PlatformHashes.File gives.
func PluginPath(pluginDir, source, version string, p Platform) (string, error) {
	src, err := ParseSource(source)
	if err != nil {
		return "", err
	}
	return filepath.Join(PluginDir(pluginDir, src, version, p), FileName(src.Name, p)), nil
}
