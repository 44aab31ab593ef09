package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/exemplar"
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
// scrape. Its series cache remembers what each exposed series became and
// the series of the last scrape, so that a series that disappears gets a
// stale marker.
type scraper struct {
	target *Target
	cfg    *hclconfig.Scrape
	client *http.Client
	store  storage.AppendableV2
	accept string // the Accept header, from cfg.ScrapeProtocols
	// exporter, when set, is collected instead of fetching the target.
	exporter sdk.Exporter

	// targetLabels are the labels the target adds to its samples.
	targetLabels labels.Labels
	// report holds the series of appendReport, in its order.
	report [len(reportNames)]reportSeries

	// The fields below belong to the goroutine of the target's loop.
	cache        *seriesCache
	meta         *metadataCache
	lastBodySize int    // of the last exposition, to size the next one's buffer
	key          []byte // the cache key of the current series
	// exemplars holds the exemplars of the current sample; the store
	// copies them at Append.
	exemplars []exemplar.Exemplar
	// exemplar receives each exemplar from the parser: a field, so that
	// asking the parser for the exemplars of a sample allocates nothing.
	exemplar exemplar.Exemplar
	// gzip decompresses gzip bodies; nil until the first one.
	gzip *gzip.Reader

	metrics *metrics // nil in tests that build a scraper alone

	mu     sync.Mutex
	health Health
}

// reportNames are the names of the series appended for every scrape.
var reportNames = [...]string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}

// reportSeries is a series of appendReport and its reference in the store.
type reportSeries struct {
	lset labels.Labels
	ref  storage.SeriesRef
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
	s := &scraper{
		target: t, cfg: cfg, client: client, store: store,
		accept:       acceptHeader(cfg.ScrapeProtocols),
		targetLabels: t.SeriesLabels(),
		cache:        newSeriesCache(),
		meta:         newMetadataCache(),
	}
	for i, name := range reportNames {
		b := labels.NewBuilder(s.targetLabels)
		b.Set(model.MetricNameLabel, name)
		s.report[i].lset = b.Labels()
	}
	return s
}

// Metadata returns the metric metadata of the last good scrape. The
// caller must not change the map.
func (s *scraper) Metadata() map[string]Metadata { return s.meta.get() }

// Health returns the state after the last scrape.
func (s *scraper) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health
}

