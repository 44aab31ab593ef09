package hclconfig

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	commoncfg "github.com/prometheus/common/config"
)

// HTTPClient is the HTTP client of a block that makes requests: a scrape
// job, a remote_write or remote_read block, an alertmanager block. Its
// attributes and blocks are those of Prometheus's HTTP client settings
// (http_config), and Config gives the upstream HTTPClientConfig, from
// which the client is built.
type HTTPClient struct {
	// Headers are added to every request.
	Headers map[string]string
	// BearerToken, BearerTokenFile, BasicAuth and OAuth2 authenticate the
	// requests; one at most. BearerTokenFile is read at each request, so a
	// rotated token is taken up without a reload.
	BearerToken     Secret
	BearerTokenFile string
	BasicAuth       *BasicAuth
	OAuth2          *OAuth2
	TLS             *TLS
	// ProxyURL is the HTTP proxy the requests go through, except to the
	// hosts of NoProxy (a comma-separated list, as the NO_PROXY
	// variable); ProxyFromEnvironment takes the proxy from HTTP_PROXY,
	// HTTPS_PROXY and NO_PROXY instead.
	ProxyURL             *url.URL
	NoProxy              string
	ProxyFromEnvironment bool
	// FollowRedirects says whether 3xx answers are followed.
	FollowRedirects bool
	// EnableHTTP2 says whether HTTP/2 is offered to https servers.
	EnableHTTP2 bool
}

// BasicAuth is a `basic_auth` block: the user and password of the
// requests.
type BasicAuth struct {
	Username string
	Password Secret
	// PasswordFile holds the password instead; it is read at each request.
	PasswordFile string
}

// TLS is a `tls` block: how the server's certificate is checked, and the
// client certificate, if any.
type TLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
	// MinVersion is the oldest TLS version accepted: TLS10 to TLS13; empty
	// for TLS 1.2.
	MinVersion string
}

// OAuth2 is an `oauth2` block: the client credentials flow, as
// Prometheus's oauth2 settings.
type OAuth2 struct {
	ClientID     string
	ClientSecret Secret
	// ClientSecretFile holds the secret instead; it is read when a token is
	// fetched.
	ClientSecretFile string
	TokenURL         *url.URL
	Scopes           []string
	EndpointParams   map[string]string
}

// The paths of files in an HTTPClient are joined to the configuration
// file's folder when relative.

// Config is base, Prometheus's defaults for the kind of block, with c's
// settings: the client configuration upstream's
// config.NewClientFromConfig builds a client from.
func (c *HTTPClient) Config(base commoncfg.HTTPClientConfig) commoncfg.HTTPClientConfig {
	h := base
	h.FollowRedirects = c.FollowRedirects
	h.EnableHTTP2 = c.EnableHTTP2
	if len(c.Headers) > 0 {
		h.HTTPHeaders = &commoncfg.Headers{Headers: map[string]commoncfg.Header{}}
		for name, value := range c.Headers {
			h.HTTPHeaders.Headers[name] = commoncfg.Header{Values: []string{value}}
		}
	}
	switch {
	case c.BearerToken != "":
		h.Authorization = &commoncfg.Authorization{Type: "Bearer", Credentials: commoncfg.Secret(c.BearerToken.Value())}
	case c.BearerTokenFile != "":
		h.Authorization = &commoncfg.Authorization{Type: "Bearer", CredentialsFile: c.BearerTokenFile}
	}
	if b := c.BasicAuth; b != nil {
		h.BasicAuth = &commoncfg.BasicAuth{Username: b.Username, Password: commoncfg.Secret(b.Password.Value()), PasswordFile: b.PasswordFile}
	}
	if o := c.OAuth2; o != nil {
		h.OAuth2 = &commoncfg.OAuth2{
			ClientID: o.ClientID, ClientSecret: commoncfg.Secret(o.ClientSecret.Value()), ClientSecretFile: o.ClientSecretFile,
			Scopes: o.Scopes, EndpointParams: o.EndpointParams, TokenURL: o.TokenURL.String(),
		}
	}
	if t := c.TLS; t != nil {
		h.TLSConfig = commoncfg.TLSConfig{
			CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName,
			InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: commoncfg.TLSVersions[t.MinVersion],
		}
	}
	if c.ProxyURL != nil {
		h.ProxyURL = commoncfg.URL{URL: c.ProxyURL}
	}
	h.NoProxy = c.NoProxy
	h.ProxyFromEnvironment = c.ProxyFromEnvironment
	return h
}

