package main

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// globalStatusRE matches the status variables that are one family with a
// label, rather than a family each.
var globalStatusRE = regexp.MustCompile(`^(com|handler|connection_errors|innodb_buffer_pool_pages|innodb_rows|performance_schema)_(.*)$`)

// The families of SHOW GLOBAL STATUS with a label.
var (
	globalCommandsDesc = prometheus.NewDesc("mysql_global_status_commands_total",
		"Total number of executed MySQL commands.", []string{"command"}, nil)
	globalHandlerDesc = prometheus.NewDesc("mysql_global_status_handlers_total",
		"Total number of executed MySQL handlers.", []string{"handler"}, nil)
	globalConnectionErrorsDesc = prometheus.NewDesc("mysql_global_status_connection_errors_total",
		"Total number of MySQL connection errors.", []string{"error"}, nil)
	globalBufferPoolPagesDesc = prometheus.NewDesc("mysql_global_status_buffer_pool_pages",
		"Innodb buffer pool pages by state.", []string{"state"}, nil)
	globalBufferPoolDirtyPagesDesc = prometheus.NewDesc("mysql_global_status_buffer_pool_dirty_pages",
		"Innodb buffer pool dirty pages.", nil, nil)
	globalBufferPoolPageChangesDesc = prometheus.NewDesc("mysql_global_status_buffer_pool_page_changes_total",
		"Innodb buffer pool page state changes.", []string{"operation"}, nil)
	globalInnoDBRowOpsDesc = prometheus.NewDesc("mysql_global_status_innodb_row_ops_total",
		"Total number of MySQL InnoDB row operations.", []string{"operation"}, nil)
	globalPerformanceSchemaLostDesc = prometheus.NewDesc("mysql_global_status_performance_schema_lost_total",
		"Total number of MySQL instrumentations that could not be loaded or created due to memory constraints.", []string{"instrumentation"}, nil)
)

// globalStatus is the collector global_status: SHOW GLOBAL STATUS.
type globalStatus struct{}

func (globalStatus) name() string        { return "global_status" }
func (globalStatus) minVersion() float64 { return 5.1 }

func (globalStatus) scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, _ hclog.Logger) error {
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS")
	if err != nil {
		return err
	}
	defer rows.Close()
	text := map[string]string{
		"wsrep_local_state_uuid":   "",
		"wsrep_cluster_state_uuid": "",
		"wsrep_provider_version":   "",
		"wsrep_evs_repl_latency":   "",
	}
	var (
		key string
		val sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&key, &val); err != nil {
			return err
		}
		key = validPrometheusName(key)
		f, ok := parseStatus(val)
		if !ok {
			if _, ok := text[key]; ok {
				text[key] = string(val)
			}
			continue
		}
		m := globalStatusRE.FindStringSubmatch(key)
		if m == nil {
			ch <- prometheus.MustNewConstMetric(newDesc("global_status", key, "Generic metric from SHOW GLOBAL STATUS."),
				prometheus.UntypedValue, f)
			continue
		}
		switch m[1] {
		case "com":
			ch <- prometheus.MustNewConstMetric(globalCommandsDesc, prometheus.CounterValue, f, m[2])
		case "handler":
			ch <- prometheus.MustNewConstMetric(globalHandlerDesc, prometheus.CounterValue, f, m[2])
		case "connection_errors":
			ch <- prometheus.MustNewConstMetric(globalConnectionErrorsDesc, prometheus.CounterValue, f, m[2])
		case "innodb_buffer_pool_pages":
			switch m[2] {
			case "data", "free", "misc", "old":
				ch <- prometheus.MustNewConstMetric(globalBufferPoolPagesDesc, prometheus.GaugeValue, f, m[2])
			case "dirty":
				ch <- prometheus.MustNewConstMetric(globalBufferPoolDirtyPagesDesc, prometheus.GaugeValue, f)
			case "total":
			default:
				ch <- prometheus.MustNewConstMetric(globalBufferPoolPageChangesDesc, prometheus.CounterValue, f, m[2])
			}
		case "innodb_rows":
			ch <- prometheus.MustNewConstMetric(globalInnoDBRowOpsDesc, prometheus.CounterValue, f, m[2])
		case "performance_schema":
			ch <- prometheus.MustNewConstMetric(globalPerformanceSchemaLostDesc, prometheus.CounterValue, f, m[2])
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}

	// A Galera cluster's state and replication latency.
	if text["wsrep_local_state_uuid"] != "" {
		ch <- prometheus.MustNewConstMetric(
			prometheus.NewDesc("mysql_galera_status_info", "PXC/Galera status information.",
				[]string{"wsrep_local_state_uuid", "wsrep_cluster_state_uuid", "wsrep_provider_version"}, nil),
			prometheus.GaugeValue, 1, text["wsrep_local_state_uuid"], text["wsrep_cluster_state_uuid"], text["wsrep_provider_version"])
	}
	if latency := strings.Split(text["wsrep_evs_repl_latency"], "/"); len(latency) == 5 {
		parts := []struct{ name, help string }{
			{"min_seconds", "PXC/Galera group communication latency. Min value."},
			{"avg_seconds", "PXC/Galera group communication latency. Avg value."},
			{"max_seconds", "PXC/Galera group communication latency. Max value."},
			{"stdev", "PXC/Galera group communication latency. Standard Deviation."},
			{"sample_size", "PXC/Galera group communication latency. Sample Size."},
		}
		values := make([]float64, len(parts))
		for i := range parts {
			if values[i], err = strconv.ParseFloat(latency[i], 64); err != nil {
				return nil
			}
		}
		for i, p := range parts {
			ch <- prometheus.MustNewConstMetric(newDesc("galera_evs_repl_latency", p.name, p.help), prometheus.GaugeValue, values[i])
		}
	}
	return nil
}

