package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

const (
	// defaultURL is PagerDuty's Events API v2 endpoint.
	defaultURL = "https://events.pagerduty.com/v2/enqueue"
	// userAgent is sent with every event.
	userAgent = "Vigil"
	// maxSummary is PagerDuty's limit on a summary, in characters.
	maxSummary = 1024
	// maxDetailAlerts is the most alerts custom_details lists, to keep
	// an event well under PagerDuty's limit of 512 KB.
	maxDetailAlerts = 100
)

// severities are the severities PagerDuty knows.
var severities = []string{"critical", "error", "warning", "info"}

var pagerdutyPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "pagerduty",
		Version:      "0.1.0",
		Description:  "Sends notifications as PagerDuty Events API v2 events.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("routing_key", "The integration key of the PagerDuty service (Events API v2).", sdk.Required, sdk.Sensitive),
		sdk.String("url", "The Events API v2 endpoint.", sdk.Default(defaultURL)),
		sdk.String("severity", "The severity of the events: critical, error, warning or info.", sdk.Default("error")),
		sdk.String("source", "The events' source: where the problem is.", sdk.Default("vigil")),
		sdk.String("client", "The name of the monitoring client shown in PagerDuty.", sdk.Default("Vigil")),
		sdk.String("client_url", "The link shown with the client's name; the notification's external URL when unset."),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newPagerDuty(cfg) },
}

// pagerDuty sends notifications to one PagerDuty service.
type pagerDuty struct {
	routingKey string
	url        string
	severity   string
	source     string
	client     string
	clientURL  string
}

func newPagerDuty(cfg sdk.Config) (*pagerDuty, error) {
	p := &pagerDuty{
		routingKey: strings.TrimSpace(cfg.String("routing_key")),
		url:        strings.TrimSpace(cfg.String("url")),
		severity:   strings.TrimSpace(cfg.String("severity")),
		source:     strings.TrimSpace(cfg.String("source")),
		client:     strings.TrimSpace(cfg.String("client")),
		clientURL:  strings.TrimSpace(cfg.String("client_url")),
	}
	// The routing key is a secret: errors never quote it.
	if p.routingKey == "" || strings.ContainsAny(p.routingKey, " \t\r\n") {
		return nil, sdk.AttributeErrorf("routing_key", "must be an integration key, without spaces")
	}
	if !httpURL(p.url) {
		return nil, sdk.AttributeErrorf("url", "is not an http or https URL: %q", p.url)
	}
	if !slices.Contains(severities, p.severity) {
		return nil, sdk.AttributeErrorf("severity", "must be one of %s, not %q", strings.Join(severities, ", "), p.severity)
	}
	if p.source == "" {
		return nil, sdk.AttributeErrorf("source", "is empty")
	}
	if p.clientURL != "" && !httpURL(p.clientURL) {
		return nil, sdk.AttributeErrorf("client_url", "is not an http or https URL: %q", p.clientURL)
	}
	return p, nil
}

// httpURL says whether s is an absolute http or https URL.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// event is an event of the Events API v2.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"` // "trigger" or "resolve"
	DedupKey    string   `json:"dedup_key"`
	Payload     *payload `json:"payload,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// payload describes the problem of a triggered event.
type payload struct {
	Summary       string  `json:"summary"`
	Source        string  `json:"source"`
	Severity      string  `json:"severity"`
	Timestamp     string  `json:"timestamp,omitempty"`
	CustomDetails details `json:"custom_details"`
}

// details are the event's custom_details: the notification's alerts.
type details struct {
	Status            string            `json:"status"`
	NumFiring         int               `json:"num_firing"`
	NumResolved       int               `json:"num_resolved"`
	TruncatedAlerts   uint64            `json:"truncated_alerts,omitempty"`
	GroupLabels       map[string]string `json:"group_labels"`
	CommonLabels      map[string]string `json:"common_labels"`
	CommonAnnotations map[string]string `json:"common_annotations"`
	ExternalURL       string            `json:"external_url,omitempty"`
	Alerts            []alert           `json:"alerts"`
}

// alert is one alert of the details.
type alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"starts_at"`
	EndsAt       string            `json:"ends_at,omitempty"`
	GeneratorURL string            `json:"generator_url,omitempty"`
	Fingerprint  string            `json:"fingerprint,omitempty"`
}