// httpClientSpec describes the HTTPClient of blocks of type T: its
// attributes, and its blocks of authentication and TLS.
type httpClientSpec[T any] struct {
	attrs  []attr[T]
	blocks []child[T]
}

// httpClient describes the HTTPClient that client returns of a block;
// what names the block's peer in the documentation ("target", "receiver")
// and http2 is the default of enable_http2, Prometheus's for the kind of
// block.
func httpClient[T any](client func(*T) *HTTPClient, what string, http2 bool) httpClientSpec[T] {
	return httpClientSpec[T]{
		attrs: []attr[T]{
			field("headers", strMap, func(t *T) *map[string]string { return &client(t).Headers },
				"Headers added to every request, such as X-Scope-OrgID; not Authorization."),
			field("bearer_token", secret, func(t *T) *Secret { return &client(t).BearerToken },
				"A token sent as Authorization: Bearer; not with another authentication."),
			field("bearer_token_file", filePath, func(t *T) *string { return &client(t).BearerTokenFile },
				"A file holding the bearer token, read at each request; not with another authentication."),
			field("proxy_url", proxyURL, func(t *T) **url.URL { return &client(t).ProxyURL },
				"The HTTP proxy the requests go through."),
			field("no_proxy", str, func(t *T) *string { return &client(t).NoProxy },
				"Hosts, domains and networks reached without proxy_url, comma-separated as NO_PROXY."),
			withDefault("proxy_from_environment", boolean, func(t *T) *bool { return &client(t).ProxyFromEnvironment }, false,
				"Whether the proxy comes from HTTP_PROXY, HTTPS_PROXY and NO_PROXY; not with proxy_url."),
			withDefault("follow_redirects", boolean, func(t *T) *bool { return &client(t).FollowRedirects }, true,
				"Whether redirects are followed."),
			withDefault("enable_http2", boolean, func(t *T) *bool { return &client(t).EnableHTTP2 }, http2,
				"Whether HTTP/2 is offered to an https "+what+"."),
		},
		blocks: []child[T]{
			optional[T, BasicAuth]{spec: basicAuthSpec, ptr: func(t *T) **BasicAuth { return &client(t).BasicAuth }},
			optional[T, OAuth2]{spec: oauth2Spec, ptr: func(t *T) **OAuth2 { return &client(t).OAuth2 }},
			optional[T, TLS]{spec: tlsSpec.named("tls", "TLS settings of an https "+what+": the certificate authority, a client certificate."),
				ptr: func(t *T) **TLS { return &client(t).TLS }},
		},
	}
}

// reservedHeaders are the headers no block may set, as in Prometheus: the
// client sets them, or authentication does.
var reservedHeaders = []string{
	"authorization", "host", "content-encoding", "content-length", "content-type", "user-agent",
	"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate",
	"accept-encoding", "x-prometheus-remote-write-version", "x-prometheus-remote-read-version",
	"x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
}

// checkHTTPClient checks what the client of block kind NAME cannot check
// alone: no reserved header (nor any of more, the kind's own), one
// authentication at most, one source of proxy.
func checkHTTPClient(s *scope, kind, name string, c *HTTPClient, more ...string) {
	block := kind + " block"
	if name != "" {
		block = fmt.Sprintf("%s %q", kind, name)
	}
	for _, h := range slices.Sorted(maps.Keys(c.Headers)) {
		if lower := strings.ToLower(h); slices.Contains(reservedHeaders, lower) || slices.Contains(more, lower) {
			s.errorf("headers", "Reserved header", "Header %q is set by Vigil or by the authentication settings; a %s block must not set it.", h, kind)
		}
	}
	var auth []string
	if c.BearerToken != "" {
		auth = append(auth, "bearer_token")
	}
	if c.BearerTokenFile != "" {
		auth = append(auth, "bearer_token_file")
	}
	if c.BasicAuth != nil {
		auth = append(auth, "basic_auth")
	}
	if c.OAuth2 != nil {
		auth = append(auth, "oauth2")
	}
	if len(auth) > 1 {
		s.blockErrorf("Conflicting authentication", "%s sets %s; choose one.", block, strings.Join(auth, " and "))
	}
	if c.ProxyURL != nil && c.ProxyFromEnvironment {
		s.errorf("proxy_from_environment", "Conflicting proxy", "%s sets both proxy_url and proxy_from_environment; choose one.", block)
	}
	if c.NoProxy != "" && c.ProxyURL == nil {
		s.errorf("no_proxy", "no_proxy without proxy_url", "%s sets no_proxy, which only applies with proxy_url.", block)
	}
}