// scrapeOnce scrapes the target at ts and commits its samples, the stale
// markers of series that went away and the report series (up and the
// others). A failed scrape stores nothing of the target's but up=0, the
// report series and stale markers for every series of the last good
// scrape. A collection of an exporter plugin that reports its target
// down (an sdk.TargetError) is the exception: its samples are stored as
// a good scrape's, with up=0, and the scrape counts as failed, with the
// target's error as the health's. A scrape the store refuses to commit fails like any other: the
// failure goes in a commit of its own, and the health says why. The error
// returned, for the loop to log, says what the store refused.
func (s *scraper) scrapeOnce(ctx context.Context, ts time.Time) error {
	start := time.Now()
	s.cache.begin()
	defer s.cache.end()
	s.meta.begin(s.cache.iter)
	fetch := s.fetch
	if s.exporter != nil {
		fetch = s.collect
	}
	body, contentType, scrapeErr := fetch(ctx)
	// An exporter that reports its target down still gave a collection:
	// it is stored like a good one (so that the exporter's own up metric
	// is there), and the target is reported down with the error.
	var targetErr error
	if body != nil && sdk.AsTargetError(scrapeErr) != nil {
		targetErr, scrapeErr = scrapeErr, nil
	}
	if ctx.Err() != nil {
		// The loop is ending: a cancelled scrape says nothing of the target.
		if body != nil {
			putBodyBuffer(body)
		}
		return ctx.Err()
	}
	app := s.store.AppenderV2(ctx)
	var st appendStats
	if scrapeErr == nil {
		st, scrapeErr = s.appendScrape(app, body.Bytes(), contentType, ts)
		// Nothing refers to the body any more: the labels and texts kept
		// are copies. It goes back before the commit, which may wait.
		putBodyBuffer(body)
		if scrapeErr != nil {
			if err := app.Rollback(); err != nil {
				return fmt.Errorf("cannot roll back the failed scrape of %s: %w", s.target.URL, err)
			}
			app = s.store.AppenderV2(ctx)
		}
	}
	duration := time.Since(start)
	var storeErr error
	if scrapeErr == nil {
		s.appendReport(app, ts, duration, st, targetErr == nil)
		if err := app.Commit(); err != nil {
			// Nothing of this scrape is stored: the store still holds
			// the last good scrape, which the cache still names.
			storeErr = fmt.Errorf("cannot store the scraped samples: %w", err)
			scrapeErr = storeErr
			app = s.store.AppenderV2(ctx)
		} else {
			s.cache.succeeded()
			s.meta.succeeded()
		}
	}
	if scrapeErr != nil {
		// Everything of the last good scrape is gone: mark it stale.
		s.meta.failed()
		s.markAllStale(app, ts)
		st = appendStats{}
		s.appendReport(app, ts, duration, st, false)
		if err := app.Commit(); err != nil {
			// The cache keeps the series of the last good scrape, so the
			// next stored scrape marks them stale.
			err = fmt.Errorf("cannot store up=0 and the stale markers: %w", err)
			scrapeErr = fmt.Errorf("%w; %w", scrapeErr, err)
			if storeErr != nil {
				storeErr = scrapeErr
			} else {
				storeErr = err
			}
		} else {
			s.cache.forget()
		}
	}
	if targetErr != nil {
		if scrapeErr != nil {
			scrapeErr = fmt.Errorf("%w; %w", targetErr, scrapeErr)
		} else {
			scrapeErr = targetErr
		}
	}
	s.metrics.observe(scrapeErr == nil, duration, st.postRelabel)
	s.mu.Lock()
	s.health = Health{Up: scrapeErr == nil, LastScrape: ts, LastDuration: duration, SamplesScraped: st.scraped}
	if scrapeErr != nil {
		s.health.LastError = scrapeErr.Error()
	}
	s.mu.Unlock()
	return storeErr
}

// fetch gets the target's exposition within its timeout and body limit,
// in a buffer of getBodyBuffer for the caller to put back.
func (s *scraper) fetch(ctx context.Context) (*bodyBuffer, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.target.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.target.URL.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("cannot build the request: %w", err)
	}
	req.Header.Set("Accept", s.accept)
	req.Header.Set("User-Agent", "Vigil")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprintf("%g", s.target.Timeout.Seconds()))
	// The client's transport leaves compression to the scrape, as
	// upstream's does, so that the decompressor is reused.
	req.Header.Set("Accept-Encoding", "gzip")
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
	gzipped := resp.Header.Get("Content-Encoding") == "gzip"
	if resp.ContentLength > limit && !gzipped {
		// Refused before a byte of it is read.
		return nil, "", fmt.Errorf("%w: the target declares %d bytes, more than %d", errBodySize, resp.ContentLength, limit)
	}
	var reader io.Reader = resp.Body
	if gzipped {
		gz, err := s.gzipReader(resp.Body)
		if err != nil {
			return nil, "", fmt.Errorf("cannot read the gzip body: %w", err)
		}
		reader = gz
	}
	body := s.getBodyBuffer()
	if _, err := body.ReadFrom(io.LimitReader(reader, limit+1)); err != nil {
		putBodyBuffer(body)
		return nil, "", fmt.Errorf("cannot read the body: %w", err)
	}
	if int64(body.Len()) > limit {
		size := body.Cap()
		putBodyBuffer(body)
		releaseRefusedBody(size)
		return nil, "", fmt.Errorf("%w: more than %d bytes", errBodySize, limit)
	}
	s.lastBodySize = body.Len()
	return body, resp.Header.Get("Content-Type"), nil
}

