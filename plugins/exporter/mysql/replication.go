package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// slaveStatusLabels are the labels of every mysql_slave_status_* family.
var slaveStatusLabels = []string{"master_host", "master_uuid", "channel_name", "connection_name"}

// slaveStatus is the collector slave_status: SHOW SLAVE STATUS, each
// numeric column a family, for each replication channel.
type slaveStatus struct{}

func (slaveStatus) name() string        { return "slave_status" }
func (slaveStatus) minVersion() float64 { return 5.1 }

func (slaveStatus) scrape(ctx context.Context, db *sql.DB, ch chan<- prometheus.Metric, _ hclog.Logger) error {
	rows, err := slaveStatusRows(ctx, db)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		values := make([]sql.RawBytes, len(cols))
		args := make([]any, len(cols))
		for i := range values {
			args[i] = &values[i]
		}
		if err := rows.Scan(args...); err != nil {
			return err
		}
		column := func(names ...string) string {
			for _, n := range names {
				if i := slices.Index(cols, n); i >= 0 && len(values[i]) > 0 {
					return string(values[i])
				}
			}
			return ""
		}
		labels := []string{
			column("Master_Host", "Source_Host"),
			column("Master_UUID", "Source_UUID"),
			column("Channel_Name"),    // MySQL
			column("Connection_name"), // MariaDB
		}
		for i, col := range cols {
			if v, ok := parseStatus(values[i]); ok {
				ch <- prometheus.MustNewConstMetric(
					prometheus.NewDesc("mysql_slave_status_"+strings.ToLower(col), "Generic metric from SHOW SLAVE STATUS.", slaveStatusLabels, nil),
					prometheus.UntypedValue, v, labels...)
			}
		}
		for _, col := range []string{"Gtid_IO_Pos", "Gtid_Slave_Pos"} {
			sendGtids(ch, col, column(col), labels)
		}
	}
	return rows.Err()
}

// slaveStatusRows runs the first form of the replica status statement
// the server knows: MariaDB's SHOW ALL SLAVES STATUS lists every
// connection, MySQL's SHOW REPLICA STATUS is what 8.4 has.
func slaveStatusRows(ctx context.Context, db *sql.DB) (*sql.Rows, error) {
	var firstErr error
	for _, q := range []string{"SHOW ALL SLAVES STATUS", "SHOW SLAVE STATUS", "SHOW REPLICA STATUS"} {
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			return rows, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// sendGtids sends a MariaDB GTID position, "domain-server-sequence" a
// comma-separated list of them, as one series for each domain and
// server.
func sendGtids(ch chan<- prometheus.Metric, column, value string, labels []string) {
	if value == "" {
		return
	}
	desc := prometheus.NewDesc("mysql_slave_status_"+strings.ToLower(column),
		fmt.Sprintf("%s metric from SHOW SLAVE STATUS.", column),
		append(slices.Clone(slaveStatusLabels), "domain_id", "server_id"), nil)
	for gtid := range strings.SplitSeq(value, ",") {
		parts := strings.Split(strings.TrimSpace(gtid), "-")
		if len(parts) != 3 {
			continue
		}
		seq, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(seq),
			append(slices.Clone(labels), parts[0], parts[1])...)
	}
}
