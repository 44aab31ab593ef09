package promimport

import (
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	promcfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/config"
	"go.yaml.in/yaml/v3"
)

// clientKind says whose HTTP client settings are converted: each of
// Vigil's HTTP clients takes a different part of Prometheus's.
type clientKind int

const (
	// scrapeClient is a scrape block: basic_auth, bearer_token and tls,
	// secrets literal or read with file().
	scrapeClient clientKind = iota
	// sdClient is the http discovery plugin: basic authentication, a
	// bearer token and tls_insecure_skip_verify.
	sdClient
	// amClient is an alertmanager block: a user and password in its URLs.
	amClient
	// remoteWriteClient is a remote_write block: what a scrape block
	// takes, and oauth2; its defaults are those of Prometheus's
	// remote_write.
	remoteWriteClient
	// remoteReadClient is a remote_read block, as remoteWriteClient
	// with the defaults of Prometheus's remote_read.
	remoteReadClient
)

// remote says whether kind is a remote_write or remote_read block.
func (kind clientKind) remote() bool { return kind == remoteWriteClient || kind == remoteReadClient }

// defaults are the settings of kind's client that Vigil uses, which
// Prometheus uses unless told otherwise.
func (kind clientKind) defaults() promcfg.HTTPClientConfig {
	if kind == remoteWriteClient {
		return config.DefaultRemoteWriteHTTPClientConfig
	}
	return promcfg.DefaultHTTPClientConfig
}

// clientOut is what the converted settings of an HTTP client give.
type clientOut struct {
	username, password, bearer value
	tls                        *tlsOut
	oauth2                     *oauth2Out
}

// oauth2Out is a remote block's oauth2 block.
type oauth2Out struct {
	clientID, tokenURL string
	clientSecret       value
	scopes             []string
	params             map[string]string
}

// tlsOut is a scrape's tls block.
type tlsOut struct {
	caFile, certFile, keyFile, serverName string
	insecure                              bool
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
		if kind == amClient {
			c.skip(e.node, "an alertmanager block sends basic authentication only, with the user and password of its URLs")
			break
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
				out.bearer = fromFile(hc.Authorization.CredentialsFile)
			default:
				c.skip(a.node, "Vigil has no secret references; read the secret with file() or env() in the HCL")
			}
		}
	case "bearer_token", "bearer_token_file":
		// config.Load moved it into authorization.
		switch {
		case hc.Authorization == nil:
			// Empty.
		case kind == amClient:
			c.skip(e.node, "an alertmanager block sends basic authentication only, with the user and password of its URLs")
		case e.key == "bearer_token":
			out.bearer = literal(string(hc.Authorization.Credentials))
		default:
			out.bearer = fromFile(hc.Authorization.CredentialsFile)
		}
	case "tls_config":
		c.tls(e, hc.TLSConfig, kind, out)
	case "follow_redirects":
		if kind.remote() {
			c.skipIf(hc.FollowRedirects != kind.defaults().FollowRedirects, e.node, "Vigil's remote blocks follow redirects as Prometheus does by default")
			break
		}
		c.skipIf(!hc.FollowRedirects, e.node, "Vigil's HTTP clients follow redirects")
	case "enable_http2":
		if kind.remote() {
			c.skipIf(hc.EnableHTTP2 != kind.defaults().EnableHTTP2, e.node, "Vigil's remote blocks use HTTP/2 as Prometheus does by default")
			break
		}
		c.skipIf(!hc.EnableHTTP2, e.node, "Vigil's HTTP clients may use HTTP/2")
	case "oauth2":
		if kind.remote() {
			c.oauth2(e, hc.OAuth2, out)
			break
		}
		c.skip(e.node, "Vigil has no OAuth 2.0 client here; the remote_write and remote_read blocks have one")
	case "proxy_from_environment":
		// Scrapes and the http plugin take the proxy of the environment;
		// the Alertmanager client and the remote blocks do not.
		c.skipIf(kind == amClient && hc.ProxyFromEnvironment, e.node, "an alertmanager block uses no proxy")
		c.skipIf(kind.remote() && hc.ProxyFromEnvironment, e.node, "Vigil's remote blocks use no proxy")
	case "proxy_url", "no_proxy", "proxy_connect_header":
		c.skip(e.node, "Vigil's HTTP clients take no proxy settings, only the environment's HTTP_PROXY, HTTPS_PROXY and NO_PROXY")
	case "http_headers":
		if kind.remote() {
			c.skip(e.node, "write the headers in the block's headers attribute, without secrets from files")
			break
		}
		c.skip(e.node, "Vigil sends no extra headers")
	default:
		return false
	}
	return true
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
		case "username_file", "password_file":
			if kind == amClient {
				c.skip(a.node, "an alertmanager block takes the user and password in its URLs, not from files")
			} else if a.key == "username_file" {
				out.username = fromFile(ba.UsernameFile)
			} else {
				out.password = fromFile(ba.PasswordFile)
			}
		default:
			c.skip(a.node, "Vigil has no secret references; read the secret with file() or env() in the HCL")
		}
	}
}

func (c *converter) tls(e entry, t promcfg.TLSConfig, kind clientKind, out *clientOut) {
	if kind == amClient {
		c.skipIf(len(entries(e.value)) > 0, e.node, "an alertmanager block has no TLS settings")
		return
	}
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
		case a.key == "ca" || a.key == "cert" || a.key == "key":
			c.skip(a.node, "Vigil reads certificates and keys from files; write it to one and set %s_file", a.key)
		case a.key == "min_version" || a.key == "max_version":
			c.skip(a.node, "Vigil uses Go's default TLS versions")
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

// writeClient writes the authentication and TLS of a scrape or remote
// block.
func writeClient(b *hclwrite.Body, client clientOut) {
	setValue(b, "bearer_token", client.bearer)
	if client.username.set || client.password.set {
		ba := nested(b, "basic_auth")
		setValue(ba, "username", client.username)
		setValue(ba, "password", client.password)
	}
	if client.oauth2 != nil {
		writeOAuth2(b, client.oauth2)
	}
	if t := client.tls; t != nil {
		tb := nested(b, "tls")
		for _, a := range []struct{ name, v string }{
			{"ca_file", t.caFile}, {"cert_file", t.certFile}, {"key_file", t.keyFile}, {"server_name", t.serverName},
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