// gzipReader returns the scraper's gzip reader reset to read r: one per
// target, reused from scrape to scrape.
func (s *scraper) gzipReader(r io.Reader) (*gzip.Reader, error) {
	if s.gzip == nil {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		s.gzip = gz
		return gz, nil
	}
	return s.gzip, s.gzip.Reset(r)
}

// largeRefusedBody is the size of a refused body's buffer from which its
// memory is given back to the system at once.
const largeRefusedBody = 64 << 20

// lastRelease is when releaseRefusedBody last gave memory back, in Unix
// nanoseconds.
var lastRelease atomic.Int64

// releaseRefusedBody gives the memory of a large refused body back to the
// system, at most once a minute: the runtime would keep it for minutes, so
// a target that sent a huge body once would leave the server's resident
// memory that much higher.
func releaseRefusedBody(size int) {
	if size < largeRefusedBody {
		return
	}
	now := time.Now().UnixNano()
	last := lastRelease.Load()
	if now-last < int64(time.Minute) || !lastRelease.CompareAndSwap(last, now) {
		return
	}
	go debug.FreeOSMemory()
}

// bodyPools keep the buffers of expositions from one scrape to the next,
// of any target: bodyPools[i] holds buffers of 1<<i bytes, up to 1<<40. A
// buffer that no scrape takes again is freed by the garbage collector.
var bodyPools [41]sync.Pool

// bodyBuffer holds an exposition.
type bodyBuffer struct {
	bytes.Buffer
	pool int // the index in bodyPools of its size when made; -1 for none
}

// getBodyBuffer returns an empty buffer with room for an exposition the size
// of the target's last one.
func (s *scraper) getBodyBuffer() *bodyBuffer {
	// ReadFrom wants MinRead bytes free to see the end of the body.
	i := bits.Len(uint(s.lastBodySize + bytes.MinRead))
	if i >= len(bodyPools) {
		return &bodyBuffer{pool: -1}
	}
	if b, ok := bodyPools[i].Get().(*bodyBuffer); ok {
		return b
	}
	return &bodyBuffer{Buffer: *bytes.NewBuffer(make([]byte, 0, 1<<i)), pool: i}
}

// putBodyBuffer gives b back to bodyPools once nothing refers to its bytes. A buffer
// that had to grow is not kept: the next scrape of its target asks for the
// size it now needs, so that the pools keep about as many buffers as there
// are scrapes at once, not one per target that ever grew one.
func putBodyBuffer(b *bodyBuffer) {
	if b.pool < 0 || b.Cap() != 1<<b.pool {
		return
	}
	b.Reset()
	bodyPools[b.pool].Put(b)
}

type appendStats struct {
	scraped, postRelabel, added int
}

