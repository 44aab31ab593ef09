package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

// version is the plugin's version.
const version = "0.1.0"

// The config attributes.
const (
	attrScrapeURI     = "scrape_uri"
	attrCustomHeaders = "custom_headers"
	attrTimeout       = "timeout"
)

// maxBody bounds what is read of the status page.
const maxBody = 4 << 20

// apachePlugin is the Apache exporter as the SDK serves it.
var apachePlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:        "apache",
		Version:     version,
		Description: "Reports the Apache HTTP Server's mod_status page with apache_exporter's metric names.",
	},
	Schema: sdk.Schema{
		sdk.String(attrScrapeURI, `The machine-readable status page, "http://host:port/server-status?auto"; its host must be in the plugin block's allow_hosts.`,
			sdk.Default("http://localhost/server-status/?auto")),
		sdk.StringMap(attrCustomHeaders, "Headers to send with the request, such as an Authorization the page needs.", sdk.Sensitive),
		sdk.Duration(attrTimeout, "How long to wait for the status page.", sdk.Default("5s")),
	},
	Exporter: newExporter,
}

// exporter reads one status page.
type exporter struct {
	uri     string
	headers map[string]string
	timeout time.Duration
}

// newExporter checks the config.
func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	raw := cfg.String(attrScrapeURI)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, sdk.AttributeErrorf(attrScrapeURI, "not a URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, sdk.AttributeErrorf(attrScrapeURI, "%q is not an http or https URL with a host", raw)
	}
	if u.User != nil {
		return nil, sdk.AttributeErrorf(attrScrapeURI, "put credentials in custom_headers (an Authorization header), not in the URL")
	}
	timeout := cfg.Duration(attrTimeout)
	if timeout <= 0 {
		return nil, sdk.AttributeErrorf(attrTimeout, "must be positive")
	}
	return &exporter{uri: u.String(), headers: cfg.StringMap(attrCustomHeaders), timeout: timeout}, nil
}

// Collect implements sdk.Exporter. A status page that cannot be reached
// within the timeout, answers another status than 200, or is not the
// machine-readable status, gives apache_up 0, as apache_exporter's scrape
// does, and the reason in the log and as the target's error
// (sdk.TargetDown), which the host reports with the target down.
func (e *exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	f := newFamilies()
	page, err := e.fetch(ctx)
	if err == nil {
		err = parseStatus(page, f)
	}
	up := 1.0
	if err != nil {
		wasm.Logger().Error("cannot read Apache's status page", "error", err)
		err = fmt.Errorf("cannot read Apache's status page at %s: %w", e.uri, err)
		up = 0
	}
	f.add(upFamily, up)
	return f.list(), sdk.TargetDown(err)
}

// fetch gets the status page.
func (e *exporter) fetch(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.uri, nil)
	if err != nil {
		return "", err
	}
	for k, v := range e.headers {
		req.Header.Add(k, v)
	}
	req.Header.Set("User-Agent", "Vigil-Apache-Exporter/"+version)
	resp, err := wasm.HTTPClient().Do(req)
	if err != nil {
		// The url.Error quotes the URL; what it wraps says enough.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("GET the status page: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return "", fmt.Errorf("reading the status page: %w", err)
	}
	if len(body) > maxBody {
		return "", fmt.Errorf("the status page is larger than %d bytes", maxBody)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the status page answered %s", resp.Status)
	}
	return string(body), nil
}