// globalVariables is the collector global_variables: SHOW GLOBAL
// VARIABLES.
type globalVariables struct{}

func (globalVariables) name() string        { return "global_variables" }
func (globalVariables) minVersion() float64 { return 5.1 }

func (globalVariables) scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, _ hclog.Logger) error {
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL VARIABLES")
	if err != nil {
		return err
	}
	defer rows.Close()
	text := map[string]string{
		"innodb_version":         "",
		"version":                "",
		"version_comment":        "",
		"wsrep_cluster_name":     "",
		"wsrep_provider_options": "",
		"tx_isolation":           "",
		"transaction_isolation":  "",
	}
	var (
		key string
		val sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&key, &val); err != nil {
			return err
		}
		key = validPrometheusName(key)
		if f, ok := parseStatus(val); ok {
			ch <- prometheus.MustNewConstMetric(newDesc("global_variables", key, "Generic gauge metric from SHOW GLOBAL VARIABLES."),
				prometheus.GaugeValue, f)
			continue
		}
		if _, ok := text[key]; ok {
			text[key] = string(val)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}

	ch <- prometheus.MustNewConstMetric(
		prometheus.NewDesc("mysql_version_info", "MySQL version and distribution.",
			[]string{"innodb_version", "version", "version_comment"}, nil),
		prometheus.GaugeValue, 1, text["innodb_version"], text["version"], text["version_comment"])
	if text["wsrep_cluster_name"] != "" {
		ch <- prometheus.MustNewConstMetric(
			prometheus.NewDesc("mysql_galera_variables_info", "PXC/Galera variables information.", []string{"wsrep_cluster_name"}, nil),
			prometheus.GaugeValue, 1, text["wsrep_cluster_name"])
	}
	if text["wsrep_provider_options"] != "" {
		ch <- prometheus.MustNewConstMetric(newDesc("galera", "gcache_size_bytes", "PXC/Galera gcache size."),
			prometheus.GaugeValue, gcacheSize(text["wsrep_provider_options"]))
	}
	level := text["transaction_isolation"]
	if level == "" {
		level = text["tx_isolation"]
	}
	if level != "" {
		ch <- prometheus.MustNewConstMetric(
			prometheus.NewDesc("mysql_transaction_isolation", "MySQL transaction isolation.", []string{"level"}, nil),
			prometheus.GaugeValue, 1, level)
	}
	return nil
}

// gcacheRE finds gcache.size in wsrep_provider_options.
var gcacheRE = regexp.MustCompile(`gcache.size = (\d+)([MG]?);`)

// gcacheSize returns the gcache.size of wsrep_provider_options in bytes,
// 0 when it has none.
func gcacheSize(opts string) float64 {
	m := gcacheRE.FindStringSubmatch(opts)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "M":
		v *= 1 << 20
	case "G":
		v *= 1 << 30
	}
	return v
}