// appendScrape parses body and appends its samples. Samples that are out
// of order or duplicates are skipped, as Prometheus skips them; a parse
// error or a limit fails the scrape. A series the cache knows is appended
// with its cached labels and reference; any other has its labels parsed,
// given the target's labels, relabeled and checked against the label
// limits first, and joins the cache.
func (s *scraper) appendScrape(app storage.AppenderV2, body []byte, contentType string, ts time.Time) (appendStats, error) {
	var st appendStats
	p, err := textparse.New(body, contentType, nil, textparse.ParserOptions{FallbackContentType: fallbackContentType(s.cfg.FallbackScrapeProtocol)})
	if p == nil {
		return st, fmt.Errorf("cannot parse content type %q: %w", contentType, err)
	}
	defaultTs := ts.UnixMilli()
	var (
		lset labels.Labels
		tag  byte // typeTag of the last TYPE entry
	)
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, fmt.Errorf("cannot parse the exposition: %w", err)
		}
		var (
			met   []byte
			tsPtr *int64
			v     float64
			h     *histogram.Histogram
			fh    *histogram.FloatHistogram
		)
		switch entry {
		case textparse.EntryType:
			name, typ := p.Type()
			tag = typeTag(typ)
			s.meta.setType(name, string(typ))
			continue
		case textparse.EntryHelp:
			s.meta.setHelp(p.Help())
			continue
		case textparse.EntryUnit:
			s.meta.setUnit(p.Unit())
			continue
		case textparse.EntrySeries:
			met, tsPtr, v = p.Series()
		case textparse.EntryHistogram:
			met, tsPtr, h, fh = p.Histogram()
		default:
			continue
		}
		st.scraped++
		s.key = append(append(s.key[:0], tag), met...)
		ce := s.cache.get(s.key)
		if ce == nil {
			p.Labels(&lset)
			var keep bool
			lset, keep = s.seriesLabels(lset)
			if !keep {
				s.cache.add(s.key, labels.EmptyLabels(), true)
				continue
			}
			if err := s.checkLabelLimits(lset); err != nil {
				return st, err
			}
			ce = s.cache.add(s.key, lset, false)
		}
		if ce.dropped {
			continue
		}
		st.postRelabel++
		if s.cfg.SampleLimit > 0 && st.postRelabel > s.cfg.SampleLimit {
			return st, fmt.Errorf("%w: more than %d samples", errSampleLimit, s.cfg.SampleLimit)
		}
		t := defaultTs
		if s.cfg.HonorTimestamps && tsPtr != nil {
			t = *tsPtr
		}
		opts := storage.AppendV2Options{Exemplars: s.sampleExemplars(p, t, entry == textparse.EntryHistogram)}
		ref, err := app.Append(ce.ref, ce.lset, 0, t, v, h, fh, opts)
		var partial *storage.AppendPartialError
		switch {
		case err == nil:
		case errors.As(err, &partial):
			// The sample is appended; some exemplars were not.
			s.exemplarsRefused(opts.Exemplars, partial)
		case errors.Is(err, storage.ErrOutOfOrderSample), errors.Is(err, storage.ErrDuplicateSampleForTimestamp), errors.Is(err, storage.ErrTooOldSample):
		default:
			return st, fmt.Errorf("cannot append %s: %w", ce.lset, err)
		}
		if ref != 0 {
			ce.ref = ref
		}
		if s.cache.track(ce) {
			st.added++
		}
	}
	s.appendStale(app, ts)
	return st, nil
}

// sampleExemplars returns the exemplars the parser gives for the current
// sample, at time t, as upstream's scrape loop takes them: one without a
// timestamp gets the sample's, except on a native histogram, where it is
// dropped (upstream requires native histograms' exemplars to carry one);
// they are sorted by time, value and labels.
func (s *scraper) sampleExemplars(p textparse.Parser, t int64, nativeHistogram bool) []exemplar.Exemplar {
	s.exemplars = s.exemplars[:0]
	e := &s.exemplar
	for *e = (exemplar.Exemplar{}); p.Exemplar(e); *e = (exemplar.Exemplar{}) {
		if !e.HasTs {
			if nativeHistogram {
				continue
			}
			e.Ts = t
		}
		s.exemplars = append(s.exemplars, *e)
	}
	if len(s.exemplars) == 0 {
		return nil
	}
	slices.SortFunc(s.exemplars, exemplar.Compare)
	return s.exemplars
}

// exemplarsRefused counts the exemplars of a sample that the store refused
// as out of order when all of them were, as upstream's scrape loop does (a
// part of them is an update of exemplars the store has); other refusals
// do not fail the scrape either.
func (s *scraper) exemplarsRefused(exemplars []exemplar.Exemplar, partial *storage.AppendPartialError) {
	outOfOrder := 0
	for _, e := range partial.ExemplarErrors {
		if errors.Is(e.Err, storage.ErrOutOfOrderExemplar) {
			outOfOrder++
		}
	}
	if outOfOrder > 0 && outOfOrder == len(exemplars) {
		s.metrics.exemplarsOutOfOrder(outOfOrder)
	}
}

