package main

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
)

// namespace is the first part of every metric name, as mysqld_exporter
// has it.
const namespace = "mysql"

// The metrics mysqld_exporter reports about the server and its own
// collections, with its help texts.
var (
	upDesc             = prometheus.NewDesc("mysql_up", "Whether the MySQL server is up.", nil, nil)
	scrapeDurationDesc = prometheus.NewDesc("mysql_exporter_collector_duration_seconds",
		"Collector time duration.", []string{"collector"}, nil)
	collectorSuccessDesc = prometheus.NewDesc("mysql_exporter_collector_success",
		"mysqld_exporter: Whether a collector succeeded.", []string{"collector"}, nil)
	lastScrapeErrorDesc = prometheus.NewDesc("mysql_exporter_last_scrape_error",
		"Whether the last scrape of metrics from MySQL resulted in an error (1 for error, 0 for success).", nil, nil)
	scrapesTotalDesc = prometheus.NewDesc("mysql_exporter_scrapes_total",
		"Total number of times MySQL was scraped for metrics.", nil, nil)
	scrapeErrorsDesc = prometheus.NewDesc("mysql_exporter_scrape_errors_total",
		"Total number of times an error occurred scraping a MySQL.", []string{"collector"}, nil)
)

// scraper is one of mysqld_exporter's collectors: it runs its queries
// and sends their metrics.
type scraper interface {
	// name is the collector's name, as the collectors attribute and the
	// collector label (prefixed "collect.") have it.
	name() string
	// minVersion is the oldest server version (major.minor) the
	// collector works with.
	minVersion() float64
	// scrape runs the collector's queries on db and sends the metrics.
	scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, logger hclog.Logger) error
}

// scrapers are the collectors there are, in the order they are listed:
// mysqld_exporter's default ones, then the others.
var scrapers = []scraper{
	globalStatus{},
	globalVariables{},
	slaveStatus{},
	innodbCmp{},
	innodbCmpMem{},
	queryResponseTime{},
	innodbMetrics{},
}

// defaultScrapers is how many of scrapers run by default.
const defaultScrapers = 6

// scraperNames lists the names of the collectors.
func scraperNames() []string {
	names := make([]string, len(scrapers))
	for i, s := range scrapers {
		names[i] = s.name()
	}
	return names
}

// exporter collects a server. It counts its collections and their
// errors across collections, as mysqld_exporter does across scrapes.
type exporter struct {
	cfg    *config
	logger hclog.Logger

	mu           sync.Mutex
	scrapes      float64
	scrapeErrors map[string]float64
}

// newExporter is the plugin's constructor.
func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &exporter{cfg: c, logger: sdk.Logger(), scrapeErrors: map[string]float64{}}, nil
}

// Collect implements sdk.Exporter: it connects to the server, runs the
// collectors in parallel and returns their metrics. A server that cannot
// be reached, or refuses the login, gives mysql_up 0 and
// mysql_exporter_last_scrape_error 1, as mysqld_exporter does, and the
// reason in the log and as the target's error (sdk.TargetDown), which the
// host reports with the target down; a collector that fails gives
// mysql_exporter_collector_success 0 for it and leaves the others be.
func (e *exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	var targetErr error
	reg := prometheus.NewRegistry()
	if err := reg.Register(collection{e: e, ctx: ctx, targetErr: &targetErr}); err != nil {
		return nil, fmt.Errorf("registering the collection: %w", err)
	}
	families, err := reg.Gather()
	if err != nil {
		// Gather keeps what it could; a metric it dropped is logged.
		e.logger.Warn("some metrics were left out", "error", err)
	}
	return families, sdk.TargetDown(targetErr)
}

// collection is one collection as a prometheus.Collector, bound to the
// context of the host's call. It describes nothing, so that the registry
// takes whatever the server's status and variables are named. Its
// Collect sets targetErr when the server cannot be used.
type collection struct {
	e         *exporter
	ctx       context.Context
	targetErr *error
}

// Describe implements prometheus.Collector.
func (collection) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c collection) Collect(ch chan<- prometheus.Metric) {
	up, failed, err := c.e.scrape(c.ctx, ch)
	*c.targetErr = err
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	c.e.scrapes++
	lastError := 0.0
	if up == 0 || len(failed) > 0 {
		lastError = 1
	}
	for _, name := range failed {
		c.e.scrapeErrors[name]++
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(lastScrapeErrorDesc, prometheus.GaugeValue, lastError)
	ch <- prometheus.MustNewConstMetric(scrapesTotalDesc, prometheus.CounterValue, c.e.scrapes)
	for name, n := range c.e.scrapeErrors {
		ch <- prometheus.MustNewConstMetric(scrapeErrorsDesc, prometheus.CounterValue, n, name)
	}
}

// scrape connects and runs the collectors. It returns mysql_up's value,
// the collector labels of the collectors that failed, and why the server
// could not be used when mysql_up is 0.
func (e *exporter) scrape(ctx context.Context, ch chan<- prometheus.Metric) (up float64, failed []string, targetErr error) {
	start := time.Now()
	connector, err := mysql.NewConnector(e.cfg.dsn)
	if err != nil {
		e.logger.Error("cannot use the connection settings", "address", e.cfg.dsn.Addr, "error", err)
		return 0, nil, fmt.Errorf("cannot use the connection settings for %s: %w", e.cfg.dsn.Addr, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	// At most two connections for the collectors, as mysqld_exporter has.
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	if err := db.PingContext(ctx); err != nil {
		e.logger.Error("cannot reach the MySQL server", "address", e.cfg.dsn.Addr, "error", err)
		return 0, nil, fmt.Errorf("cannot reach the MySQL server at %s: %w", e.cfg.dsn.Addr, err)
	}
	ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, time.Since(start).Seconds(), "connection")

	version := serverVersion(ctx, db)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, s := range e.cfg.scrapers {
		if version < s.minVersion() {
			continue
		}
		wg.Go(func() {
			label := "collect." + s.name()
			start := time.Now()
			success := 1.0
			if err := runScraper(ctx, s, db, ch, e.logger.Named(s.name())); err != nil {
				e.logger.Error("collector failed", "collector", s.name(), "address", e.cfg.dsn.Addr, "error", err)
				success = 0
				mu.Lock()
				failed = append(failed, label)
				mu.Unlock()
			}
			ch <- prometheus.MustNewConstMetric(collectorSuccessDesc, prometheus.GaugeValue, success, label)
			ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, time.Since(start).Seconds(), label)
		})
	}
	wg.Wait()
	return 1, failed, nil
}

// runScraper runs one collector. A panic, on a result the code does not
// expect, fails the collector rather than the plugin.
func runScraper(ctx context.Context, s scraper, db *sql.DB, ch chan<- prometheus.Metric, logger hclog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return s.scrape(ctx, db, ch, logger)
}

// versionRE takes major.minor from the front of @@version.
var versionRE = regexp.MustCompile(`^\d+\.\d+`)

// serverVersion returns the server's major.minor version, or 999 (every
// collector runs) when it cannot be read.
func serverVersion(ctx context.Context, db *sql.DB) float64 {
	var s string
	if err := db.QueryRowContext(ctx, "SELECT @@version").Scan(&s); err != nil {
		return 999
	}
	v, err := strconv.ParseFloat(versionRE.FindString(s), 64)
	if err != nil || v == 0 {
		return 999
	}
	return v
}
