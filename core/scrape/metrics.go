package scrape

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scrape figures of the server's /metrics.
type metrics struct {
	targets  prometheus.Gauge
	scrapes  *prometheus.CounterVec
	samples  prometheus.Counter
	duration prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		targets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_scrape_targets", Help: "Targets being scraped.",
		}),
		scrapes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_scrapes_total", Help: "Scrapes done, by result (success or failure).",
		}, []string{"result"}),
		samples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_scrape_samples_total", Help: "Samples scraped and kept after metric relabeling.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigil_scrape_duration_seconds", Help: "Time of one scrape, fetch to commit.",
			Buckets: prometheus.DefBuckets, NativeHistogramBucketFactor: 1.1,
		}),
	}
}

// observe records one scrape. A nil *metrics records nothing.
func (m *metrics) observe(ok bool, d time.Duration, samples int) {
	if m == nil {
		return
	}
	result := "success"
	if !ok {
		result = "failure"
	}
	m.scrapes.WithLabelValues(result).Inc()
	m.samples.Add(float64(samples))
	m.duration.Observe(d.Seconds())
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.targets.Describe(ch)
	m.scrapes.Describe(ch)
	m.samples.Describe(ch)
	m.duration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.targets.Collect(ch)
	m.scrapes.Collect(ch)
	m.samples.Collect(ch)
	m.duration.Collect(ch)
}
