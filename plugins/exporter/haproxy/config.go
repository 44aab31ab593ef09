package main

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

// The config attributes.
const (
	attrScrapeURI           = "scrape_uri"
	attrUsername            = "username"
	attrPassword            = "password"
	attrSSLVerify           = "ssl_verify"
	attrTimeout             = "timeout"
	attrServerMetricFields  = "server_metric_fields"
	attrServerExcludeStates = "server_exclude_states"
)

// schema declares the config attributes.
var schema = sdk.Schema{
	sdk.String(attrScrapeURI, `Where HAProxy's statistics are: the CSV over HTTP ("http://host:port/stats;csv", or https), or its stats socket ("unix:/run/haproxy/admin.sock", or "tcp://host:port").`,
		sdk.Default("http://localhost/;csv")),
	sdk.String(attrUsername, "The user of the statistics page's basic authentication (stats auth), if it has one."),
	sdk.String(attrPassword, "That user's password.", sdk.Sensitive),
	sdk.Bool(attrSSLVerify, "Whether to verify the certificate of an https scrape_uri.", sdk.Default(true)),
	sdk.Duration(attrTimeout, "How long to wait for HAProxy's statistics.", sdk.Default("5s")),
	sdk.String(attrServerMetricFields, "The CSV fields, by number and comma-separated, whose haproxy_server_* metrics to report.",
		sdk.Default(defaultServerFields())),
	sdk.String(attrServerExcludeStates, `Server states, comma-separated, whose servers are left out (such as "MAINT,DOWN").`),
}

// config is the plugin's config, checked.
type config struct {
	uri                  *url.URL
	username, password   string
	sslVerify            bool
	serverMetrics        metrics
	excludedServerStates map[string]bool
}

// parseConfig checks cfg.
func parseConfig(cfg sdk.Config) (*config, error) {
	c := &config{
		username:             cfg.String(attrUsername),
		password:             cfg.String(attrPassword),
		sslVerify:            cfg.Bool(attrSSLVerify),
		serverMetrics:        metrics{},
		excludedServerStates: map[string]bool{},
	}
	raw := cfg.String(attrScrapeURI)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, sdk.AttributeErrorf(attrScrapeURI, "not a URI: %v", err)
	}
	switch u.Scheme {
	case "http", "https", "tcp":
		if u.Host == "" {
			return nil, sdk.AttributeErrorf(attrScrapeURI, "%q names no host", raw)
		}
	case "unix":
		if u.Path == "" {
			if u.Opaque == "" {
				return nil, sdk.AttributeErrorf(attrScrapeURI, "%q names no socket", raw)
			}
			u.Path = u.Opaque
		}
	default:
		return nil, sdk.AttributeErrorf(attrScrapeURI, "%q: the scheme must be http, https, unix or tcp", raw)
	}
	if u.User != nil {
		return nil, sdk.AttributeErrorf(attrScrapeURI, "put the credentials in username and password, not in the URI")
	}
	c.uri = u
	if c.password != "" && c.username == "" {
		return nil, sdk.AttributeErrorf(attrUsername, "a password is set but no user")
	}
	if cfg.Duration(attrTimeout) <= 0 {
		return nil, sdk.AttributeErrorf(attrTimeout, "must be positive")
	}
	if fields := strings.TrimSpace(cfg.String(attrServerMetricFields)); fields != "" {
		for _, f := range strings.Split(fields, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, sdk.AttributeErrorf(attrServerMetricFields, "%q is not a field number", f)
			}
			m, ok := serverMetrics[n]
			if !ok {
				return nil, sdk.AttributeErrorf(attrServerMetricFields, "field %d has no server metric; those that do are %s", n, defaultServerFields())
			}
			c.serverMetrics[n] = m
		}
	}
	if states := cfg.String(attrServerExcludeStates); states != "" {
		for _, s := range strings.Split(states, ",") {
			c.excludedServerStates[strings.TrimSpace(s)] = true
		}
	}
	return c, nil
}
