package hclconfig

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/vigilmon/vigil/registry"
)

// RegistryPlugin is where a plugin block whose source is a registry
// address, HOST/NAMESPACE/NAME, comes from: the lock file says which
// version is installed and the SHA-256 its file must have.
type RegistryPlugin struct {
	// Address is the source as written; Constraint the version
	// attribute ("" for any version).
	Address    string
	Constraint string
	// Version is the locked version, and LockFile the lock file read.
	Version  string
	LockFile string
}

// isRegistryAddress says whether a plugin source is a registry address
// rather than a path: three parts separated by "/", the first a host name
// (with a dot or a port, or localhost), as Terraform tells them apart.
func isRegistryAddress(source string) bool {
	if strings.HasPrefix(source, ".") || filepath.IsAbs(source) || strings.Count(source, "/") != 2 {
		return false
	}
	host, _, _ := strings.Cut(source, "/")
	return strings.ContainsAny(host, ".:") || host == "localhost"
}

// resolveRegistryPlugin sets p's file and checksum from the lock file
// beside the configuration, vigil.lock.hcl, where `vigil plugin install`
// records what it installed under .vigil/plugins. It reports a plugin
// that is not installed, or whose locked version the constraint refuses,
// at the block's attributes.
func (d *decoder) resolveRegistryPlugin(s *scope, p *Plugin) {
	ref := p.Registry
	sourceRange := s.rangeOf("source")
	src, err := registry.ParseSource(ref.Address)
	if err != nil {
		d.errorf(sourceRange, "Invalid plugin source", "%s.", err)
		return
	}
	var constraints version.Constraints
	if ref.Constraint != "" {
		if constraints, err = version.NewConstraint(ref.Constraint); err != nil {
			d.errorf(s.rangeOf("version"), "Invalid version constraint", "%q: %s.", ref.Constraint, err)
			return
		}
	}
	lock, err := d.lockFile()
	if err != nil {
		d.errorf(sourceRange, "Unreadable lock file", "%s.", err)
		return
	}
	install := fmt.Sprintf("vigil plugin install %s", src)
	if ref.Constraint != "" {
		install += "@'" + ref.Constraint + "'"
	}
	locked, ok := lock.Plugin(src.String())
	if !ok {
		d.errorf(sourceRange, "Plugin not installed", "%s is not in the lock file %s; run %s.", src, ref.LockFile, install)
		return
	}
	v, err := version.NewVersion(locked.Version)
	if err != nil {
		d.errorf(sourceRange, "Invalid lock file", "%s has version %q in %s: %s.", src, locked.Version, ref.LockFile, err)
		return
	}
	if constraints != nil && !constraints.Check(v) {
		d.errorf(s.rangeOf("version"), "Locked version does not match", "%s is locked at %s in %s, which %q refuses; run %s --upgrade.",
			src, locked.Version, ref.LockFile, ref.Constraint, install)
		return
	}
	platform, ok := locked.RunnablePlatform(registry.CurrentPlatform())
	if !ok {
		d.errorf(sourceRange, "Plugin not available here", "The lock file %s has no hashes of %s %s for %s or wasm; run vigil plugin lock --platform %s.",
			ref.LockFile, src, locked.Version, registry.CurrentPlatform(), registry.CurrentPlatform())
		return
	}
	path, err := registry.PluginPath(filepath.Join(d.baseDir, filepath.FromSlash(registry.DefaultPluginDir)), src.String(), locked.Version, platform)
	if err != nil {
		d.errorf(sourceRange, "Invalid plugin source", "%s.", err)
		return
	}
	hashes, _ := locked.Hashes(platform)
	ref.Version = locked.Version
	p.Source, p.Checksum = absolute(path), hashes.File
}

// lockFile reads vigil.lock.hcl beside the configuration once; a missing
// file is an empty lock.
func (d *decoder) lockFile() (*registry.LockFile, error) {
	if d.lock == nil && d.lockErr == nil {
		d.lock, d.lockErr = registry.ReadLockFile(filepath.Join(d.baseDir, registry.LockFileName))
	}
	return d.lock, d.lockErr
}

// RegistryPlugins returns the plugin blocks of the configuration file
// whose source is a registry address, each with its version constraint,
// without resolving them: what `vigil plugin install` installs when it is
// given no plugin. Only the plugin blocks are decoded.
func RegistryPlugins(path string) ([]RegistryPlugin, hcl.Diagnostics) {
	cfg, diags := loadPartial(path, "plugin")
	if cfg == nil {
		return nil, diags
	}
	var out []RegistryPlugin
	for _, p := range cfg.Plugins {
		if p.Registry != nil {
			out = append(out, *p.Registry)
		}
	}
	return out, diags
}

// ServerBlock returns the server block of the configuration file, for
// the commands that need only its data folder or its audit block, such
// as vigil plugin install. Only the server block is decoded.
func ServerBlock(path string) (*Server, hcl.Diagnostics) {
	cfg, diags := loadPartial(path, "server")
	if cfg == nil {
		return nil, diags
	}
	return &cfg.Server, diags
}

// Registries returns the registry blocks of the configuration file, for
// the vigil plugin commands. Only the registry blocks are decoded.
func Registries(path string) ([]registry.Registry, hcl.Diagnostics) {
	cfg, diags := loadPartial(path, "registry")
	if cfg == nil {
		return nil, diags
	}
	return cfg.Registries, diags
}

var registrySpec = &block[registry.Registry]{
	name: "registry", label: "HOST", doc: "Where the plugins of registry host HOST come from, and which keys vouch for them.",
	labelOf: func(r *registry.Registry) *string { return &r.Host },
	checkLabel: func(d *decoder, rng *hcl.Range, label string) string {
		host := strings.ToLower(label)
		if !registry.ValidHost(host) {
			d.errorf(rng, "Invalid registry host", "%q is not a host name with an optional :port.", label)
		}
		return host
	},
	attrs: []attr[registry.Registry]{
		field("url", registryURL, func(r *registry.Registry) **url.URL { return &r.URL },
			"Where the registry is reached, such as a mirror.").inherits("https://HOST/"),
		field("trusted_keys", publicKeys, func(r *registry.Registry) *[]registry.PublicKey { return &r.TrustedKeys },
			"The ed25519 public keys whose signatures are accepted; required to install."),
	},
	check: func(_ *scope, r *registry.Registry) {
		if r.URL == nil {
			r.URL = registry.DefaultURL(r.Host)
		}
	},
}

// registryURL is the http or https URL of a registry.
var registryURL = codec[*url.URL]{
	typ: cty.String, kind: "URL",
	decode: func(at attrValue, v cty.Value) (*url.URL, bool) {
		u, err := registry.ParseRegistryURL(v.AsString())
		if err != nil {
			at.errorf("Invalid registry url", "%s.", err)
			return nil, false
		}
		return u, true
	},
	render: func(u *url.URL, o renderOptions) cty.Value { return cty.StringVal(urlString(u, o)) },
}

// publicKeys are public keys as `vigil plugin keygen` prints them.
var publicKeys = listOfEach("list of string", "Invalid trusted key", registry.ParsePublicKey,
	func(k registry.PublicKey, _ renderOptions) string { return k.String() })
