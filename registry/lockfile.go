package registry

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// LockFileName is the lock file's name, beside the configuration.
const LockFileName = "vigil.lock.hcl"

// DefaultPluginDir is where plugins are unpacked, relative to the
// configuration's folder.
const DefaultPluginDir = ".vigil/plugins"

// LockFile is vigil.lock.hcl: for each plugin from a registry, the
// version chosen, the constraint it was chosen by and the SHA-256 of its
// archive and file on every platform it is published for. FORMAT.md
// describes the file.
type LockFile struct {
	plugins map[string]*LockedPlugin
}

// LockedPlugin is one `plugin "SOURCE"` block of the lock file.
type LockedPlugin struct {
	// Source is HOST/NAMESPACE/NAME.
	Source Source
	// Version is the version installed, such as "1.2.0".
	Version string
	// Constraints is the constraint it was chosen by, such as "~> 1.2";
	// empty when none was given.
	Constraints string
	// Protocols are the protocol versions the version speaks.
	Protocols []string
	// Platforms are the hashes of each platform's archive and file.
	Platforms map[Platform]PlatformHashes
}

// PlatformHashes are the SHA-256 sums (32 bytes each) of a platform's
// archive (as in the signed SHA256SUMS) and of the plugin file inside it.
// File is what go-plugin's SecureConfig checksum, or the Wasm host,
// checks before running the plugin.
type PlatformHashes struct {
	Archive []byte
	File    []byte
}

// Hashes returns the hashes of a platform.
func (p *LockedPlugin) Hashes(pl Platform) (PlatformHashes, bool) {
	h, ok := p.Platforms[pl]
	return h, ok
}

// NewLockFile is an empty lock file.
func NewLockFile() *LockFile { return &LockFile{plugins: map[string]*LockedPlugin{}} }

// ReadLockFile reads a lock file. A file that does not exist is an empty
// lock file, not an error.
func ReadLockFile(path string) (*LockFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NewLockFile(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the lock file: %w", err)
	}
	return ParseLockFile(path, b)
}

var (
	lockRootSchema     = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "plugin", LabelNames: []string{"source"}}}}
	lockPluginSchema   = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "version", Required: true}, {Name: "constraints"}, {Name: "protocols"}}, Blocks: []hcl.BlockHeaderSchema{{Type: "platform", LabelNames: []string{"name"}}}}
	lockPlatformSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "archive", Required: true}, {Name: "file", Required: true}}}
)

// ParseLockFile parses the content of a lock file; name is its file name
// for error messages, which give file:line:col.
func ParseLockFile(name string, src []byte) (*LockFile, error) {
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("lock file: %w", diags)
	}
	lf := NewLockFile()
	content, diags := f.Body.Content(lockRootSchema)
	for _, b := range content.Blocks {
		p, more := decodeLockedPlugin(b)
		diags = append(diags, more...)
		if p == nil {
			continue
		}
		if _, dup := lf.plugins[p.Source.String()]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate plugin block", Detail: fmt.Sprintf("Plugin %q is locked twice.", p.Source), Subject: &b.DefRange})
			continue
		}
		lf.plugins[p.Source.String()] = p
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("lock file: %w", diags)
	}
	return lf, nil
}

// decodeLockedPlugin decodes one plugin block.
func decodeLockedPlugin(b *hcl.Block) (*LockedPlugin, hcl.Diagnostics) {
	content, diags := b.Body.Content(lockPluginSchema)
	src, err := ParseSource(b.Labels[0])
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid plugin source", Detail: err.Error(), Subject: &b.LabelRanges[0]})
	}
	p := &LockedPlugin{Source: src, Platforms: map[Platform]PlatformHashes{}}
	diags = append(diags, decodeAttr(content.Attributes["version"], &p.Version)...)
	diags = append(diags, decodeAttr(content.Attributes["constraints"], &p.Constraints)...)
	diags = append(diags, decodeAttr(content.Attributes["protocols"], &p.Protocols)...)
	for _, pb := range content.Blocks {
		pl, err := ParsePlatform(pb.Labels[0])
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid platform", Detail: err.Error(), Subject: &pb.LabelRanges[0]})
			continue
		}
		pc, more := pb.Body.Content(lockPlatformSchema)
		diags = append(diags, more...)
		var h PlatformHashes
		for _, a := range []struct {
			name string
			dst  *[]byte
		}{{"archive", &h.Archive}, {"file", &h.File}} {
			name, dst := a.name, a.dst
			attr := pc.Attributes[name]
			if attr == nil {
				continue
			}
			var s string
			if more := decodeAttr(attr, &s); more.HasErrors() {
				diags = append(diags, more...)
				continue
			}
			sum, err := parseHash(s)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid hash", Detail: err.Error(), Subject: attr.Expr.Range().Ptr()})
				continue
			}
			*dst = sum
		}
		p.Platforms[pl] = h
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return p, diags
}

