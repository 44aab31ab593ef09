package main

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// The fields of a row of HAProxy's statistics CSV (HAProxy's management
// guide, section 9.1) that are read other than as a metric's value.
const (
	pxnameField        = 0
	svnameField        = 1
	statusField        = 17
	typeField          = 32
	checkDurationField = 38
	qtimeMsField       = 58
	ctimeMsField       = 59
	rtimeMsField       = 60
	ttimeMsField       = 61

	// minimumFields is the fewest fields a row may have: HAProxy 1.4's.
	minimumFields = 33
)

// The values of the type field.
const (
	typeFrontend = "0"
	typeBackend  = "1"
	typeServer   = "2"
)

// metricInfo is a metric made from one field of a row.
type metricInfo struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

// metrics are the metrics of a kind of row, by field number.
type metrics map[int]metricInfo

// newMetric describes haproxy_<kind>_<name>, with the labels of its kind
// and the constant labels, as haproxy_exporter does.
func newMetric(kind, name, help string, typ prometheus.ValueType, constLabels prometheus.Labels) metricInfo {
	labels := map[string][]string{"frontend": {"frontend"}, "backend": {"backend"}, "server": {"backend", "server"}}[kind]
	return metricInfo{desc: prometheus.NewDesc("haproxy_"+kind+"_"+name, help, labels, constLabels), typ: typ}
}

// httpResponses are the six fields counting HTTP responses by class,
// from field 39, each a series of http_responses_total with its code.
func httpResponses(kind string, m metrics) {
	for i, code := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"} {
		m[39+i] = newMetric(kind, "http_responses_total", "Total of HTTP responses.", prometheus.CounterValue, prometheus.Labels{"code": code})
	}
}

// serverMetrics are haproxy_exporter's metrics of a server's row.
var serverMetrics = func() metrics {
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	s := func(name, help string, t prometheus.ValueType) metricInfo {
		return newMetric("server", name, help, t, nil)
	}
	m := metrics{
		2:  s("current_queue", "Current number of queued requests assigned to this server.", g),
		3:  s("max_queue", "Maximum observed number of queued requests assigned to this server.", g),
		4:  s("current_sessions", "Current number of active sessions.", g),
		5:  s("max_sessions", "Maximum observed number of active sessions.", g),
		6:  s("limit_sessions", "Configured session limit.", g),
		7:  s("sessions_total", "Total number of sessions.", c),
		8:  s("bytes_in_total", "Current total of incoming bytes.", c),
		9:  s("bytes_out_total", "Current total of outgoing bytes.", c),
		13: s("connection_errors_total", "Total of connection errors.", c),
		14: s("response_errors_total", "Total of response errors.", c),
		15: s("retry_warnings_total", "Total of retry warnings.", c),
		16: s("redispatch_warnings_total", "Total of redispatch warnings.", c),
		17: s("up", "Current health status of the server (1 = UP, 0 = DOWN).", g),
		18: s("weight", "Current weight of the server.", g),
		21: s("check_failures_total", "Total number of failed health checks.", c),
		24: s("downtime_seconds_total", "Total downtime in seconds.", c),
		30: s("server_selected_total", "Total number of times a server was selected, either for new sessions, or when re-dispatching.", c),
		33: s("current_session_rate", "Current number of sessions per second over last elapsed second.", g),
		35: s("max_session_rate", "Maximum observed number of sessions per second.", g),
		38: s("check_duration_seconds", "Previously run health check duration, in seconds", g),
		49: s("client_aborts_total", "Total number of data transfers aborted by the client.", c),
		50: s("server_aborts_total", "Total number of data transfers aborted by the server.", c),
		58: s("http_queue_time_average_seconds", "Avg. HTTP queue time for last 1024 successful connections.", g),
		59: s("http_connect_time_average_seconds", "Avg. HTTP connect time for last 1024 successful connections.", g),
		60: s("http_response_time_average_seconds", "Avg. HTTP response time for last 1024 successful connections.", g),
		61: s("http_total_time_average_seconds", "Avg. HTTP total time for last 1024 successful connections.", g),
	}
	httpResponses("server", m)
	return m
}()

// frontendMetrics are haproxy_exporter's metrics of a frontend's row.
var frontendMetrics = func() metrics {
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	f := func(name, help string, t prometheus.ValueType) metricInfo {
		return newMetric("frontend", name, help, t, nil)
	}
	m := metrics{
		4:  f("current_sessions", "Current number of active sessions.", g),
		5:  f("max_sessions", "Maximum observed number of active sessions.", g),
		6:  f("limit_sessions", "Configured session limit.", g),
		7:  f("sessions_total", "Total number of sessions.", c),
		8:  f("bytes_in_total", "Current total of incoming bytes.", c),
		9:  f("bytes_out_total", "Current total of outgoing bytes.", c),
		10: f("requests_denied_total", "Total of requests denied for security.", c),
		12: f("request_errors_total", "Total of request errors.", c),
		33: f("current_session_rate", "Current number of sessions per second over last elapsed second.", g),
		34: f("limit_session_rate", "Configured limit on new sessions per second.", g),
		35: f("max_session_rate", "Maximum observed number of sessions per second.", g),
		48: f("http_requests_total", "Total HTTP requests.", c),
		51: f("compressor_bytes_in_total", "Number of HTTP response bytes fed to the compressor", c),
		52: f("compressor_bytes_out_total", "Number of HTTP response bytes emitted by the compressor", c),
		53: f("compressor_bytes_bypassed_total", "Number of bytes that bypassed the HTTP compressor", c),
		54: f("http_responses_compressed_total", "Number of HTTP responses that were compressed", c),
		79: f("connections_total", "Total number of connections", c),
	}
	httpResponses("frontend", m)
	return m
}()

