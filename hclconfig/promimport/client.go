package promimport

import (
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	promcfg "github.com/prometheus/common/config"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"
)

// clientKind says whose HTTP client settings are converted.
type clientKind int

const (
	// blockClient is a scrape or alertmanager block, which take the HTTP
	// client settings of Prometheus.
	blockClient clientKind = iota
	// sdClient is the http discovery plugin: basic authentication, a
	// bearer token and tls_insecure_skip_verify.
	sdClient
)

// clientOut is what the converted settings of an HTTP client give.
type clientOut struct {
	username, password, bearer value
	passwordFile, bearerFile   string
	oauth2                     *oauth2Out
	tls                        *tlsOut
	headers                    map[string]string
	proxyURL, noProxy          string
	proxyFromEnvironment       bool
	// followRedirects and enableHTTP2 are set when the YAML says.
	followRedirects, enableHTTP2 *bool
}

// oauth2Out is an oauth2 block.
type oauth2Out struct {
	clientID, clientSecretFile, tokenURL string
	clientSecret                         value
	scopes                               []string
	endpointParams                       map[string]string
}

// tlsOut is a tls block.
type tlsOut struct {
	caFile, certFile, keyFile, serverName, minVersion string
	insecure                                          bool
}

// client converts e when it is a key of Prometheus's HTTP client settings
// (hc as loaded) into out, and reports what kind's client cannot take. It
// says whether e is such a key.
func (c *converter) client(e entry, hc promcfg.HTTPClientConfig, kind clientKind, out *clientOut) bool {
	switch e.key {
	case "basic_auth":
		c.basicAuth(e, hc.BasicAuth, kind, out)
	case "authorization":
		if hc.Authorization == nil {
			break // null
		}
		if !strings.EqualFold(hc.Authorization.Type, "Bearer") {
			c.skip(e.node, "Vigil sends Bearer credentials only, not %s", hc.Authorization.Type)
			break
		}
		for _, a := range entries(e.value) {
			switch a.key {
			case "type":
			case "credentials":
				out.bearer = literal(string(hc.Authorization.Credentials))
			case "credentials_file":
				c.bearerFile(hc.Authorization.CredentialsFile, kind, out)
			default:
				c.skip(a.node, "Vigil has no secret references; read the secret with file() or env() in the HCL")
			}
		}
	case "bearer_token", "bearer_token_file":
		// config.Load moved it into authorization.
		switch {
		case hc.Authorization == nil:
			// Empty.
		case e.key == "bearer_token":
			out.bearer = literal(string(hc.Authorization.Credentials))
		default:
			c.bearerFile(hc.Authorization.CredentialsFile, kind, out)
		}
	case "tls_config":
		c.tls(e, hc.TLSConfig, kind, out)
	case "follow_redirects":
		if kind == sdClient {
			c.skipIf(!hc.FollowRedirects, e.node, "the http discovery plugin follows redirects")
			break
		}
		out.followRedirects = &hc.FollowRedirects
	case "enable_http2":
		if kind == sdClient {
			c.skipIf(!hc.EnableHTTP2, e.node, "the http discovery plugin may use HTTP/2")
			break
		}
		out.enableHTTP2 = &hc.EnableHTTP2
	case "oauth2":
		c.oauth2(e, hc.OAuth2, kind, out)
	case "proxy_from_environment":
		// The http plugin takes the proxy of the environment.
		if kind != sdClient {
			out.proxyFromEnvironment = hc.ProxyFromEnvironment
		}
	case "proxy_url", "no_proxy":
		switch {
		case kind == sdClient:
			c.skip(e.node, "the http discovery plugin takes no proxy settings, only the environment's HTTP_PROXY, HTTPS_PROXY and NO_PROXY")
		case e.key == "proxy_url" && hc.ProxyURL.URL != nil:
			out.proxyURL = hc.ProxyURL.String()
		case e.key == "no_proxy":
			out.noProxy = hc.NoProxy
		}
	case "proxy_connect_header":
		c.skip(e.node, "Vigil sends no headers of its own to a proxy")
	case "http_headers":
		c.headers(e, hc.HTTPHeaders, kind, out)
	default:
		return false
	}
	return true
}

// bearerFile converts the file of a bearer token: for a block, read at
// each request; for the http plugin, read once with file().
func (c *converter) bearerFile(path string, kind clientKind, out *clientOut) {
	if kind == sdClient {
		out.bearer = fromFile(path)
		return
	}
	out.bearerFile = path
}

func (c *converter) basicAuth(e entry, ba *promcfg.BasicAuth, kind clientKind, out *clientOut) {
	if ba == nil {
		return
	}
	for _, a := range entries(e.value) {
		switch a.key {
		case "username":
			out.username = literal(ba.Username)
		case "password":
			out.password = literal(string(ba.Password))
		case "username_file":
			out.username = fromFile(ba.UsernameFile)
		case "password_file":
			if kind == sdClient {
				out.password = fromFile(ba.PasswordFile)
			} else {
				out.passwordFile = ba.PasswordFile
			}
		default:
			c.skip(a.node, "Vigil has no secret references; read the secret with file() or env() in the HCL")
		}
	}
}

