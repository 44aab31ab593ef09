package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/prometheus/alertmanager/template"

	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify"
	"github.com/vigilmon/vigil/sdk"
)

// maxPayload is incident.io's limit on a payload, in bytes: over it, the
// plugin sends the first alert only, as Alertmanager does.
const maxPayload = 512 * 1024

var incidentioPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "incidentio",
		Version:      "0.1.0",
		Description:  "Posts notifications to an incident.io HTTP alert source, as Alertmanager's incident.io receiver does.",
		Capabilities: []string{sdk.CapabilityDeliversToURL},
	},
	Schema: sdk.Schema{
		sdk.String("url", "The alert source's URL, https://api.incident.io/v2/alert_events/http/ID.", sdk.Required),
		sdk.String("alert_source_token", "The alert source's token, sent as a bearer token.", sdk.Required, sdk.Sensitive),
		sdk.Number("max_alerts", "The most alerts one message lists; 0 for all.", sdk.Default(0)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newIncidentio(cfg) },
}

// message is Alertmanager's template data with the protocol's fields.
type message struct {
	*template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// incidentio posts to one alert source.
type incidentio struct {
	url, token string
	maxAlerts  uint64
}

func newIncidentio(cfg sdk.Config) (*incidentio, error) {
	u, err := amnotify.CheckURL("url", strings.TrimSpace(cfg.String("url")), false)
	if err != nil {
		return nil, err
	}
	i := &incidentio{url: u.String(), token: strings.TrimSpace(cfg.String("alert_source_token"))}
	// The token is a secret: errors never quote it.
	if i.token == "" || strings.ContainsAny(i.token, " \t\r\n") {
		return nil, sdk.AttributeErrorf("alert_source_token", "must be a token, without spaces")
	}
	m := cfg.Number("max_alerts")
	if m < 0 || m != math.Trunc(m) {
		return nil, sdk.AttributeErrorf("max_alerts", "must be a whole number, 0 or more, not %v", m)
	}
	i.maxAlerts = uint64(m)
	return i, nil
}

// body renders n as the message, as Alertmanager encodes it: at most
// max_alerts alerts, and only the first when the message is over
// incident.io's limit. Vigil's notifications do not say why they are
// sent: notification_reason is "unknown", as Alertmanager says when it
// does not know.
func (i *incidentio) body(n *sdk.Notification) ([]byte, error) {
	data := amnotify.Data(n)
	data.NotificationReason = "unknown"
	truncated := n.TruncatedAlerts
	if i.maxAlerts != 0 && uint64(len(data.Alerts)) > i.maxAlerts {
		truncated += uint64(len(data.Alerts)) - i.maxAlerts
		data.Alerts = data.Alerts[:i.maxAlerts]
	}
	m := &message{Data: data, Version: "1", GroupKey: n.GroupKey, TruncatedAlerts: truncated}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(m); err != nil {
		return nil, fmt.Errorf("cannot encode the message: %w", err)
	}
	if b.Len() > maxPayload && len(data.Alerts) > 1 {
		data.Alerts = data.Alerts[:1]
		b.Reset()
		if err := json.NewEncoder(&b).Encode(m); err != nil {
			return nil, fmt.Errorf("cannot encode the message: %w", err)
		}
	}
	return b.Bytes(), nil
}

// Notify implements sdk.Notifier: it posts the message. An answer of 2xx
// is a delivery; 429, 5xx and failures to reach incident.io are
// retryable; any other answer, and a host the plugin may not reach, are
// permanent.
func (i *incidentio) Notify(ctx context.Context, n *sdk.Notification) error {
	body, err := i.body(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	return amnotify.Send(ctx, "incident.io", http.MethodPost, i.url, "application/json", bytes.NewReader(body), http.Header{"Authorization": {"Bearer " + i.token}})
}
