package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// reloadMetrics say how the last reload went, under the names Prometheus
// gives them, so that a broken reload can be alerted on.
type reloadMetrics struct {
	successful prometheus.Gauge
	lastGood   prometheus.Gauge
}

func newReloadMetrics(reg prometheus.Registerer) *reloadMetrics {
	m := &reloadMetrics{
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		lastGood: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	reg.MustRegister(m.successful, m.lastGood)
	m.record(true) // the configuration the server started with
	return m
}

// record notes a reload attempt.
func (m *reloadMetrics) record(ok bool) {
	if !ok {
		m.successful.Set(0)
		return
	}
	m.successful.Set(1)
	m.lastGood.Set(float64(time.Now().Unix()))
}
