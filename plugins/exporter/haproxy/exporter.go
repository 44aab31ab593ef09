package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
)

// maxBody bounds what is read of HAProxy's answer: a CSV of many
// thousands of servers fits.
const maxBody = 64 << 20

// exporter collects an HAProxy. It counts its collections and the rows it
// could not read across collections, as haproxy_exporter does.
type exporter struct {
	cfg     *config
	timeout time.Duration
	client  *http.Client
	logger  hclog.Logger

	mu               sync.Mutex
	scrapes          float64
	csvParseFailures float64
}

// newExporter is the plugin's constructor.
func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	e := &exporter{cfg: c, timeout: cfg.Duration(attrTimeout), logger: sdk.Logger()}
	if c.uri.Scheme == "http" || c.uri.Scheme == "https" {
		e.client = &http.Client{Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: !c.sslVerify},
			DisableKeepAlives: true,
		}}
	}
	return e, nil
}

// Collect implements sdk.Exporter. HAProxy that cannot be reached within
// the timeout, or answers with something else than its statistics, gives
// haproxy_up 0, as haproxy_exporter's scrape does, and the reason in the
// log and as the target's error (sdk.TargetDown), which the host reports
// with the target down.
func (e *exporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	var metrics []prometheus.Metric
	send := func(m prometheus.Metric) { metrics = append(metrics, m) }
	up := 1.0
	failures, scrapeErr := e.scrape(ctx, send)
	if scrapeErr != nil {
		e.logger.Error("cannot read HAProxy's statistics", "scrape_uri", e.cfg.uri.Redacted(), "error", scrapeErr)
		scrapeErr = fmt.Errorf("cannot read HAProxy's statistics at %s: %w", e.cfg.uri.Redacted(), scrapeErr)
		up = 0
	}
	e.mu.Lock()
	e.scrapes++
	e.csvParseFailures += float64(failures)
	send(prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up))
	send(prometheus.MustNewConstMetric(scrapesTotalDesc, prometheus.CounterValue, e.scrapes))
	send(prometheus.MustNewConstMetric(csvParseFailuresDesc, prometheus.CounterValue, e.csvParseFailures))
	e.mu.Unlock()

	reg := prometheus.NewRegistry()
	if err := reg.Register(constCollector(metrics)); err != nil {
		return nil, fmt.Errorf("registering the collection: %w", err)
	}
	families, err := reg.Gather()
	if err != nil {
		// Gather keeps what it could, such as when HAProxy lists a
		// server twice; what it dropped is logged.
		e.logger.Warn("some metrics were left out", "error", err)
	}
	return families, sdk.TargetDown(scrapeErr)
}

// constCollector collects metrics made already. It describes nothing, so
// that the registry takes them as they are.
type constCollector []prometheus.Metric

// Describe implements prometheus.Collector.
func (constCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// scrape reads the statistics, and from a stats socket the process's
// info, and sends their metrics. It returns how many rows or fields it
// could not read, and an error when it has no statistics.
func (e *exporter) scrape(ctx context.Context, send func(prometheus.Metric)) (failures int, err error) {
	if e.client == nil {
		info, err := e.command(ctx, "show info\n")
		if err != nil {
			return 0, err
		}
		e.sendInfo(info, send)
		stat, err := e.command(ctx, "show stat\n")
		if err != nil {
			return 0, err
		}
		return e.parseStat(stat, send)
	}
	body, err := e.fetchHTTP(ctx)
	if err != nil {
		return 0, err
	}
	return e.parseStat(body, send)
}

// fetchHTTP gets the CSV over HTTP.
func (e *exporter) fetchHTTP(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.cfg.uri.String(), nil)
	if err != nil {
		return nil, err
	}
	if e.cfg.username != "" {
		req.SetBasicAuth(e.cfg.username, e.cfg.password)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	return readAll(resp.Body)
}

// command sends a command to the stats socket and reads the answer,
// which ends when HAProxy closes the connection.
func (e *exporter) command(ctx context.Context, cmd string) ([]byte, error) {
	network, address := "unix", e.cfg.uri.Path
	if e.cfg.uri.Scheme == "tcp" {
		network, address = "tcp", e.cfg.uri.Host
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return nil, err
		}
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return nil, fmt.Errorf("%s: %w", strings.TrimSpace(cmd), err)
	}
	b, err := readAll(conn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.TrimSpace(cmd), err)
	}
	return b, nil
}

