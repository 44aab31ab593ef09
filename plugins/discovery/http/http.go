package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/discovery"
)

const (
	// urlLabel is the label holding the URL a group came from, named as
	// in Prometheus.
	urlLabel = "__meta_url"
	// refreshHeader tells the server how often it is polled, as
	// Prometheus does.
	refreshHeader = "X-Prometheus-Refresh-Interval-Seconds"
	// userAgent is sent with every poll.
	userAgent = "Vigil"
	// maxBodyBytes bounds a response; a larger one is a failed poll.
	maxBodyBytes = 64 << 20
)

// jsonContentType is the Content-Type a response must have, as in
// Prometheus.
var jsonContentType = regexp.MustCompile(`^(?i:application/json(;\s*charset=("utf-8"|utf-8))?)$`)

var httpPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "http",
		Version:      "0.1.0",
		Description:  "Polls a URL for scrape targets, as Prometheus's http_sd does.",
		Capabilities: []string{sdk.CapabilityPollsURL},
	},
	Schema: sdk.Schema{
		sdk.String("url", "The http or https URL that answers with the JSON list of target groups.", sdk.Required),
		sdk.Duration("refresh_interval", "How often to poll the URL.", sdk.Default("60s")),
		sdk.String("bearer_token", "A token sent as \"Authorization: Bearer <token>\".", sdk.Sensitive),
		sdk.String("basic_auth_username", "The user name of HTTP basic authentication."),
		sdk.String("basic_auth_password", "The password of HTTP basic authentication.", sdk.Sensitive),
		sdk.Bool("tls_insecure_skip_verify", "Accept any certificate the server presents.", sdk.Default(false)),
		sdk.Duration("timeout", "How long one poll may take; the refresh interval when not set."),
	},
	Discoverer: func(cfg sdk.Config) (sdk.Discoverer, error) { return newHTTPDiscoverer(cfg) },
}

// doer makes the discoverer's requests: an *http.Client in the
// program, the module's *wasm.Client in the module.
type doer interface {
	Do(req *http.Request) (*http.Response, error)
	CloseIdleConnections()
}

// httpDiscoverer polls one URL for target groups.
type httpDiscoverer struct {
	url         string
	redacted    string // url for logs: without a password
	interval    time.Duration
	timeout     time.Duration
	bearerToken string
	username    string
	password    string
	client      doer
	log         hclog.Logger
}

func newHTTPDiscoverer(cfg sdk.Config) (*httpDiscoverer, error) {
	raw := cfg.String("url")
	u, err := url.Parse(raw)
	if err != nil {
		return nil, sdk.AttributeErrorf("url", "is not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, sdk.AttributeErrorf("url", "scheme must be \"http\" or \"https\", not %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, sdk.AttributeErrorf("url", "has no host")
	}
	d := &httpDiscoverer{
		url:         raw,
		redacted:    u.Redacted(),
		interval:    cfg.Duration("refresh_interval"),
		timeout:     cfg.Duration("timeout"),
		bearerToken: cfg.String("bearer_token"),
		username:    cfg.String("basic_auth_username"),
		password:    cfg.String("basic_auth_password"),
		log:         logger(),
	}
	if d.interval <= 0 {
		return nil, sdk.AttributeErrorf("refresh_interval", "must be positive, not %s", d.interval)
	}
	if !cfg.Has("timeout") {
		d.timeout = d.interval
	}
	if d.timeout <= 0 {
		return nil, sdk.AttributeErrorf("timeout", "must be positive, not %s", d.timeout)
	}
	if d.password != "" && d.username == "" {
		return nil, sdk.AttributeErrorf("basic_auth_password", "is set without basic_auth_username")
	}
	if d.bearerToken != "" && d.username != "" {
		return nil, sdk.AttributeErrorf("bearer_token", "cannot be set with basic_auth_username: choose one")
	}
	if d.client, err = newClient(cfg.Bool("tls_insecure_skip_verify")); err != nil {
		return nil, err
	}
	return d, nil
}

// Discover implements sdk.Discoverer: it polls the URL now and at every
// refresh interval, and sends what changed. A failed poll is logged and
// keeps the groups of the last good one.
func (d *httpDiscoverer) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	defer d.client.CloseIdleConnections()
	ticker := time.NewTicker(d.interval)
	defer ticker.Stop()
	var tr discovery.Tracker
	sent := false
	for {
		groups, err := d.fetch(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			d.log.Error("poll failed; keeping the last target groups", "url", d.redacted, "err", err)
		default:
			update := tr.Set(d.url, groups)
			if !sent && update == nil {
				update = []sdk.TargetGroup{}
			}
			if update != nil {
				if err := send(update); err != nil {
					return fmt.Errorf("cannot send target groups: %w", err)
				}
				sent = true
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Poll implements sdk.PollingDiscoverer: it polls the URL once and
// returns every group it lists. The module build is polled so by the
// host, at the refresh interval.
func (d *httpDiscoverer) Poll(ctx context.Context) ([]sdk.TargetGroup, error) {
	groups, err := d.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("poll of %s failed: %w", d.redacted, err)
	}
	return groups, nil
}

// fetch polls the URL once and returns its target groups.
func (d *httpDiscoverer) fetch(ctx context.Context) ([]sdk.TargetGroup, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("cannot make the request: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	req.Header.Set(refreshHeader, strconv.FormatFloat(d.interval.Seconds(), 'f', -1, 64))
	switch {
	case d.bearerToken != "":
		req.Header.Set("Authorization", "Bearer "+d.bearerToken)
	case d.username != "":
		req.SetBasicAuth(d.username, d.password)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET failed: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyBytes))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !jsonContentType.MatchString(strings.TrimSpace(ct)) {
		return nil, fmt.Errorf("unsupported Content-Type %q: want application/json", ct)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the response: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("response is larger than %d bytes", maxBodyBytes)
	}
	groups, err := discovery.DecodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the response: %w", err)
	}
	return discovery.TargetGroups(d.url, groups, map[string]string{urlLabel: d.url}), nil
}
