package scrape

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// Source is a target collected in the process rather than fetched over
// HTTP, such as Vigil's push store: its collection goes through the
// scrape path of every target (labels, limits, staleness, the report
// series), at the global scrape interval and timeout, as if Address
// served it on MetricsPath.
type Source struct {
	// Job is the target's job label.
	Job string
	// Address is its __address__, host:port, and so its instance label;
	// with MetricsPath it makes the URL the targets API shows.
	Address     string
	MetricsPath string
	// HonorLabels keeps the job and instance labels of the collected
	// series, as honor_labels does for a scrape of a Pushgateway.
	HonorLabels bool
	// Exporter is collected at each scrape.
	Exporter sdk.Exporter
}

// scrapeConfig is the job of s under cfg's global block.
func (s Source) scrapeConfig(cfg *hclconfig.Config) *hclconfig.Scrape {
	protocols := cfg.Global.ScrapeProtocols
	if len(protocols) == 0 {
		protocols = hclconfig.DefaultScrapeProtocols
	}
	return &hclconfig.Scrape{
		Name:                   s.Job,
		MetricsPath:            s.MetricsPath,
		Scheme:                 hclconfig.DefaultScheme,
		ScrapeInterval:         cfg.Global.ScrapeInterval,
		ScrapeTimeout:          min(cfg.Global.ScrapeTimeout, cfg.Global.ScrapeInterval),
		HonorLabels:            s.HonorLabels,
		ScrapeProtocols:        protocols,
		FallbackScrapeProtocol: hclconfig.DefaultFallbackScrapeProtocol,
	}
}

// sourceTarget is the target of s in a job of scrapeConfig.
func sourceTarget(s Source, sc *hclconfig.Scrape) (*Target, error) {
	return NewTarget(sc, labels.FromStrings("__address__", s.Address), labels.EmptyLabels())
}
