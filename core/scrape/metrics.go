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
	// exemplarsOOO counts exemplars the store refused as out of order.
	exemplarsOOO prometheus.Counter
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
		exemplarsOOO: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_scrape_exemplars_out_of_order_total",
			Help: "Exemplars the store refused as out of order, counted when all the exemplars of a sample were, as Prometheus's prometheus_target_scrapes_exemplar_out_of_order_total.",
		}),
	}
}

// exemplarsOutOfOrder counts n exemplars refused as out of order. A nil
// *metrics counts nothing.
func (m *metrics) exemplarsOutOfOrder(n int) {
	if m != nil {
		m.exemplarsOOO.Add(float64(n))
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
	m.exemplarsOOO.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.targets.Collect(ch)
	m.scrapes.Collect(ch)
	m.samples.Collect(ch)
	m.duration.Collect(ch)
	m.exemplarsOOO.Collect(ch)
}