func (c *converter) oauth2(e entry, o *promcfg.OAuth2, kind clientKind, out *clientOut) {
	if o == nil {
		return
	}
	if kind == sdClient {
		c.skip(e.node, "the http discovery plugin has no OAuth 2.0 client")
		return
	}
	oo := &oauth2Out{clientID: o.ClientID, tokenURL: o.TokenURL, scopes: o.Scopes, endpointParams: o.EndpointParams}
	for _, a := range entries(e.value) {
		switch a.key {
		case "client_id", "token_url", "scopes", "endpoint_params":
		case "client_secret":
			oo.clientSecret = literal(string(o.ClientSecret))
		case "client_secret_file":
			oo.clientSecretFile = o.ClientSecretFile
		default:
			c.skip(a.node, "Vigil's oauth2 block has client_id, client_secret or client_secret_file, token_url, scopes and endpoint_params")
		}
	}
	out.oauth2 = oo
}

func (c *converter) headers(e entry, h *promcfg.Headers, kind clientKind, out *clientOut) {
	if h == nil {
		return
	}
	if kind == sdClient {
		c.skip(e.node, "the http discovery plugin sends no extra headers")
		return
	}
	for _, name := range slices.Sorted(maps.Keys(h.Headers)) {
		header := h.Headers[name]
		node := e.node
		if n, ok := lookup(e.value, name); ok {
			node = n.node
		}
		if len(header.Secrets) > 0 || len(header.Files) > 0 || len(header.Values) != 1 {
			c.skip(node, "a Vigil header has one value, written in the HCL (with env() or file() for a secret)")
			continue
		}
		if out.headers == nil {
			out.headers = map[string]string{}
		}
		out.headers[name] = header.Values[0]
	}
}

func (c *converter) tls(e entry, t promcfg.TLSConfig, kind clientKind, out *clientOut) {
	tls := &tlsOut{}
	var certKey, keyKey *yaml.Node
	for _, a := range entries(e.value) {
		switch {
		case a.key == "insecure_skip_verify":
			tls.insecure = t.InsecureSkipVerify
		case kind == sdClient:
			c.skip(a.node, "the http discovery plugin takes only insecure_skip_verify of tls_config")
		case a.key == "ca_file":
			tls.caFile = t.CAFile
		case a.key == "cert_file":
			tls.certFile, certKey = t.CertFile, a.node
		case a.key == "key_file":
			tls.keyFile, keyKey = t.KeyFile, a.node
		case a.key == "server_name":
			tls.serverName = t.ServerName
		case a.key == "min_version":
			tls.minVersion = a.value.Value
		case a.key == "ca" || a.key == "cert" || a.key == "key":
			c.skip(a.node, "Vigil reads certificates and keys from files; write it to one and set %s_file", a.key)
		case a.key == "max_version":
			c.skip(a.node, "Vigil accepts the newest TLS version Go has")
		default:
			c.skip(a.node, "Vigil has no secret references; set ca_file, cert_file and key_file")
		}
	}
	// Vigil takes a client certificate from two files or not at all.
	if (tls.certFile == "") != (tls.keyFile == "") {
		lone := certKey
		if lone == nil {
			lone = keyKey
		}
		c.skip(lone, "cert_file and key_file go together in Vigil, and the other half is not converted")
		tls.certFile, tls.keyFile = "", ""
	}
	if *tls != (tlsOut{}) {
		out.tls = tls
	}
}

// write writes the client settings into b, the body of a scrape or
// alertmanager block.
func (out *clientOut) write(b *hclwrite.Body) {
	if len(out.headers) > 0 {
		b.SetAttributeValue("headers", stringMap(out.headers))
	}
	setValue(b, "bearer_token", out.bearer)
	if out.bearerFile != "" {
		b.SetAttributeValue("bearer_token_file", cty.StringVal(out.bearerFile))
	}
	if out.proxyURL != "" {
		b.SetAttributeValue("proxy_url", cty.StringVal(out.proxyURL))
	}
	if out.noProxy != "" {
		b.SetAttributeValue("no_proxy", cty.StringVal(out.noProxy))
	}
	if out.proxyFromEnvironment {
		b.SetAttributeValue("proxy_from_environment", cty.True)
	}
	if out.followRedirects != nil && !*out.followRedirects {
		b.SetAttributeValue("follow_redirects", cty.False)
	}
	if out.enableHTTP2 != nil {
		b.SetAttributeValue("enable_http2", cty.BoolVal(*out.enableHTTP2))
	}
	if out.username.set || out.password.set || out.passwordFile != "" {
		ba := nested(b, "basic_auth")
		setValue(ba, "username", out.username)
		setValue(ba, "password", out.password)
		if out.passwordFile != "" {
			ba.SetAttributeValue("password_file", cty.StringVal(out.passwordFile))
		}
	}
	if o := out.oauth2; o != nil {
		ob := nested(b, "oauth2")
		ob.SetAttributeValue("client_id", cty.StringVal(o.clientID))
		setValue(ob, "client_secret", o.clientSecret)
		if o.clientSecretFile != "" {
			ob.SetAttributeValue("client_secret_file", cty.StringVal(o.clientSecretFile))
		}
		ob.SetAttributeValue("token_url", cty.StringVal(o.tokenURL))
		if len(o.scopes) > 0 {
			ob.SetAttributeValue("scopes", stringList(o.scopes))
		}
		if len(o.endpointParams) > 0 {
			ob.SetAttributeValue("endpoint_params", stringMap(o.endpointParams))
		}
	}
	if t := out.tls; t != nil {
		tb := nested(b, "tls")
		for _, a := range []struct{ name, v string }{
			{"ca_file", t.caFile}, {"cert_file", t.certFile}, {"key_file", t.keyFile}, {"server_name", t.serverName}, {"min_version", t.minVersion},
		} {
			if a.v != "" {
				tb.SetAttributeValue(a.name, cty.StringVal(a.v))
			}
		}
		if t.insecure {
			tb.SetAttributeValue("insecure_skip_verify", cty.True)
		}
	}
}
