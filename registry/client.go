package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Limits on what a client reads.
const (
	maxDocumentBytes = 4 << 20
	maxArchiveBytes  = 2 << 30
)

// Client reads a registry's index and files over HTTP.
type Client struct {
	base *url.URL
	http *http.Client
	api  *url.URL
}

// NewClient is a client of the registry at base (as ParseRegistryURL
// gives it). A nil hc is a client with a 30s timeout for documents;
// archives are read without a timeout, as long as bytes arrive within
// the context's life.
func NewClient(base *url.URL, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport}
	}
	return &Client{base: base, http: hc}
}

// URL is the registry's URL.
func (c *Client) URL() *url.URL { return c.base }

// ErrNotFound is wrapped by the errors of a document the registry does not
// have (HTTP 404).
var ErrNotFound = errors.New("not found")

// apiBase finds the plugin API through the discovery document, once.
func (c *Client) apiBase(ctx context.Context) (*url.URL, error) {
	if c.api != nil {
		return c.api, nil
	}
	u := c.base.ResolveReference(&url.URL{Path: DiscoveryPath})
	var d Discovery
	if err := c.getJSON(ctx, u, &d); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%s is not a Vigil plugin registry: %w", c.base, err)
		}
		return nil, err
	}
	ref, err := url.Parse(d.PluginsV1)
	if err != nil || d.PluginsV1 == "" {
		return nil, fmt.Errorf("registry discovery document %s: plugins.v1 %q is not a URL", u, d.PluginsV1)
	}
	c.api = u.ResolveReference(ref)
	return c.api, nil
}

// Versions lists the versions of NAMESPACE/NAME.
func (c *Client) Versions(ctx context.Context, ns, name string) (*Versions, error) {
	api, err := c.apiBase(ctx)
	if err != nil {
		return nil, err
	}
	u := api.ResolveReference(&url.URL{Path: versionsPath(ns, name)})
	var v Versions
	if err := c.getJSON(ctx, u, &v); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("registry %s has no plugin %s/%s (%s): %w", c.base, ns, name, u, err)
		}
		return nil, err
	}
	return &v, nil
}

// Download reads the download document of a version and platform, and
// returns it with the document's URL, against which its URLs resolve.
func (c *Client) Download(ctx context.Context, ns, name, version string, p Platform) (*Download, *url.URL, error) {
	api, err := c.apiBase(ctx)
	if err != nil {
		return nil, nil, err
	}
	u := api.ResolveReference(&url.URL{Path: downloadPath(ns, name, version, p)})
	var d Download
	if err := c.getJSON(ctx, u, &d); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, fmt.Errorf("registry %s has no archive of %s/%s %s for %s (%s): %w", c.base, ns, name, version, p, u, err)
		}
		return nil, nil, err
	}
	return &d, u, nil
}

// getJSON reads a JSON document.
func (c *Client) getJSON(ctx context.Context, u *url.URL, dst any) error {
	b, err := c.getBytes(ctx, u, maxDocumentBytes)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("registry document %s is not valid: %w", u, err)
	}
	return nil
}

// getBytes reads a small file, within 30s.
func (c *Client) getBytes(ctx context.Context, u *url.URL, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := c.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", u, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", u, limit)
	}
	return b, nil
}

// get starts a GET and checks the status.
func (c *Client) get(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("cannot request %s: %w", u, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the registry: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("GET %s: %s: %w", u, resp.Status, ErrNotFound)
		}
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return resp, nil
}

// ErrTruncated is wrapped by the error of a download that ended before
// the length the server announced.
var ErrTruncated = errors.New("download cut short")

// fetch copies a file into w, reporting to bar, and returns its length.
// A body shorter than its Content-Length is an error wrapping
// ErrTruncated.
func (c *Client) fetch(ctx context.Context, u *url.URL, w io.Writer, bar *progressBar) (int64, error) {
	resp, err := c.get(ctx, u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	bar.start(resp.ContentLength)
	n, err := io.Copy(io.MultiWriter(w, bar), io.LimitReader(resp.Body, maxArchiveBytes+1))
	if err == nil && n > maxArchiveBytes {
		err = fmt.Errorf("%s is larger than %d bytes", u, int64(maxArchiveBytes))
	}
	if err == nil && resp.ContentLength >= 0 && n < resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("download of %s was cut short after %d of %d bytes: %w", u, n, resp.ContentLength, ErrTruncated)
		} else {
			err = fmt.Errorf("download of %s failed after %d bytes: %w", u, n, err)
		}
	}
	bar.done(err)
	return n, err
}