// typeTag is the part of a series' cache key that says which family type
// the series follows. The text parsers take it from the last TYPE line and
// normalize the le label of a histogram's series and the quantile label of
// a summary's (le="1" becomes le="1.0"), so the same series text can give
// other labels under another type.
func typeTag(t model.MetricType) byte {
	switch t {
	case model.MetricTypeHistogram:
		return 1
	case model.MetricTypeSummary:
		return 2
	}
	return 0
}

// seriesLabels gives a sample's parsed labels the target's and applies
// metric_relabel. It reports false when relabeling drops the series.
func (s *scraper) seriesLabels(lset labels.Labels) (labels.Labels, bool) {
	lset = sampleLabels(lset, s.targetLabels, s.cfg.HonorLabels)
	if len(s.cfg.MetricRelabel) == 0 {
		return lset, true
	}
	b := labels.NewBuilder(lset)
	if !relabel.ProcessBuilder(b, s.cfg.MetricRelabel...) {
		return labels.EmptyLabels(), false
	}
	return b.Labels(), true
}

// appendStale appends a stale marker at ts for every series of the last
// good scrape that the current one did not append.
func (s *scraper) appendStale(app storage.AppenderV2, ts time.Time) {
	s.cache.forEachGone(func(e *cacheEntry) { appendStaleMarker(app, e, ts) })
}

// markAllStale appends a stale marker at ts for every series of the last
// good scrape: the target is down or gone. Once they are committed, the
// cache is to forget those series.
func (s *scraper) markAllStale(app storage.AppenderV2, ts time.Time) {
	s.cache.failed()
	s.appendStale(app, ts)
}

// markReportStale appends a stale marker at ts for each report series
// (up and the others): the target is gone.
func (s *scraper) markReportStale(app storage.AppenderV2, ts time.Time) {
	for i := range s.report {
		r := &s.report[i]
		_, _ = app.Append(r.ref, r.lset, 0, ts.UnixMilli(), math.Float64frombits(value.StaleNaN), nil, nil, storage.AppendV2Options{})
	}
}

// appendStaleMarker appends a stale marker at ts for the series of e.
func appendStaleMarker(app storage.AppenderV2, e *cacheEntry, ts time.Time) {
	// A series that is newer than ts, or already stale, refuses the
	// marker; there is nothing to do about it.
	_, _ = app.Append(e.ref, e.lset, 0, ts.UnixMilli(), math.Float64frombits(value.StaleNaN), nil, nil, storage.AppendV2Options{})
}

// appendReport appends up and the other series Prometheus writes about
// each scrape, with the target's labels.
func (s *scraper) appendReport(app storage.AppenderV2, ts time.Time, d time.Duration, st appendStats, up bool) {
	upValue := 0.0
	if up {
		upValue = 1
	}
	values := [len(reportNames)]float64{upValue, d.Seconds(), float64(st.scraped), float64(st.postRelabel), float64(st.added)}
	for i := range s.report {
		r := &s.report[i]
		if ref, _ := app.Append(r.ref, r.lset, 0, ts.UnixMilli(), values[i], nil, nil, storage.AppendV2Options{}); ref != 0 {
			r.ref = ref
		}
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
		// A label the sample has, even empty, keeps the target's out, as
		// in Prometheus: a Pushgateway exposes instance="" so that the
		// series of a push without an instance get none.
		target.Range(func(l labels.Label) {
			if !sample.Has(l.Name) {
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

// newClient builds the HTTP client of a scrape block from its client
// settings, as upstream's scrape pool does.
func newClient(cfg *hclconfig.Scrape) (*http.Client, error) {
	hc := cfg.HTTPClient.Config(commoncfg.DefaultHTTPClientConfig)
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("scrape %q: %w", cfg.Name, err)
	}
	client, err := commoncfg.NewClientFromConfig(hc, cfg.Name, commoncfg.WithUserAgent("Vigil"))
	if err != nil {
		return nil, fmt.Errorf("scrape %q: %w", cfg.Name, err)
	}
	return client, nil
}
