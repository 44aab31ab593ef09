package scrape

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// acceptHeader is the Accept header that asks for protocols, most wanted
// first, the way Prometheus weighs them. The newer text formats are told
// that UTF-8 metric and label names need no escaping.
func acceptHeader(protocols []string) string {
	if len(protocols) == 0 {
		protocols = hclconfig.DefaultScrapeProtocols
	}
	var parts []string
	weight := len(config.ScrapeProtocolsHeaders) + 1
	for _, p := range protocols {
		v := config.ScrapeProtocolsHeaders[config.ScrapeProtocol(p)]
		if v == "" {
			continue
		}
		switch config.ScrapeProtocol(p) {
		case config.PrometheusText1_0_0, config.OpenMetricsText1_0_0, config.OpenMetricsText2_0_0:
			v += ";" + model.EscapingKey + "=" + model.AllowUTF8
		}
		parts = append(parts, fmt.Sprintf("%s;q=0.%d", v, weight))
		weight--
	}
	parts = append(parts, fmt.Sprintf("*/*;q=0.%d", weight))
	return strings.Join(parts, ",")
}

// fallbackContentType is the media type a body with a missing or unknown
// Content-Type is parsed as.
func fallbackContentType(protocol string) string {
	if mt := config.ScrapeProtocol(protocol).HeaderMediaType(); mt != "" {
		return mt
	}
	return "text/plain"
}

// errSampleLimit and the other limit errors fail a whole scrape.
var (
	errSampleLimit = errors.New("sample limit exceeded")
	errBodySize    = errors.New("body size limit exceeded")
	errLabelLimit  = errors.New("label limit exceeded")
)

// scraper scrapes one target and appends what it finds, one commit per
// scrape. It remembers the series of the previous scrape, so that a series
// that disappears gets a stale marker.
type scraper struct {
	target *Target
	cfg    *hclconfig.Scrape
	client *http.Client
	store  storage.AppendableV2
	accept string // the Accept header, from cfg.ScrapeProtocols
	// exporter, when set, is collected instead of fetching the target.
	exporter sdk.Exporter

	// previous maps the hash of each series appended by the last scrape to
	// its labels.
	previous map[uint64]labels.Labels

	metrics *metrics // nil in tests that build a scraper alone

	mu       sync.Mutex
	health   Health
	metadata map[string]Metadata // by metric family name, from the last good scrape
}

// Metadata is what a target says of one metric family: its type, help and unit.
type Metadata struct {
	Type string
	Help string
	Unit string
}

// Health is the state of a target after its last scrape, as the targets
// API shows it.
type Health struct {
	Up             bool
	LastError      string
	LastScrape     time.Time
	LastDuration   time.Duration
	SamplesScraped int
}

func newScraper(t *Target, cfg *hclconfig.Scrape, client *http.Client, store storage.AppendableV2) *scraper {
	return &scraper{
		target: t, cfg: cfg, client: client, store: store,
		accept:   acceptHeader(cfg.ScrapeProtocols),
		previous: map[uint64]labels.Labels{},
	}
}

// Metadata returns the metric metadata of the last good scrape.
func (s *scraper) Metadata() map[string]Metadata {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metadata
}

// Health returns the state after the last scrape.
func (s *scraper) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health
}

// scrapeOnce scrapes the target at ts and commits its samples, the stale
// markers of series that went away and the report series (up and the
// others). A failed scrape stores nothing of the target's but up=0, the
// report series and stale markers for every series of the last scrape.
func (s *scraper) scrapeOnce(ctx context.Context, ts time.Time) error {
	start := time.Now()
	fetch := s.fetch
	if s.exporter != nil {
		fetch = s.collect
	}
	body, contentType, scrapeErr := fetch(ctx)
	if ctx.Err() != nil {
		// The loop is ending: a cancelled scrape says nothing of the target.
		return ctx.Err()
	}
	app := s.store.AppenderV2(ctx)
	var st appendStats
	if scrapeErr == nil {
		st, scrapeErr = s.appendScrape(app, body, contentType, ts)
		if scrapeErr != nil {
			if err := app.Rollback(); err != nil {
				return fmt.Errorf("cannot roll back the failed scrape of %s: %w", s.target.URL, err)
			}
			app = s.store.AppenderV2(ctx)
		}
	}
	if scrapeErr != nil {
		// Everything of the last scrape is gone: mark it stale.
		s.appendStale(app, map[uint64]struct{}{}, ts)
		s.previous = map[uint64]labels.Labels{}
		st = appendStats{}
	}
	duration := time.Since(start)
	s.appendReport(app, ts, duration, st, scrapeErr == nil)
	if err := app.Commit(); err != nil {
		return fmt.Errorf("cannot commit the scrape of %s: %w", s.target.URL, err)
	}
	s.metrics.observe(scrapeErr == nil, duration, st.postRelabel)
	s.mu.Lock()
	s.health = Health{Up: scrapeErr == nil, LastScrape: ts, LastDuration: duration, SamplesScraped: st.scraped}
	if scrapeErr != nil {
		s.health.LastError = scrapeErr.Error()
	}
	s.mu.Unlock()
	return nil
}

