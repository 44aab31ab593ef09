package registry

import (
	"fmt"
	"net/url"
	"strings"
)

// Registry is where the plugins of one registry host come from and which
// keys vouch for them: a `registry "HOST"` block of the configuration,
// which package hclconfig decodes.
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
