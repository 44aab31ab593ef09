package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// The families of information_schema.innodb_metrics with a label.
var (
	innodbBufferPageReadDesc = prometheus.NewDesc("mysql_info_schema_innodb_metrics_buffer_page_read_total",
		"Total number of buffer pages read total.", []string{"type"}, nil)
	innodbBufferPageWrittenDesc = prometheus.NewDesc("mysql_info_schema_innodb_metrics_buffer_page_written_total",
		"Total number of buffer pages written total.", []string{"type"}, nil)
	innodbBufferPoolPagesDesc = prometheus.NewDesc("mysql_info_schema_innodb_metrics_buffer_pool_pages",
		"Total number of buffer pool pages by state.", []string{"state"}, nil)
	innodbBufferPoolDirtyPagesDesc = prometheus.NewDesc("mysql_info_schema_innodb_metrics_buffer_pool_dirty_pages",
		"Total number of dirty pages in the buffer pool.", nil, nil)
)

var (
	bufferRE     = regexp.MustCompile(`^buffer_(pool_pages)_(.*)$`)
	bufferPageRE = regexp.MustCompile(`^buffer_page_(read|written)_(.*)$`)
)

// innodbMetrics is the collector info_schema.innodb_metrics: InnoDB's
// own counters, those enabled (innodb_monitor_enable), each a family. It
// is off by default, as in mysqld_exporter.
type innodbMetrics struct{}

func (innodbMetrics) name() string        { return "info_schema.innodb_metrics" }
func (innodbMetrics) minVersion() float64 { return 5.6 }

func (innodbMetrics) scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, logger hclog.Logger) error {
	// MySQL 5.6 and MariaDB call the column that says whether a counter
	// is enabled status, MySQL 8 enabled.
	var column string
	if err := db.QueryRowContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = 'information_schema' AND table_name = 'INNODB_METRICS'
		AND column_name IN ('status', 'enabled') LIMIT 1`).Scan(&column); err != nil {
		return err
	}
	var where string
	switch column {
	case "STATUS", "status":
		where = "`status` = 'enabled'"
	case "ENABLED", "enabled":
		where = "`enabled` = '1'"
	default:
		return errors.New("information_schema.innodb_metrics has neither a status nor an enabled column")
	}
	rows, err := db.QueryContext(ctx, "SELECT name, subsystem, type, comment, count FROM information_schema.innodb_metrics WHERE "+where)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name, subsystem, typ, comment string
			value                         float64
		)
		if err := rows.Scan(&name, &subsystem, &typ, &comment, &value); err != nil {
			return err
		}
		switch subsystem {
		case "buffer_page_io":
			m := bufferPageRE.FindStringSubmatch(name)
			if m == nil {
				logger.Warn("innodb_metrics subsystem buffer_page_io returned an invalid name", "name", name)
				continue
			}
			desc := innodbBufferPageReadDesc
			if m[1] == "written" {
				desc = innodbBufferPageWrittenDesc
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, value, m[2])
			continue
		case "buffer":
			if m := bufferRE.FindStringSubmatch(name); m != nil {
				switch m[2] {
				case "total": // the sum of the others
				case "dirty":
					ch <- prometheus.MustNewConstMetric(innodbBufferPoolDirtyPagesDesc, prometheus.GaugeValue, value)
				default:
					ch <- prometheus.MustNewConstMetric(innodbBufferPoolPagesDesc, prometheus.GaugeValue, value, m[2])
				}
				continue
			}
		}
		metric := fmt.Sprintf("mysql_info_schema_innodb_metrics_%s_%s", subsystem, name)
		// A counter that is negative is one of MySQL's bugs
		// (bugs.mysql.com 75966): it is reported as a gauge.
		if (typ == "counter" || typ == "status_counter") && value >= 0 {
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(metric+"_total", comment, nil, nil), prometheus.CounterValue, value)
		} else {
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(metric, comment, nil, nil), prometheus.GaugeValue, value)
		}
	}
	return rows.Err()
}