// fetch gets the target's exposition within its timeout and body limit.
func (s *scraper) fetch(ctx context.Context) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.target.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.target.URL.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("cannot build the request: %w", err)
	}
	req.Header.Set("Accept", s.accept)
	req.Header.Set("User-Agent", "Vigil")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprintf("%g", s.target.Timeout.Seconds()))
	switch {
	case s.cfg.BasicAuth != nil:
		req.SetBasicAuth(s.cfg.BasicAuth.Username, s.cfg.BasicAuth.Password.Value())
	case s.cfg.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+s.cfg.BearerToken.Value())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	limit := s.cfg.BodySizeLimit
	if limit <= 0 {
		limit = math.MaxInt64 - 1
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("cannot read the body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, "", fmt.Errorf("%w: more than %d bytes", errBodySize, limit)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

type appendStats struct {
	scraped, postRelabel, added int
}

// appendScrape parses body and appends its samples. Samples that are out
// of order or duplicates are skipped, as Prometheus skips them; a parse
// error or a limit fails the scrape.
func (s *scraper) appendScrape(app storage.AppenderV2, body []byte, contentType string, ts time.Time) (appendStats, error) {
	var st appendStats
	p, err := textparse.New(body, contentType, nil, textparse.ParserOptions{FallbackContentType: fallbackContentType(s.cfg.FallbackScrapeProtocol)})
	if p == nil {
		return st, fmt.Errorf("cannot parse content type %q: %w", contentType, err)
	}
	defaultTs := ts.UnixMilli()
	seen := make(map[uint64]struct{}, len(s.previous))
	current := make(map[uint64]labels.Labels, len(s.previous))
	var lset labels.Labels
	meta := map[string]Metadata{}
	targetLabels := s.target.SeriesLabels()
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, fmt.Errorf("cannot parse the exposition: %w", err)
		}
		var (
			tsPtr *int64
			v     float64
			h     = (*histogramPair)(nil)
		)
		switch entry {
		case textparse.EntryType:
			name, typ := p.Type()
			m := meta[string(name)]
			m.Type = string(typ)
			meta[string(name)] = m
			continue
		case textparse.EntryHelp:
			name, help := p.Help()
			m := meta[string(name)]
			m.Help = string(help)
			meta[string(name)] = m
			continue
		case textparse.EntryUnit:
			name, unit := p.Unit()
			m := meta[string(name)]
			m.Unit = string(unit)
			meta[string(name)] = m
			continue
		case textparse.EntrySeries:
			_, tsPtr, v = p.Series()
		case textparse.EntryHistogram:
			var pair histogramPair
			_, tsPtr, pair.h, pair.fh = p.Histogram()
			h = &pair
		default:
			continue
		}
		st.scraped++
		p.Labels(&lset)
		lset = sampleLabels(lset, targetLabels, s.cfg.HonorLabels)
		if len(s.cfg.MetricRelabel) > 0 {
			b := labels.NewBuilder(lset)
			if !relabel.ProcessBuilder(b, s.cfg.MetricRelabel...) {
				continue
			}
			lset = b.Labels()
		}
		if err := s.checkLabelLimits(lset); err != nil {
			return st, err
		}
		st.postRelabel++
		if s.cfg.SampleLimit > 0 && st.postRelabel > s.cfg.SampleLimit {
			return st, fmt.Errorf("%w: more than %d samples", errSampleLimit, s.cfg.SampleLimit)
		}
		t := defaultTs
		if s.cfg.HonorTimestamps && tsPtr != nil {
			t = *tsPtr
		}
		var err2 error
		if h != nil {
			_, err2 = app.Append(0, lset, 0, t, 0, h.h, h.fh, storage.AppendV2Options{})
		} else {
			_, err2 = app.Append(0, lset, 0, t, v, nil, nil, storage.AppendV2Options{})
		}
		if err2 != nil && !errors.Is(err2, storage.ErrOutOfOrderSample) && !errors.Is(err2, storage.ErrDuplicateSampleForTimestamp) && !errors.Is(err2, storage.ErrTooOldSample) {
			return st, fmt.Errorf("cannot append %s: %w", lset, err2)
		}
		hash := lset.Hash()
		if _, ok := s.previous[hash]; !ok {
			if _, dup := current[hash]; !dup {
				st.added++
			}
		}
		seen[hash] = struct{}{}
		current[hash] = lset.Copy()
	}
	s.appendStale(app, seen, ts)
	s.previous = current
	s.mu.Lock()
	s.metadata = meta
	s.mu.Unlock()
	return st, nil
}