// dedupKey is the event's key for the group of n: the SHA-256 of the
// group key, in hex, as Alertmanager computes it, so that the events of
// one group make one incident and its resolve closes it.
func dedupKey(n *sdk.Notification) string {
	sum := sha256.Sum256([]byte(n.GroupKey))
	return hex.EncodeToString(sum[:])
}

// event renders n as an event.
func (p *pagerDuty) event(n *sdk.Notification) *event {
	action := "trigger"
	if n.Status == "resolved" {
		action = "resolve"
	}
	clientURL := p.clientURL
	if clientURL == "" && httpURL(n.ExternalURL) {
		clientURL = n.ExternalURL
	}
	d := details{
		Status: n.Status, TruncatedAlerts: n.TruncatedAlerts, ExternalURL: n.ExternalURL,
		GroupLabels: nonNil(n.GroupLabels), CommonLabels: nonNil(n.CommonLabels), CommonAnnotations: nonNil(n.CommonAnnotations),
		Alerts: []alert{},
	}
	var earliest time.Time
	for _, a := range n.Alerts {
		if a.Status == "firing" {
			d.NumFiring++
			if !a.StartsAt.IsZero() && (earliest.IsZero() || a.StartsAt.Before(earliest)) {
				earliest = a.StartsAt
			}
		} else {
			d.NumResolved++
		}
		if len(d.Alerts) == maxDetailAlerts {
			d.TruncatedAlerts++
			continue
		}
		da := alert{
			Status: a.Status, Labels: nonNil(a.Labels), Annotations: nonNil(a.Annotations),
			StartsAt: a.StartsAt.UTC().Format(time.RFC3339), GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
		}
		if !a.EndsAt.IsZero() {
			da.EndsAt = a.EndsAt.UTC().Format(time.RFC3339)
		}
		d.Alerts = append(d.Alerts, da)
	}
	pl := &payload{Summary: summary(n, d.NumFiring), Source: p.source, Severity: p.severity, CustomDetails: d}
	if !earliest.IsZero() {
		pl.Timestamp = earliest.UTC().Format(time.RFC3339)
	}
	return &event{
		RoutingKey: p.routingKey, EventAction: action, DedupKey: dedupKey(n),
		Payload: pl, Client: p.client, ClientURL: clientURL,
	}
}

// summary reads "[FIRING:2] InstanceDown node: host:9100 is down": the
// status, the values of the group labels (or the alerts' names when the
// group has none) and the common summary annotation, cut to PagerDuty's
// limit.
func summary(n *sdk.Notification, firing int) string {
	var b strings.Builder
	b.WriteString("[" + strings.ToUpper(n.Status))
	if n.Status == "firing" {
		fmt.Fprintf(&b, ":%d", firing)
	}
	b.WriteString("]")
	var names []string
	if len(n.GroupLabels) > 0 {
		for _, k := range slices.Sorted(maps.Keys(n.GroupLabels)) {
			names = append(names, n.GroupLabels[k])
		}
	} else {
		for _, a := range n.Alerts {
			if name := a.Labels["alertname"]; name != "" && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if len(names) > 0 {
		b.WriteString(" " + strings.Join(names, " "))
	}
	if s := n.CommonAnnotations["summary"]; s != "" {
		b.WriteString(": " + s)
	}
	return truncate(strings.Join(strings.Fields(b.String()), " "), maxSummary)
}

// truncate cuts s to at most limit characters, ending it with "…" when
// cut.
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Notify implements sdk.Notifier: it sends the notification as one
// event. An answer of 2xx is a delivery; 429, 5xx and failures to reach
// PagerDuty are retryable; any other answer, and a host the plugin may
// not reach, are permanent.
func (p *pagerDuty) Notify(ctx context.Context, n *sdk.Notification) error {
	body, err := json.Marshal(p.event(n))
	if err != nil {
		return sdk.Permanent(fmt.Errorf("cannot encode the event: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return sdk.Permanent(fmt.Errorf("cannot make the request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := wasm.HTTPClient().Do(req)
	if err != nil {
		err = fmt.Errorf("cannot send the event to PagerDuty: %w", err)
		if errors.Is(err, wasm.ErrHostNotAllowed) {
			return sdk.Permanent(err)
		}
		return err
	}
	defer resp.Body.Close()
	return sdk.ResponseError("PagerDuty", resp)
}
