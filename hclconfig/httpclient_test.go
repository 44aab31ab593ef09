package hclconfig

import (
	"strings"
	"testing"

	commoncfg "github.com/prometheus/common/config"
)

// TestHTTPClientRefusals: each contradictory or invalid client setting
// is refused, at the attribute or block, with a message naming it.
func TestHTTPClientRefusals(t *testing.T) {
	for name, tc := range map[string]struct{ config, want string }{
		"two authentications on a scrape": {`scrape "s" {
  targets      = ["a:1"]
  bearer_token = "t"
  basic_auth {
    username = "u"
  }
}`, `x.hcl:1:1: Conflicting authentication; scrape "s" sets bearer_token and basic_auth; choose one.`},
		"token and token file": {`remote_write "w" {
  url               = "http://a/"
  bearer_token      = "t"
  bearer_token_file = "f"
}`, `x.hcl:1:1: Conflicting authentication; remote_write "w" sets bearer_token and bearer_token_file; choose one.`},
		"two proxies": {`remote_read "r" {
  url                    = "http://a/"
  proxy_url              = "http://p:3128"
  proxy_from_environment = true
}`, `x.hcl:4:28: Conflicting proxy; remote_read "r" sets both proxy_url and proxy_from_environment; choose one.`},
		"no_proxy alone": {`alertmanager {
  urls     = ["http://a/"]
  no_proxy = "localhost"
}`, `x.hcl:3:14: no_proxy without proxy_url; alertmanager block sets no_proxy, which only applies with proxy_url.`},
		"proxy not a URL": {`scrape "s" {
  targets   = ["a:1"]
  proxy_url = "proxy:3128"
}`, `x.hcl:3:15: Invalid proxy_url; "proxy:3128" must start with http:// or https://`},
		"scrape sets Accept": {`scrape "s" {
  targets = ["a:1"]
  headers = { Accept = "text/plain" }
}`, `x.hcl:3:13: Reserved header; Header "Accept" is set by Vigil or by the authentication settings; a scrape block must not set it.`},
		"password and password file": {`scrape "s" {
  targets = ["a:1"]
  basic_auth {
    username      = "u"
    password      = "p"
    password_file = "f"
  }
}`, `x.hcl:6:21: Conflicting password; basic_auth sets both password and password_file; choose one.`},
		"TLS version": {`scrape "s" {
  targets = ["a:1"]
  tls {
    min_version = "TLS1.3"
  }
}`, `x.hcl:4:19: Invalid min_version; min_version must be one of TLS10, TLS11, TLS12 and TLS13, not "TLS1.3".`},
		"URL user and block authentication": {`alertmanager {
  urls         = ["http://u:p@a/"]
  bearer_token = "t"
}`, `x.hcl:2:18: Conflicting authentication; URL http://u:xxxxx@a/ has a user, and the block sets its own authentication; choose one.`},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := Parse("x.hcl", []byte(tc.config))
			if got := diagText(diags); !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHTTPClientConfig: a block's client settings reach upstream's client
// configuration, over the defaults of the block's kind, and that
// configuration is valid.
func TestHTTPClientConfig(t *testing.T) {
	cfg, diags := Load("testdata/httpclient.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	got := cfg.Scrapes[0].HTTPClient.Config(commoncfg.DefaultHTTPClientConfig)
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if got.FollowRedirects || got.EnableHTTP2 {
		t.Errorf("follow_redirects and enable_http2 are false, got %v and %v", got.FollowRedirects, got.EnableHTTP2)
	}
	if got.ProxyURL.String() != "http://proxy.example.com:3128" || got.NoProxy != "localhost,10.0.0.0/8" {
		t.Errorf("proxy: got %q and no_proxy %q", got.ProxyURL.String(), got.NoProxy)
	}
	if got.BasicAuth == nil || got.BasicAuth.Username != "vigil" || got.BasicAuth.PasswordFile != "testdata/password.txt" {
		t.Errorf("basic auth: got %+v", got.BasicAuth)
	}
	if got.TLSConfig.MinVersion != commoncfg.TLSVersions["TLS13"] || got.TLSConfig.CertFile == "" {
		t.Errorf("tls: got %+v", got.TLSConfig)
	}
	if h := got.HTTPHeaders; h == nil || h.Headers["X-Tenant"].Values[0] != "a" {
		t.Errorf("headers: got %+v", h)
	}
	token := cfg.Scrapes[1].HTTPClient.Config(commoncfg.DefaultHTTPClientConfig)
	if a := token.Authorization; a == nil || a.Type != "Bearer" || a.CredentialsFile == "" || !token.ProxyFromEnvironment {
		t.Errorf("bearer_token_file and proxy_from_environment: got %+v, %v", a, token.ProxyFromEnvironment)
	}
	oauth := cfg.Scrapes[2].HTTPClient.Config(commoncfg.DefaultHTTPClientConfig)
	if o := oauth.OAuth2; o == nil || o.ClientSecretFile == "" || o.TokenURL != "https://auth.example.com/token" {
		t.Errorf("oauth2: got %+v", o)
	}
	// A scrape that says nothing follows redirects and offers HTTP/2, as
	// Prometheus's do.
	plain, diags := Parse("x.hcl", []byte(`scrape "s" { targets = ["a:1"] }`))
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if c := plain.Scrapes[0].HTTPClient.Config(commoncfg.HTTPClientConfig{}); !c.FollowRedirects || !c.EnableHTTP2 {
		t.Errorf("defaults: got follow_redirects %v, enable_http2 %v", c.FollowRedirects, c.EnableHTTP2)
	}
}