type histogramPair struct {
	h  *histogram.Histogram
	fh *histogram.FloatHistogram
}

// appendStale appends a stale marker at ts for every series of the last
// scrape that is not in seen.
func (s *scraper) appendStale(app storage.AppenderV2, seen map[uint64]struct{}, ts time.Time) {
	for hash, lset := range s.previous {
		if _, ok := seen[hash]; ok {
			continue
		}
		// A series that is newer than ts, or already stale, refuses the
		// marker; there is nothing to do about it.
		_, _ = app.Append(0, lset, 0, ts.UnixMilli(), math.Float64frombits(value.StaleNaN), nil, nil, storage.AppendV2Options{})
	}
}

// appendReport appends up and the other series Prometheus writes about
// each scrape, with the target's labels.
func (s *scraper) appendReport(app storage.AppenderV2, ts time.Time, d time.Duration, st appendStats, up bool) {
	upValue := 0.0
	if up {
		upValue = 1
	}
	target := s.target.SeriesLabels()
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"up", upValue},
		{"scrape_duration_seconds", d.Seconds()},
		{"scrape_samples_scraped", float64(st.scraped)},
		{"scrape_samples_post_metric_relabeling", float64(st.postRelabel)},
		{"scrape_series_added", float64(st.added)},
	} {
		b := labels.NewBuilder(target)
		b.Set(model.MetricNameLabel, r.name)
		_, _ = app.Append(0, b.Labels(), 0, ts.UnixMilli(), r.v, nil, nil, storage.AppendV2Options{})
	}
}

// checkLabelLimits applies label_limit and the length limits.
func (s *scraper) checkLabelLimits(lset labels.Labels) error {
	if s.cfg.LabelLimit > 0 && lset.Len() > s.cfg.LabelLimit {
		return fmt.Errorf("%w: series %s has %d labels, limit %d", errLabelLimit, lset, lset.Len(), s.cfg.LabelLimit)
	}
	var err error
	lset.Range(func(l labels.Label) {
		switch {
		case err != nil:
		case s.cfg.LabelNameLengthLimit > 0 && len(l.Name) > s.cfg.LabelNameLengthLimit:
			err = fmt.Errorf("%w: label name %q of series %s is longer than %d", errLabelLimit, l.Name, lset, s.cfg.LabelNameLengthLimit)
		case s.cfg.LabelValueLengthLimit > 0 && len(l.Value) > s.cfg.LabelValueLengthLimit:
			err = fmt.Errorf("%w: value of label %q of series %s is longer than %d", errLabelLimit, l.Name, lset, s.cfg.LabelValueLengthLimit)
		}
	})
	return err
}

// sampleLabels adds the target's labels to a sample's, as Prometheus does:
// with honor_labels the sample's own win; otherwise the target's win and a
// clashing label of the sample is kept as exported_<name>.
func sampleLabels(sample, target labels.Labels, honor bool) labels.Labels {
	b := labels.NewBuilder(sample)
	if honor {
		target.Range(func(l labels.Label) {
			if sample.Get(l.Name) == "" {
				b.Set(l.Name, l.Value)
			}
		})
	} else {
		target.Range(func(l labels.Label) {
			if v := sample.Get(l.Name); v != "" {
				name := model.ExportedLabelPrefix + l.Name
				for sample.Get(name) != "" {
					name = model.ExportedLabelPrefix + name
				}
				b.Set(name, v)
			}
			b.Set(l.Name, l.Value)
		})
	}
	// Labels with empty values are absent.
	b.Range(func(l labels.Label) {
		if l.Value == "" {
			b.Del(l.Name)
		}
	})
	return b.Labels()
}

// newClient builds the HTTP client of a scrape block, with its TLS settings.
func newClient(cfg *hclconfig.Scrape) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		tc := &tls.Config{ServerName: cfg.TLS.ServerName, InsecureSkipVerify: cfg.TLS.InsecureSkipVerify}
		if cfg.TLS.CAFile != "" {
			pem, err := os.ReadFile(cfg.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("scrape %q: cannot read ca_file: %w", cfg.Name, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("scrape %q: ca_file %q holds no PEM certificate", cfg.Name, cfg.TLS.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("scrape %q: cannot load the client certificate: %w", cfg.Name, err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		transport.TLSClientConfig = tc
	}
	// Redirects are followed as Prometheus does; compression is negotiated
	// by the transport.
	return &http.Client{Transport: transport}, nil
}
