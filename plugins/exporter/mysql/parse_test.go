package main

import (
	"testing"
	"time"
)

// TestParseStatus reads values as mysqld_exporter does, and refuses the
// text it leaves out.
func TestParseStatus(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]float64{
		"42":                       42,
		"0.25":                     0.25,
		"ON":                       1,
		"Yes":                      1,
		"OFF":                      0,
		"DISABLED":                 0,
		"Connecting":               0,
		"Primary":                  1,
		"non-Primary":              0,
		"2024-03-01 12:00:00":      float64(ts.Unix()),
		"Mar  1 12:00:00 2024 UTC": float64(ts.Unix()),
	} {
		got, ok := parseStatus([]byte(in))
		if !ok || got != want {
			t.Errorf("parseStatus(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "utf8mb4", "mysql-bin.000123", "/var/lib/mysql/", "READ-COMMITTED"} {
		if got, ok := parseStatus([]byte(in)); ok {
			t.Errorf("parseStatus(%q) = %v, want it left out", in, got)
		}
	}
}

// TestNames makes status and variable names parts of metric names.
func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"Innodb_buffer_pool_pages_data": "innodb_buffer_pool_pages_data",
		"Ssl_cipher-list":               "ssl_cipher_list",
		"wsrep.gcache size":             "wsrep_gcache_size",
	} {
		if got := validPrometheusName(in); got != want {
			t.Errorf("validPrometheusName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]float64{
		"base_dir = /x; gcache.size = 128M; gcache.page_size = 1G;": 128 << 20,
		"gcache.size = 2G; x = y;":                                  2 << 30,
		"gcache.size = 4096; x = y;":                                4096,
		"evs.delay_margin = PT1S;":                                  0,
	} {
		if got := gcacheSize(in); got != want {
			t.Errorf("gcacheSize(%q) = %v, want %v", in, got, want)
		}
	}
}