var basicAuthSpec = &block[BasicAuth]{
	name: "basic_auth", doc: "Basic authentication of the requests; not with another authentication.",
	attrs: []attr[BasicAuth]{
		field("username", str, func(b *BasicAuth) *string { return &b.Username }, "The user name.").require(),
		field("password", secret, func(b *BasicAuth) *Secret { return &b.Password }, "The password."),
		field("password_file", filePath, func(b *BasicAuth) *string { return &b.PasswordFile }, "A file holding the password, read at each request; not with password."),
	},
	check: func(s *scope, b *BasicAuth) {
		if b.Password != "" && b.PasswordFile != "" {
			s.errorf("password_file", "Conflicting password", "basic_auth sets both password and password_file; choose one.")
		}
	},
}

var tlsSpec = &block[TLS]{
	name: "tls", doc: "TLS settings of an https scrape: the certificate authority, a client certificate.",
	attrs: []attr[TLS]{
		field("ca_file", filePath, func(t *TLS) *string { return &t.CAFile }, "The CA certificates the server's certificate is checked with."),
		field("cert_file", filePath, func(t *TLS) *string { return &t.CertFile }, "The client certificate; with key_file."),
		field("key_file", filePath, func(t *TLS) *string { return &t.KeyFile }, "The client certificate's key; with cert_file."),
		field("server_name", str, func(t *TLS) *string { return &t.ServerName }, "The name the server's certificate must have."),
		withDefault("insecure_skip_verify", boolean, func(t *TLS) *bool { return &t.InsecureSkipVerify }, false,
			"Whether the server's certificate goes unchecked."),
		field("min_version", str, func(t *TLS) *string { return &t.MinVersion }, "The oldest TLS version accepted: TLS10, TLS11, TLS12 (when unset) or TLS13."),
	},
	check: func(s *scope, t *TLS) {
		if (t.CertFile == "") != (t.KeyFile == "") {
			s.blockErrorf("Incomplete client certificate", "cert_file and key_file must be set together.")
		}
		if _, ok := commoncfg.TLSVersions[t.MinVersion]; t.MinVersion != "" && !ok {
			s.errorf("min_version", "Invalid min_version", "min_version must be one of TLS10, TLS11, TLS12 and TLS13, not %q.", t.MinVersion)
		}
	},
}

var oauth2Spec = &block[OAuth2]{
	name: "oauth2", doc: "OAuth 2.0 client credentials for the requests; not with another authentication.",
	attrs: []attr[OAuth2]{
		field("client_id", str, func(o *OAuth2) *string { return &o.ClientID }, "The client ID.").require(),
		field("client_secret", secret, func(o *OAuth2) *Secret { return &o.ClientSecret }, "The client secret."),
		field("client_secret_file", filePath, func(o *OAuth2) *string { return &o.ClientSecretFile }, "A file holding the client secret; not with client_secret."),
		field("token_url", httpURL("Invalid token_url"), func(o *OAuth2) **url.URL { return &o.TokenURL }, "Where tokens are fetched.").require(),
		field("scopes", strList, func(o *OAuth2) *[]string { return &o.Scopes }, "The scopes asked for."),
		field("endpoint_params", strMap, func(o *OAuth2) *map[string]string { return &o.EndpointParams }, "Parameters added to the token request."),
	},
	check: func(s *scope, o *OAuth2) {
		if o.ClientSecret != "" && o.ClientSecretFile != "" {
			s.errorf("client_secret_file", "Conflicting client secret", "oauth2 sets both client_secret and client_secret_file; choose one.")
		}
	},
}

// proxyURL is the URL of an HTTP proxy: http or https, with a host.
var proxyURL = httpURL("Invalid proxy_url")
