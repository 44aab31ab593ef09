package sdk

import (
	"errors"
	"fmt"
	"time"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// Notification is a group of alerts to deliver. Marshalled as JSON it is
// Alertmanager's webhook message, version 4, field for field.
type Notification struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Status            string            `json:"status"` // "firing" or "resolved"
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status       string            `json:"status"` // "firing" or "resolved"
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // zero while firing
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// NotificationFromProto converts the protocol's message.
func NotificationFromProto(m *pb.Notification) (*Notification, error) {
	if m == nil {
		return nil, errors.New("notify request has no notification")
	}
	n := &Notification{
		Version: m.Version, GroupKey: m.GroupKey, TruncatedAlerts: m.TruncatedAlerts, Status: m.Status,
		Receiver: m.Receiver, GroupLabels: nonNilMap(m.GroupLabels), CommonLabels: nonNilMap(m.CommonLabels),
		CommonAnnotations: nonNilMap(m.CommonAnnotations), ExternalURL: m.ExternalUrl, Alerts: []Alert{},
	}
	for i, a := range m.Alerts {
		starts, err := parseTime(a.StartsAt)
		if err != nil {
			return nil, fmt.Errorf("alert %d: startsAt: %w", i, err)
		}
		ends, err := parseTime(a.EndsAt)
		if err != nil {
			return nil, fmt.Errorf("alert %d: endsAt: %w", i, err)
		}
		n.Alerts = append(n.Alerts, Alert{
			Status: a.Status, Labels: nonNilMap(a.Labels), Annotations: nonNilMap(a.Annotations),
			StartsAt: starts, EndsAt: ends, GeneratorURL: a.GeneratorUrl, Fingerprint: a.Fingerprint,
		})
	}
	return n, nil
}

// Proto converts the notification to the protocol's message.
func (n *Notification) Proto() *pb.Notification {
	m := &pb.Notification{
		Version: n.Version, GroupKey: n.GroupKey, TruncatedAlerts: n.TruncatedAlerts, Status: n.Status,
		Receiver: n.Receiver, GroupLabels: n.GroupLabels, CommonLabels: n.CommonLabels,
		CommonAnnotations: n.CommonAnnotations, ExternalUrl: n.ExternalURL,
	}
	for _, a := range n.Alerts {
		m.Alerts = append(m.Alerts, &pb.Alert{
			Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt.UTC().Format(time.RFC3339Nano), EndsAt: a.EndsAt.UTC().Format(time.RFC3339Nano),
			GeneratorUrl: a.GeneratorURL, Fingerprint: a.Fingerprint,
		})
	}
	return m
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