// readAll reads r up to maxBody.
func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("the answer is larger than %d bytes", maxBody)
	}
	return b, nil
}

// sendInfo sends haproxy_version_info and
// haproxy_process_idle_time_percent of the answer to show info.
func (e *exporter) sendInfo(info []byte, send func(prometheus.Metric)) {
	var version, releaseDate string
	idle := -1.0
	s := bufio.NewScanner(strings.NewReader(string(info)))
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), ": ")
		if !ok {
			continue
		}
		switch name {
		case "Release_date":
			releaseDate = value
		case "Version":
			version = value
		case "Idle_pct":
			if v, err := strconv.ParseFloat(value, 64); err == nil && v >= 0 && v <= 100 {
				idle = v
			}
		}
	}
	send(prometheus.MustNewConstMetric(versionInfoDesc, prometheus.GaugeValue, 1, releaseDate, version))
	if idle >= 0 {
		send(prometheus.MustNewConstMetric(idlePctDesc, prometheus.GaugeValue, idle))
	}
}

// errNoStatistics is the error of an answer without a single row of
// statistics: not HAProxy's CSV.
var errNoStatistics = errors.New("the answer holds no row of HAProxy's statistics CSV")

// parseStat sends the metrics of each row of the CSV. A row too short
// or with another number of fields than the first, or a field that is not
// a number, is left out and counted. An answer
// without any row of statistics is an error.
func (e *exporter) parseStat(body []byte, send func(prometheus.Metric)) (failures int, err error) {
	r := csv.NewReader(strings.NewReader(string(body)))
	r.Comment = '#'
	// Every row must have as many fields as the first, as
	// haproxy_exporter has it: a row missing a comma, which some HAProxy
	// releases wrote, is left out rather than read with its fields
	// shifted.
	r.FieldsPerRecord = 0
	rows := 0
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				failures++
				continue
			}
			return failures, err
		}
		if len(row) < minimumFields {
			failures++
			continue
		}
		rows++
		failures += e.sendRow(row, send)
	}
	if rows == 0 {
		return failures, errNoStatistics
	}
	return failures, nil
}

// sendRow sends the metrics of a row, and returns how many of its fields
// were not numbers.
func (e *exporter) sendRow(row []string, send func(prometheus.Metric)) (failures int) {
	pxname, svname, status := row[pxnameField], row[svnameField], row[statusField]
	var (
		m      metrics
		labels []string
	)
	switch row[typeField] {
	case typeFrontend:
		m, labels = frontendMetrics, []string{pxname}
	case typeBackend:
		m, labels = backendMetrics, []string{pxname}
	case typeServer:
		if e.cfg.excludedServerStates[status] {
			return 0
		}
		m, labels = e.cfg.serverMetrics, []string{pxname, svname}
	default:
		return 0 // a listener
	}
	for field, metric := range m {
		if field >= len(row) || row[field] == "" {
			continue
		}
		value, err := fieldValue(field, row[field])
		if err != nil {
			e.logger.Debug("cannot read a field", "field", field, "value", row[field], "error", err)
			failures++
			continue
		}
		send(prometheus.MustNewConstMetric(metric.desc, metric.typ, value, labels...))
	}
	return failures
}

// fieldValue is the value of a field: the status as 1 or 0, times in
// milliseconds as seconds, and other fields as the integers they are.
func fieldValue(field int, s string) (float64, error) {
	switch field {
	case statusField:
		return statusValue(s), nil
	case checkDurationField, qtimeMsField, ctimeMsField, rtimeMsField, ttimeMsField:
		v, err := strconv.ParseFloat(s, 64)
		return v / 1000, err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return float64(v), err
}
