package pluginhost

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the plugin figures on /metrics: whether each instance is
// up, how often it was restarted and how long its calls take.
type Metrics struct {
	up       *prometheus.GaugeVec
	restarts *prometheus.CounterVec
	calls    *prometheus.HistogramVec
}

// NewMetrics returns the plugin metrics, not registered anywhere.
func NewMetrics() *Metrics {
	return &Metrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_plugin_up",
			Help: "Whether the plugin of an exporter, discovery or notifier block runs (1) or is down (0).",
		}, []string{"plugin", "instance", "kind"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_plugin_restarts_total",
			Help: "Restarts of a plugin that died or hung.",
		}, []string{"plugin", "instance", "kind"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vigil_plugin_call_duration_seconds",
			Help:    "How long calls of a plugin take, by call: collect, discover or notify.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"plugin", "instance", "call"}),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.up.Describe(ch)
	m.restarts.Describe(ch)
	m.calls.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.up.Collect(ch)
	m.restarts.Collect(ch)
	m.calls.Collect(ch)
}
