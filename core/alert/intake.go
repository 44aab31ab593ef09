package alert

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
)

// Intake is where the alerts of the rules enter: it gives them the
// external labels they lack, as Prometheus does before it sends alerts,
// and hands them to the dispatcher and to the external Alertmanagers.
// Alerts posted to the Alertmanager API go to the dispatcher directly,
// as they do in Alertmanager, without external labels.
type Intake struct {
	dispatcher *Dispatcher
	forwarder  *Forwarder
	external   atomic.Pointer[labels.Labels]
}

// NewIntake returns an intake feeding d and f; either may be nil.
func NewIntake(d *Dispatcher, f *Forwarder) *Intake {
	in := &Intake{dispatcher: d, forwarder: f}
	empty := labels.EmptyLabels()
	in.external.Store(&empty)
	return in
}

// ApplyConfig makes cfg's external labels the ones added.
func (in *Intake) ApplyConfig(_ context.Context, cfg *hclconfig.Config) error {
	external := labels.FromMap(cfg.Global.ExternalLabels)
	in.external.Store(&external)
	return nil
}

// Send takes alerts of the rules. It does not change them: those that
// lack an external label are copied.
func (in *Intake) Send(alerts []*Alert) {
	if external := *in.external.Load(); !external.IsEmpty() {
		out := make([]*Alert, len(alerts))
		for i, a := range alerts {
			out[i] = a
			b := labels.NewBuilder(a.Labels)
			changed := false
			external.Range(func(l labels.Label) {
				if !a.Labels.Has(l.Name) {
					b.Set(l.Name, l.Value)
					changed = true
				}
			})
			if changed {
				withLabels := *a
				withLabels.Labels = b.Labels()
				out[i] = &withLabels
			}
		}
		alerts = out
	}
	if in.dispatcher != nil {
		// The dispatcher logs and counts the alerts it refuses.
		_ = in.dispatcher.Receive(alerts)
	}
	if in.forwarder != nil {
		in.forwarder.Send(alerts)
	}
}
