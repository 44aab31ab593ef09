package main

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newDesc describes a metric without labels named
// mysql_<subsystem>_<name>.
func newDesc(subsystem, name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, nil, nil)
}

// parseStatus reads a status or variable value as a number, as
// mysqld_exporter does: ON, YES and the like are 1, OFF, NO and the like
// 0, a timestamp its Unix time, a number itself. It says false for a
// value that is none of these (a binary log's file name, too), which is
// left out.
func parseStatus(data []byte) (float64, bool) {
	s := string(data)
	switch strings.ToLower(s) {
	case "yes", "on", "primary":
		return 1, true
	case "no", "off", "disabled", "connecting", "non-primary", "disconnected":
		return 0, true
	}
	if ts, err := time.Parse("Jan _2 15:04:05 2006 MST", s); err == nil {
		return float64(ts.Unix()), true
	}
	if ts, err := time.Parse(time.DateTime, s); err == nil {
		return float64(ts.Unix()), true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// nameRE matches what a metric name cannot hold.
var nameRE = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// validPrometheusName makes a status or variable name a part of a metric
// name: lower case, other characters than letters, digits and _ made _.
func validPrometheusName(s string) string {
	return strings.ToLower(nameRE.ReplaceAllString(s, "_"))
}
