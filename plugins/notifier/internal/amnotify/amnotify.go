// Package amnotify is what the notifier plugins that send Alertmanager's
// payloads share: Alertmanager's own template package, with its default
// templates (default.tmpl, such as "opsgenie.default.message"), run over
// a Vigil notification, and the delivery of a request.
//
// Start with New, which loads the templates; Templates.Check refuses a
// config's template that does not parse, and Templates.Render renders a
// notification's templates as Alertmanager's notifiers do. Do sends a
// request and judges the answer.
package amnotify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

// Templates are Alertmanager's notification templates: those of its
// default.tmpl.
type Templates struct {
	t *template.Template
}

// New loads Alertmanager's default templates.
func New() (*Templates, error) {
	t, err := template.FromGlobs(nil)
	if err != nil {
		return nil, fmt.Errorf("cannot load Alertmanager's default templates: %w", err)
	}
	return &Templates{t: t}, nil
}

// Check renders each text over a typical notification, and returns an
// sdk.AttributeError for attribute when one does not parse or fails: a
// template that fails there would fail on every notification.
func (t *Templates) Check(attribute string, texts ...string) error {
	data := Data(Sample())
	for _, text := range texts {
		if _, err := t.t.ExecuteTextString(text, data); err != nil {
			return sdk.AttributeErrorf(attribute, "is not a valid template: %v", err)
		}
	}
	return nil
}

// Render renders the templates of one notification.
func (t *Templates) Render(n *sdk.Notification) *Render {
	return &Render{t: t.t, data: Data(n)}
}

// Render renders templates over one notification's data. As in
// Alertmanager's notifiers, the first error stops further rendering and
// is kept for Err.
type Render struct {
	t    *template.Template
	data *template.Data
	err  error
}

// Data is the template data the texts are rendered over.
func (r *Render) Data() *template.Data { return r.data }

// Text renders text as a text/template; "" after an error.
func (r *Render) Text(text string) string {
	if r.err != nil {
		return ""
	}
	s, err := r.t.ExecuteTextString(text, r.data)
	if err != nil {
		r.err = err
	}
	return s
}

// HTML renders text as an html/template; "" after an error.
func (r *Render) HTML(text string) string {
	if r.err != nil {
		return ""
	}
	s, err := r.t.ExecuteHTMLString(text, r.data)
	if err != nil {
		r.err = err
	}
	return s
}

// Err is the first error of rendering, or nil.
func (r *Render) Err() error {
	if r.err != nil {
		return fmt.Errorf("cannot render a template: %w", r.err)
	}
	return nil
}

// Data is Alertmanager's template data for n, what its notifiers render
// their templates over.
func Data(n *sdk.Notification) *template.Data {
	d := &template.Data{
		Receiver:          n.Receiver,
		Status:            n.Status,
		Alerts:            make(template.Alerts, 0, len(n.Alerts)),
		GroupLabels:       kv(n.GroupLabels),
		CommonLabels:      kv(n.CommonLabels),
		CommonAnnotations: kv(n.CommonAnnotations),
		RouteLabels:       template.KV{},
		ExternalURL:       n.ExternalURL,
	}
	for _, a := range n.Alerts {
		d.Alerts = append(d.Alerts, template.Alert{
			Status: a.Status, Labels: kv(a.Labels), Annotations: kv(a.Annotations),
			StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
		})
	}
	return d
}