// backendMetrics are haproxy_exporter's metrics of a backend's row.
var backendMetrics = func() metrics {
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	b := func(name, help string, t prometheus.ValueType) metricInfo {
		return newMetric("backend", name, help, t, nil)
	}
	m := metrics{
		2:  b("current_queue", "Current number of queued requests not assigned to any server.", g),
		3:  b("max_queue", "Maximum observed number of queued requests not assigned to any server.", g),
		4:  b("current_sessions", "Current number of active sessions.", g),
		5:  b("max_sessions", "Maximum observed number of active sessions.", g),
		6:  b("limit_sessions", "Configured session limit.", g),
		7:  b("sessions_total", "Total number of sessions.", c),
		8:  b("bytes_in_total", "Current total of incoming bytes.", c),
		9:  b("bytes_out_total", "Current total of outgoing bytes.", c),
		13: b("connection_errors_total", "Total of connection errors.", c),
		14: b("response_errors_total", "Total of response errors.", c),
		15: b("retry_warnings_total", "Total of retry warnings.", c),
		16: b("redispatch_warnings_total", "Total of redispatch warnings.", c),
		17: b("up", "Current health status of the backend (1 = UP, 0 = DOWN).", g),
		18: b("weight", "Total weight of the servers in the backend.", g),
		19: b("current_server", "Current number of active servers", g),
		30: b("server_selected_total", "Total number of times a server was selected, either for new sessions, or when re-dispatching.", c),
		33: b("current_session_rate", "Current number of sessions per second over last elapsed second.", g),
		35: b("max_session_rate", "Maximum number of sessions per second.", g),
		49: b("client_aborts_total", "Total number of data transfers aborted by the client.", c),
		50: b("server_aborts_total", "Total number of data transfers aborted by the server.", c),
		51: b("compressor_bytes_in_total", "Number of HTTP response bytes fed to the compressor", c),
		52: b("compressor_bytes_out_total", "Number of HTTP response bytes emitted by the compressor", c),
		53: b("compressor_bytes_bypassed_total", "Number of bytes that bypassed the HTTP compressor", c),
		54: b("http_responses_compressed_total", "Number of HTTP responses that were compressed", c),
		58: b("http_queue_time_average_seconds", "Avg. HTTP queue time for last 1024 successful connections.", g),
		59: b("http_connect_time_average_seconds", "Avg. HTTP connect time for last 1024 successful connections.", g),
		60: b("http_response_time_average_seconds", "Avg. HTTP response time for last 1024 successful connections.", g),
		61: b("http_total_time_average_seconds", "Avg. HTTP total time for last 1024 successful connections.", g),
	}
	httpResponses("backend", m)
	return m
}()

// defaultServerFields lists every field of serverMetrics, comma-separated,
// as haproxy_exporter's --haproxy.server-metric-fields defaults to.
func defaultServerFields() string {
	fields := slices.Sorted(maps.Keys(serverMetrics))
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = strconv.Itoa(f)
	}
	return strings.Join(s, ",")
}

// The metrics about HAProxy and the plugin's collections.
var (
	upDesc               = prometheus.NewDesc("haproxy_up", "Was the last scrape of HAProxy successful.", nil, nil)
	versionInfoDesc      = prometheus.NewDesc("haproxy_version_info", "HAProxy version info.", []string{"release_date", "version"}, nil)
	idlePctDesc          = prometheus.NewDesc("haproxy_process_idle_time_percent", "Time spent waiting for events instead of processing them.", nil, nil)
	scrapesTotalDesc     = prometheus.NewDesc("haproxy_exporter_scrapes_total", "Current total HAProxy scrapes.", nil, nil)
	csvParseFailuresDesc = prometheus.NewDesc("haproxy_exporter_csv_parse_failures_total", "Number of errors while parsing CSV.", nil, nil)
)

// statusValue is haproxy_<kind>_up of a status field: 1 for UP (also
// while going down), OPEN, "no check" and DRAIN, 0 for anything else.
func statusValue(status string) float64 {
	switch status {
	case "UP", "UP 1/3", "UP 2/3", "OPEN", "no check", "DRAIN":
		return 1
	}
	return 0
}
