package sdk

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0":               0,
		"0s":              0,
		"15s":             15 * time.Second,
		"1h30m":           90 * time.Minute,
		"500ms":           500 * time.Millisecond,
		"15d":             15 * 24 * time.Hour,
		"2w":              14 * 24 * time.Hour,
		"1y":              365 * 24 * time.Hour,
		"1y2w3d4h5m6s7ms": 365*24*time.Hour + 17*24*time.Hour + 4*time.Hour + 5*time.Minute + 6*time.Second + 7*time.Millisecond,
		"90m":             90 * time.Minute,
		"0h1m":            time.Minute,
	} {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "s", "1", "-1s", "1.5h", "1m1h", "1s1s", "1 s", "1S", "1us", "1h ", "293y", "106751d23h47m16s855ms"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                 "0s",
		time.Microsecond:                  "0s",
		1500 * time.Millisecond:           "1s500ms",
		90 * time.Minute:                  "1h30m",
		14 * 24 * time.Hour:               "2w",
		15 * 24 * time.Hour:               "15d",
		365 * 24 * time.Hour:              "1y",
		366 * 24 * time.Hour:              "366d",
		-90 * time.Second:                 "-1m30s",
		26*time.Hour + 3*time.Millisecond: "1d2h3ms",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if d >= 0 && d%time.Millisecond == 0 {
			if back, err := parseDuration(formatDuration(d)); err != nil || back != d {
				t.Errorf("parseDuration(formatDuration(%v)) = %v, %v", d, back, err)
			}
		}
	}
}
