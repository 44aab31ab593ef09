package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigilmon/vigil/sdk"
)

const (
	// userAgent is sent with every notification.
	userAgent = "Vigil"
	// drainBytes is how much of an answer is read to reuse the
	// connection.
	drainBytes = 64 << 10
)

// reservedHeaders are set by the plugin itself, or by the authentication
// attributes, and cannot be set through headers.
var reservedHeaders = []string{
	"Authorization", "Connection", "Content-Encoding", "Content-Length", "Content-Type",
	"Host", "Transfer-Encoding", "User-Agent",
}

var webhookPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "webhook",
		Version:      "0.1.0",
		Description:  "POSTs notifications as Alertmanager's webhook message, version 4.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("url", "The http or https URL to POST notifications to; a secret, as in Alertmanager, since it often holds a token.", sdk.Required, sdk.Sensitive),
		sdk.String("bearer_token", "A token sent as \"Authorization: Bearer <token>\".", sdk.Sensitive),
		sdk.String("basic_auth_username", "The user name of HTTP basic authentication."),
		sdk.String("basic_auth_password", "The password of HTTP basic authentication.", sdk.Sensitive),
		sdk.Number("max_alerts", "The most alerts one message carries; the others are left out and counted in truncatedAlerts. 0 sends them all.", sdk.Default(0)),
		sdk.Duration("timeout", "How long one delivery may take.", sdk.Default("10s")),
		sdk.StringMap("headers", "Extra HTTP headers sent with every notification; secrets, since they often hold an API key.", sdk.Sensitive),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newWebhook(cfg) },
}

// webhook delivers notifications to one URL.
type webhook struct {
	url         string
	bearerToken string
	username    string
	password    string
	maxAlerts   uint64
	timeout     time.Duration
	headers     map[string]string
	client      *http.Client
}

// maxIdleConns is how many idle connections to the receiver are kept:
// the groups of a dispatcher notify at once, and each connection beyond
// the idle ones is opened and closed again.
const maxIdleConns = 64

// transport returns the HTTP transport of a webhook: the default one,
// keeping more idle connections to its one receiver.
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxIdleConns
	t.MaxIdleConnsPerHost = maxIdleConns
	return t
}

func newWebhook(cfg sdk.Config) (*webhook, error) {
	raw := cfg.String("url")
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, a secret
		}
		return nil, sdk.AttributeErrorf("url", "is not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, sdk.AttributeErrorf("url", "scheme must be \"http\" or \"https\", not %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, sdk.AttributeErrorf("url", "has no host")
	}
	w := &webhook{
		url:         raw,
		bearerToken: cfg.String("bearer_token"),
		username:    cfg.String("basic_auth_username"),
		password:    cfg.String("basic_auth_password"),
		timeout:     cfg.Duration("timeout"),
		headers:     map[string]string{},
		client:      &http.Client{Transport: transport()},
	}
	if w.password != "" && w.username == "" {
		return nil, sdk.AttributeErrorf("basic_auth_password", "is set without basic_auth_username")
	}
	if w.bearerToken != "" && w.username != "" {
		return nil, sdk.AttributeErrorf("bearer_token", "cannot be set with basic_auth_username: choose one")
	}
	maxAlerts := cfg.Number("max_alerts")
	if maxAlerts < 0 || maxAlerts != math.Trunc(maxAlerts) || maxAlerts > math.MaxInt32 {
		return nil, sdk.AttributeErrorf("max_alerts", "must be a whole number from 0 up, not %v", maxAlerts)
	}
	w.maxAlerts = uint64(maxAlerts)
	if w.timeout <= 0 {
		return nil, sdk.AttributeErrorf("timeout", "must be positive, not %s", w.timeout)
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.StringMap("headers"))) {
		value := cfg.StringMap("headers")[name]
		if !validHeaderName(name) {
			return nil, sdk.AttributeErrorf("headers", "%q is not a valid header name", name)
		}
		canonical := http.CanonicalHeaderKey(name)
		if slices.Contains(reservedHeaders, canonical) {
			return nil, sdk.AttributeErrorf("headers", "header %q is set by the plugin; use bearer_token or basic_auth_username for authorization", canonical)
		}
		if strings.ContainsAny(value, "\r\n\x00") || !utf8.ValidString(value) {
			return nil, sdk.AttributeErrorf("headers", "the value of header %q has a line break, a NUL or invalid UTF-8", canonical)
		}
		w.headers[canonical] = value
	}
	return w, nil
}

// validHeaderName says whether name is an HTTP token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if c >= 0x80 || c <= ' ' || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 || c == 0x7f {
			return false
		}
	}
	return true
}

// Notify implements sdk.Notifier: it POSTs the notification as JSON. An
// answer of 2xx is a delivery; 429, 5xx and failures to reach the URL are
// retryable; any other answer is permanent.
func (w *webhook) Notify(ctx context.Context, n *sdk.Notification) error {
	body, err := json.Marshal(w.message(n))
	if err != nil {
		return sdk.Permanent(fmt.Errorf("cannot encode the notification: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return sdk.Permanent(fmt.Errorf("cannot make the request: %w", err))
	}
	for name, value := range w.headers {
		req.Header.Set(name, value)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	switch {
	case w.bearerToken != "":
		req.Header.Set("Authorization", "Bearer "+w.bearerToken)
	case w.username != "":
		req.SetBasicAuth(w.username, w.password)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// The URL may hold a secret in its path, as many webhooks' do:
		// errors leave it out.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("cannot POST the notification: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
		_ = resp.Body.Close()
	}()
	return sdk.ResponseError("the webhook", resp)
}

// message returns the message to send for n, leaving n as it is: version
// "4", empty maps and lists rather than null, and at most max_alerts
// alerts. Truncated, it is what Alertmanager sends: the alerts left out
// are counted in truncatedAlerts, and the status and the common labels
// and annotations are those of the alerts kept.
func (w *webhook) message(n *sdk.Notification) *sdk.Notification {
	m := *n
	if m.Version == "" {
		m.Version = "4"
	}
	m.GroupLabels = nonNil(m.GroupLabels)
	m.CommonLabels = nonNil(m.CommonLabels)
	m.CommonAnnotations = nonNil(m.CommonAnnotations)
	alerts := n.Alerts
	if w.maxAlerts > 0 && uint64(len(alerts)) > w.maxAlerts {
		m.TruncatedAlerts += uint64(len(alerts)) - w.maxAlerts
		alerts = alerts[:w.maxAlerts]
		m.Status, m.CommonLabels, m.CommonAnnotations = summarize(alerts)
	}
	m.Alerts = make([]sdk.Alert, len(alerts))
	for i, a := range alerts {
		a.Labels = nonNil(a.Labels)
		a.Annotations = nonNil(a.Annotations)
		m.Alerts[i] = a
	}
	return &m
}

// summarize returns the status of alerts ("firing" if one is) and the
// labels and annotations they all share, as Alertmanager computes them.
func summarize(alerts []sdk.Alert) (status string, labels, annotations map[string]string) {
	status, labels, annotations = "resolved", map[string]string{}, map[string]string{}
	for i, a := range alerts {
		if a.Status == "firing" {
			status = "firing"
		}
		if i == 0 {
			maps.Copy(labels, a.Labels)
			maps.Copy(annotations, a.Annotations)
			continue
		}
		maps.DeleteFunc(labels, func(k, v string) bool { lv, ok := a.Labels[k]; return !ok || lv != v })
		maps.DeleteFunc(annotations, func(k, v string) bool { av, ok := a.Annotations[k]; return !ok || av != v })
	}
	return status, labels, annotations
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
