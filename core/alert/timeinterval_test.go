package alert

import (
	"testing"
	"time"

	"github.com/vigilmon/vigil/hclconfig"
)

func TestContainsTime(t *testing.T) {
	cfg := routeConfig(t, `
time_interval "business" {
  times {
    start_time = "09:00"
    end_time   = "17:00"
  }
  weekdays = ["monday:friday"]
  location = "Europe/Berlin"
}
time_interval "month_ends" {
  days_of_month = ["-2:-1", "1"]
}
time_interval "q1_2026" {
  months = ["january:march"]
  years  = ["2026"]
}
time_interval "late" {
  days_of_month = ["30:31"]
}
time_interval "always" {}
`)
	byName := map[string]*hclconfig.TimeInterval{}
	for _, ti := range cfg.TimeIntervals {
		byName[ti.Name] = ti
	}
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	for _, tc := range []struct {
		interval string
		t        time.Time
		want     bool
	}{
		// 2026-03-02 is a Monday; Berlin is UTC+1 in winter.
		{"business", utc(2026, 3, 2, 8, 0), true},    // 09:00 in Berlin
		{"business", utc(2026, 3, 2, 7, 59), false},  // 08:59 in Berlin
		{"business", utc(2026, 3, 2, 16, 0), false},  // 17:00: the end is excluded
		{"business", utc(2026, 3, 2, 15, 59), true},  // 16:59
		{"business", utc(2026, 3, 7, 10, 0), false},  // a Saturday
		{"business", utc(2026, 7, 6, 7, 30), true},   // summer: UTC+2, 09:30 on a Monday
		{"month_ends", utc(2026, 2, 27, 0, 0), true}, // February has 28 days
		{"month_ends", utc(2026, 2, 26, 0, 0), false},
		{"month_ends", utc(2026, 3, 30, 0, 0), true},
		{"month_ends", utc(2026, 3, 29, 0, 0), false},
		{"month_ends", utc(2026, 4, 1, 0, 0), true},
		{"late", utc(2026, 2, 28, 0, 0), false}, // no 30th in February
		{"late", utc(2026, 4, 30, 0, 0), true},
		{"q1_2026", utc(2026, 3, 31, 23, 59), true},
		{"q1_2026", utc(2026, 4, 1, 0, 0), false},
		{"q1_2026", utc(2027, 1, 1, 0, 0), false},
		{"always", utc(1999, 12, 31, 23, 59), true},
	} {
		if got := ContainsTime(byName[tc.interval], tc.t); got != tc.want {
			t.Errorf("%s at %s: %v, want %v", tc.interval, tc.t, got, tc.want)
		}
	}
	// Without a location, a time is read in UTC, whatever its zone.
	tokyo := time.FixedZone("JST", 9*3600)
	if !ContainsTime(byName["q1_2026"], time.Date(2026, 4, 1, 8, 0, 0, 0, tokyo)) {
		t.Error("the time was not read in UTC")
	}
}
