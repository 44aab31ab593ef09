package alert

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// TestIntakeAddsExternalLabels sends alerts of the rules through an
// intake: they reach the dispatcher with the external labels they lack,
// their own values win, and the alerts sent are not changed.
func TestIntakeAddsExternalLabels(t *testing.T) {
	d := newTestDispatcher(t, openStoreForTest(t, t.TempDir()), &fakeNotifier{}, `
route {
  receiver   = "a"
  group_wait = "1h"
}`)
	in := NewIntake(d, nil)
	cfg := routeConfig(t, `
global {
  external_labels = { cluster = "eu", region = "west" }
}`)
	if err := in.ApplyConfig(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	own, bare := firing("alertname", "Own", "cluster", "mine"), firing("alertname", "Bare")
	in.Send([]*Alert{own, bare})
	got := map[string]string{}
	for _, s := range d.Alerts(own.StartsAt) {
		got[s.Labels.Get("alertname")] = s.Labels.String()
	}
	want := map[string]string{
		"Own":  labels.FromStrings("alertname", "Own", "cluster", "mine", "region", "west").String(),
		"Bare": labels.FromStrings("alertname", "Bare", "cluster", "eu", "region", "west").String(),
	}
	if len(got) != 2 || got["Own"] != want["Own"] || got["Bare"] != want["Bare"] {
		t.Errorf("dispatcher holds %v, want %v", got, want)
	}
	if bare.Labels.Has("cluster") || own.Labels.Get("cluster") != "mine" {
		t.Errorf("the alerts sent were changed: %s, %s", own.Labels, bare.Labels)
	}
}