// decodeAttr decodes a constant attribute into dst; a nil attr leaves dst.
func decodeAttr(attr *hcl.Attribute, dst any) hcl.Diagnostics {
	if attr == nil {
		return nil
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	ty, err := gocty.ImpliedType(dst)
	if err == nil {
		v, err = convert.Convert(v, ty)
	}
	if err == nil {
		err = gocty.FromCtyValue(v, dst)
	}
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + attr.Name, Detail: err.Error(), Subject: attr.Expr.Range().Ptr()}}
	}
	return nil
}

// parseHash parses "sha256:HEX".
func parseHash(s string) ([]byte, error) {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || !isHexSHA256(h) {
		return nil, fmt.Errorf("hash %q is not \"sha256:\" and 64 hex digits", s)
	}
	b, _ := hex.DecodeString(h)
	return b, nil
}

// formatHash is "sha256:HEX".
func formatHash(b []byte) string { return "sha256:" + hex.EncodeToString(b) }

// Plugin returns the locked plugin of a source (HOST/NAMESPACE/NAME).
func (l *LockFile) Plugin(source string) (*LockedPlugin, bool) {
	if src, err := ParseSource(source); err == nil {
		source = src.String()
	}
	p, ok := l.plugins[source]
	return p, ok
}

// SetPlugin adds or replaces a plugin's block.
func (l *LockFile) SetPlugin(p *LockedPlugin) { l.plugins[p.Source.String()] = p }

// RemovePlugin removes a plugin's block and says whether there was one.
func (l *LockFile) RemovePlugin(source string) bool {
	if src, err := ParseSource(source); err == nil {
		source = src.String()
	}
	_, ok := l.plugins[source]
	delete(l.plugins, source)
	return ok
}

// Sources are the locked plugins' sources, sorted.
func (l *LockFile) Sources() []string {
	s := make([]string, 0, len(l.plugins))
	for k := range l.plugins {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// Bytes is the lock file's content, in canonical HCL: plugins sorted by
// source, platforms by name.
func (l *LockFile) Bytes() []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# This file is maintained by \"vigil plugin install\" and \"vigil plugin lock\".\n")}})
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# Keep it under version control; do not edit it by hand.\n")}})
	for _, source := range l.Sources() {
		p := l.plugins[source]
		body.AppendNewline()
		pb := body.AppendNewBlock("plugin", []string{source}).Body()
		pb.SetAttributeValue("version", cty.StringVal(p.Version))
		if p.Constraints != "" {
			pb.SetAttributeValue("constraints", cty.StringVal(p.Constraints))
		}
		if len(p.Protocols) > 0 {
			vals := make([]cty.Value, len(p.Protocols))
			for i, s := range p.Protocols {
				vals[i] = cty.StringVal(s)
			}
			pb.SetAttributeValue("protocols", cty.ListVal(vals))
		}
		platforms := make([]Platform, 0, len(p.Platforms))
		for pl := range p.Platforms {
			platforms = append(platforms, pl)
		}
		slices.SortFunc(platforms, func(a, b Platform) int { return strings.Compare(a.String(), b.String()) })
		for _, pl := range platforms {
			h := p.Platforms[pl]
			pb.AppendNewline()
			hb := pb.AppendNewBlock("platform", []string{pl.String()}).Body()
			hb.SetAttributeValue("archive", cty.StringVal(formatHash(h.Archive)))
			hb.SetAttributeValue("file", cty.StringVal(formatHash(h.File)))
		}
	}
	return bytes.TrimLeft(hclwrite.Format(f.Bytes()), "\n")
}

// Write writes the lock file to path atomically (a temporary file and a
// rename).
func (l *LockFile) Write(path string) error {
	return writeFileAtomic(path, l.Bytes(), 0o644)
}
