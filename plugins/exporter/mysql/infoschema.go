package main

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// The families of information_schema.innodb_cmp, by page size.
var (
	innodbCmpCompressOpsDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmp_compress_ops_total",
		"Number of times a B-tree page of the size PAGE_SIZE has been compressed.", []string{"page_size"}, nil)
	innodbCmpCompressOpsOkDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmp_compress_ops_ok_total",
		"Number of times a B-tree page of the size PAGE_SIZE has been successfully compressed.", []string{"page_size"}, nil)
	innodbCmpCompressTimeDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmp_compress_time_seconds_total",
		"Total time in seconds spent in attempts to compress B-tree pages.", []string{"page_size"}, nil)
	innodbCmpUncompressOpsDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmp_uncompress_ops_total",
		"Number of times a B-tree page of the size PAGE_SIZE has been uncompressed.", []string{"page_size"}, nil)
	innodbCmpUncompressTimeDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmp_uncompress_time_seconds_total",
		"Total time in seconds spent in uncompressing B-tree pages.", []string{"page_size"}, nil)
)

// innodbCmp is the collector info_schema.innodb_cmp: InnoDB's compression
// of B-tree pages.
type innodbCmp struct{}

func (innodbCmp) name() string        { return "info_schema.innodb_cmp" }
func (innodbCmp) minVersion() float64 { return 5.5 }

func (innodbCmp) scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, _ hclog.Logger) error {
	rows, err := db.QueryContext(ctx, `SELECT page_size, compress_ops, compress_ops_ok, compress_time, uncompress_ops, uncompress_time
		FROM information_schema.innodb_cmp`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pageSize                                      string
			ops, opsOk, time, uncompressOps, uncompressTm float64
		)
		if err := rows.Scan(&pageSize, &ops, &opsOk, &time, &uncompressOps, &uncompressTm); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(innodbCmpCompressOpsDesc, prometheus.CounterValue, ops, pageSize)
		ch <- prometheus.MustNewConstMetric(innodbCmpCompressOpsOkDesc, prometheus.CounterValue, opsOk, pageSize)
		ch <- prometheus.MustNewConstMetric(innodbCmpCompressTimeDesc, prometheus.CounterValue, time, pageSize)
		ch <- prometheus.MustNewConstMetric(innodbCmpUncompressOpsDesc, prometheus.CounterValue, uncompressOps, pageSize)
		ch <- prometheus.MustNewConstMetric(innodbCmpUncompressTimeDesc, prometheus.CounterValue, uncompressTm, pageSize)
	}
	return rows.Err()
}

// The families of information_schema.innodb_cmpmem, by page size and
// buffer pool. mysqld_exporter types the page counts as counters,
// although they go up and down; the names and types are kept so that
// its dashboards work.
var (
	innodbCmpMemPagesUsedDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmpmem_pages_used_total",
		"Number of blocks of the size PAGE_SIZE that are currently in use.", []string{"page_size", "buffer_pool"}, nil)
	innodbCmpMemPagesFreeDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmpmem_pages_free_total",
		"Number of blocks of the size PAGE_SIZE that are currently available for allocation.", []string{"page_size", "buffer_pool"}, nil)
	innodbCmpMemRelocationOpsDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmpmem_relocation_ops_total",
		"Number of times a block of the size PAGE_SIZE has been relocated.", []string{"page_size", "buffer_pool"}, nil)
	innodbCmpMemRelocationTimeDesc = prometheus.NewDesc("mysql_info_schema_innodb_cmpmem_relocation_time_seconds_total",
		"Total time in seconds spent in relocating blocks.", []string{"page_size", "buffer_pool"}, nil)
)

// innodbCmpMem is the collector info_schema.innodb_cmpmem: InnoDB's
// buffer pool blocks of compressed pages.
type innodbCmpMem struct{}

func (innodbCmpMem) name() string        { return "info_schema.innodb_cmpmem" }
func (innodbCmpMem) minVersion() float64 { return 5.5 }

func (innodbCmpMem) scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, _ hclog.Logger) error {
	rows, err := db.QueryContext(ctx, `SELECT page_size, buffer_pool_instance, pages_used, pages_free, relocation_ops, relocation_time
		FROM information_schema.innodb_cmpmem`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pageSize, bufferPool               string
			used, free, relocOps, relocTimeMil float64
		)
		if err := rows.Scan(&pageSize, &bufferPool, &used, &free, &relocOps, &relocTimeMil); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(innodbCmpMemPagesUsedDesc, prometheus.CounterValue, used, pageSize, bufferPool)
		ch <- prometheus.MustNewConstMetric(innodbCmpMemPagesFreeDesc, prometheus.CounterValue, free, pageSize, bufferPool)
		ch <- prometheus.MustNewConstMetric(innodbCmpMemRelocationOpsDesc, prometheus.CounterValue, relocOps, pageSize, bufferPool)
		ch <- prometheus.MustNewConstMetric(innodbCmpMemRelocationTimeDesc, prometheus.CounterValue, relocTimeMil/1000, pageSize, bufferPool)
	}
	return rows.Err()
}

// The histograms of information_schema.query_response_time and its read
// and write tables (Percona Server's and MariaDB's
// QUERY_RESPONSE_TIME plugin).
var queryResponseTimeTables = []struct {
	query string
	desc  *prometheus.Desc
}{
	{"SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME",
		prometheus.NewDesc("mysql_info_schema_query_response_time_seconds", "The number of all queries by duration they took to execute.", nil, nil)},
	{"SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME_READ",
		prometheus.NewDesc("mysql_info_schema_read_query_response_time_seconds", "The number of read queries by duration they took to execute.", nil, nil)},
	{"SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME_WRITE",
		prometheus.NewDesc("mysql_info_schema_write_query_response_time_seconds", "The number of write queries by duration they took to execute.", nil, nil)},
}

// queryResponseTime is the collector info_schema.query_response_time:
// the distribution of query times, where the server's plugin collects it
// (query_response_time_stats ON); elsewhere it reports nothing.
type queryResponseTime struct{}

func (queryResponseTime) name() string        { return "info_schema.query_response_time" }
func (queryResponseTime) minVersion() float64 { return 5.5 }

func (queryResponseTime) scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, logger hclog.Logger) error {
	var on uint8
	if err := db.QueryRowContext(ctx, "SELECT @@query_response_time_stats").Scan(&on); err != nil {
		logger.Debug("query response time distribution is not available", "error", err)
		return nil
	}
	if on == 0 {
		return nil
	}
	for i, t := range queryResponseTimeTables {
		if err := sendQueryResponseTime(ctx, db, ch, t.query, t.desc); err != nil && i == 0 {
			return err
		}
	}
	return nil
}

// sendQueryResponseTime sends one table as a histogram: each row is a
// bucket with its upper bound in seconds, its count and its total time.
func sendQueryResponseTime(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, query string, desc *prometheus.Desc) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		count   uint64
		sum     float64
		buckets = map[float64]uint64{}
	)
	for rows.Next() {
		var (
			bound, total string
			n            uint64
		)
		if err := rows.Scan(&bound, &n, &total); err != nil {
			return err
		}
		le, _ := strconv.ParseFloat(strings.TrimSpace(bound), 64)
		t, _ := strconv.ParseFloat(strings.TrimSpace(total), 64)
		count += n
		sum += t
		if le == 0 {
			continue // the TOO LONG row: only in +Inf
		}
		buckets[le] = count
	}
	if err := rows.Err(); err != nil {
		return err
	}
	ch <- prometheus.MustNewConstHistogram(desc, count, sum, buckets)
	return nil
}
