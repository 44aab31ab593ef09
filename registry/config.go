package registry

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/vigilmon/vigil/internal/hclfuncs"
)

// Registry is where the plugins of one registry host come from and which
// keys vouch for them: a `registry "HOST"` block of the configuration.
//
//	registry "plugins.example.com" {
//	  url          = "http://127.0.0.1:8080/" # default: https://HOST/
//	  trusted_keys = ["ed25519:…", file("keys/acme.pub")]
//	}
type Registry struct {
	// Host is the block's label: the HOST of plugin sources.
	Host string
	// URL is where the registry is reached.
	URL *url.URL
	// TrustedKeys are the keys whose signatures are accepted.
	TrustedKeys []PublicKey
}

// DefaultURL is where a registry host is reached when no block says:
// https://HOST/.
func DefaultURL(host string) *url.URL { return &url.URL{Scheme: "https", Host: host, Path: "/"} }

var registryBlockSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "registry", LabelNames: []string{"host"}}}}
var registrySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "url"}, {Name: "trusted_keys"}}}

// LoadRegistries reads the `registry` blocks of a configuration file and
// ignores its other blocks, which package hclconfig decodes. A relative
// file() path is taken from the file's folder.
func LoadRegistries(path string) ([]Registry, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the configuration: %w", err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	regs, diags := DecodeRegistries(f.Body, filepath.Dir(path))
	if diags.HasErrors() {
		return nil, diags
	}
	return regs, nil
}

// DecodeRegistries decodes the `registry "HOST"` blocks of a
// configuration body, leaving its other content alone; baseDir is where
// relative file() paths start.
func DecodeRegistries(body hcl.Body, baseDir string) ([]Registry, hcl.Diagnostics) {
	content, _, diags := body.PartialContent(registryBlockSchema)
	ctx := hclfuncs.EvalContext(baseDir)
	var regs []Registry
	seen := map[string]*hcl.Range{}
	for _, b := range content.Blocks {
		host := strings.ToLower(b.Labels[0])
		if !hostPart.MatchString(host) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid registry host", Detail: fmt.Sprintf("%q is not a host name with an optional :port.", b.Labels[0]), Subject: &b.LabelRanges[0]})
			continue
		}
		if prev, dup := seen[host]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate registry block", Detail: fmt.Sprintf("Registry %q is also declared at %s.", host, prev), Subject: &b.DefRange})
			continue
		}
		seen[host] = &b.DefRange
		reg := Registry{Host: host, URL: DefaultURL(host)}
		c, more := b.Body.Content(registrySchema)
		diags = append(diags, more...)
		if attr := c.Attributes["url"]; attr != nil {
			var s string
			if more := decodeAttrCtx(attr, ctx, &s); more.HasErrors() {
				diags = append(diags, more...)
			} else if u, err := ParseRegistryURL(s); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid registry url", Detail: err.Error(), Subject: attr.Expr.Range().Ptr()})
			} else {
				reg.URL = u
			}
		}
		if attr := c.Attributes["trusted_keys"]; attr != nil {
			var keys []string
			if more := decodeAttrCtx(attr, ctx, &keys); more.HasErrors() {
				diags = append(diags, more...)
			}
			for _, s := range keys {
				k, err := ParsePublicKey(s)
				if err != nil {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid trusted key", Detail: err.Error(), Subject: attr.Expr.Range().Ptr()})
					continue
				}
				reg.TrustedKeys = append(reg.TrustedKeys, k)
			}
		}
		regs = append(regs, reg)
	}
	return regs, diags
}

// ParseRegistryURL parses a registry's http or https URL; the path gets a
// trailing "/".
func ParseRegistryURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("registry URL %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry URL %q is not an http:// or https:// URL", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// decodeAttrCtx decodes an attribute with functions into dst.
func decodeAttrCtx(attr *hcl.Attribute, ctx *hcl.EvalContext, dst any) hcl.Diagnostics {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	return decodeAttr(&hcl.Attribute{Name: attr.Name, Expr: hcl.StaticExpr(v, attr.Expr.Range())}, dst)
}