// kv copies m, which may be nil, to a template.KV.
func kv(m map[string]string) template.KV {
	out := make(template.KV, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Sample is a typical notification, to try templates on.
func Sample() *sdk.Notification {
	labels := map[string]string{"alertname": "InstanceDown", "instance": "host:9100", "job": "node", "severity": "critical"}
	annotations := map[string]string{"summary": "host:9100 is down", "description": "It has not answered for 5 minutes."}
	return &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="InstanceDown"}`, Status: "firing", Receiver: "ops",
		GroupLabels: map[string]string{"alertname": "InstanceDown"}, CommonLabels: labels, CommonAnnotations: annotations,
		ExternalURL: "http://vigil.example.com:9090",
		Alerts: []sdk.Alert{{
			Status: "firing", Labels: labels, Annotations: annotations, StartsAt: time.Unix(0, 0).UTC(),
			GeneratorURL: "http://vigil.example.com:9090/graph", Fingerprint: "0123456789abcdef",
		}},
	}
}

// Hash is what Alertmanager makes of a group key where a service needs
// an id for the group (Opsgenie's alias, an incident key): the SHA-256
// of the key, in hex.
func Hash(groupKey string) string {
	h := sha256.Sum256([]byte(groupKey))
	return hex.EncodeToString(h[:])
}

// truncationMarker ends a text that was cut.
const truncationMarker = "…"

// TruncateInRunes cuts s to at most n characters, the last one "…" when
// cut, as Alertmanager does, and says whether it was cut.
func TruncateInRunes(s string, n int) (string, bool) {
	r := []rune(s)
	if len(r) <= n {
		return s, false
	}
	if n <= 3 {
		return string(r[:n]), true
	}
	return string(r[:n-1]) + truncationMarker, true
}

// TruncateInBytes cuts s to at most n bytes, ending with "…" when cut,
// on a character boundary, as Alertmanager does, and says whether it was
// cut.
func TruncateInBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	if n <= len(truncationMarker) {
		if n == len(truncationMarker) {
			return truncationMarker, true
		}
		return strings.Repeat(".", n), true
	}
	cut := n - len(truncationMarker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncationMarker, true
}

// Do sends req with wasm.HTTPClient and judges the answer for service as
// sdk.ResponseError does: 2xx is a delivery, 429 and 5xx retryable
// errors, anything else permanent. Failing to reach the service is
// retryable; a host the plugin may not reach (allow_hosts) is permanent.
// Errors leave the URL out: it may hold a secret.
func Do(service string, req *http.Request) error {
	resp, err := wasm.HTTPClient().Do(req)
	if err != nil {
		return reachError(service, err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}()
	return sdk.ResponseError(service, resp)
}

// UserAgent is the User-Agent of every request.
const UserAgent = "Vigil"

// PostJSON posts v to url, encoded as Alertmanager encodes its payloads
// (encoding/json's Encoder, with a final newline), with Content-Type
// application/json and the headers of header, and judges the answer as
// Do does.
func PostJSON(ctx context.Context, service, url string, v any, header http.Header) error {
	var body bytes.Buffer
	if err := json.NewEncoder(&body).Encode(v); err != nil {
		return sdk.Permanent(fmt.Errorf("cannot encode the message to %s: %w", service, err))
	}
	return Send(ctx, service, http.MethodPost, url, "application/json", &body, header)
}

// Send sends a request with body of contentType and the headers of
// header, and judges the answer as Do does.
func Send(ctx context.Context, service, method, url, contentType string, body io.Reader, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		// The URL may hold a secret: the error leaves it out.
		return sdk.Permanent(fmt.Errorf("cannot make the request to %s", service))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", UserAgent)
	return Do(service, req)
}

// CheckURL returns an sdk.AttributeError for attribute unless s is an
// absolute http or https URL. The error quotes s unless it is secret.
func CheckURL(attribute, s string, secret bool) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if secret {
			return nil, sdk.AttributeErrorf(attribute, "is not an http or https URL")
		}
		return nil, sdk.AttributeErrorf(attribute, "is not an http or https URL: %q", s)
	}
	return u, nil
}

// maxAnswer is the most of an answer Call reads.
const maxAnswer = 1 << 20

// Call sends v, encoded as JSON as PostJSON encodes it (no body when v is
// nil), with method to url and the headers of header, judges the answer
// as Do does, and returns the body of a successful answer.
func Call(ctx context.Context, service, method, url string, v any, header http.Header) ([]byte, error) {
	var body io.Reader
	if v != nil {
		var b bytes.Buffer
		if err := json.NewEncoder(&b).Encode(v); err != nil {
			return nil, sdk.Permanent(fmt.Errorf("cannot encode the request to %s: %w", service, err))
		}
		body = &b
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("cannot make the request to %s", service))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := wasm.HTTPClient().Do(req)
	if err != nil {
		return nil, reachError(service, err)
	}
	defer resp.Body.Close()
	if err := sdk.ResponseError(service, resp); err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("cannot read the answer of %s: %w", service, err)
	}
	return answer, nil
}

// reachError is the error of a request that got no answer: retryable,
// but permanent for a host the plugin may not reach; without the URL,
// which may hold a secret.
func reachError(service string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	err = fmt.Errorf("cannot send to %s: %w", service, err)
	if errors.Is(err, wasm.ErrHostNotAllowed) {
		return sdk.Permanent(err)
	}
	return err
}
