package harness

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// HumanBytes formats a byte count in GiB, MiB, KiB or bytes.
func HumanBytes(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case math.Abs(x) >= 1<<30:
		return fmt.Sprintf("%.2f GiB", x/(1<<30))
	case math.Abs(x) >= 1<<20:
		return fmt.Sprintf("%.1f MiB", x/(1<<20))
	case math.Abs(x) >= 1<<10:
		return fmt.Sprintf("%.1f KiB", x/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", x)
	}
}

// FormatRatio prints a ratio with two decimals, n/a when it is not a
// finite number.
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", r)
}

// FormatDuration formats a duration as 412us, 12.34ms or 1.23s, n/a when
// it is negative.
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "n/a"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fus", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// Seconds returns d in seconds, for a table's value, and NaN when d is
// negative: a figure that was not measured.
func Seconds(d time.Duration) float64 {
	if d < 0 {
		return math.NaN()
	}
	return d.Seconds()
}

// FormatSeconds formats a time in seconds as FormatDuration does, n/a
// when it is not a number.
func FormatSeconds(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return FormatDuration(time.Duration(x * float64(time.Second)))
}

// HumanCount formats a count: 950, 12.3k, 100k, 11.95M, 2M; n/a when it
// is not a number.
func HumanCount(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case math.Abs(x) >= 1e6:
		return wholeOrDecimals(fmt.Sprintf("%.2f", x/1e6)) + "M"
	case math.Abs(x) >= 1e3:
		return wholeOrDecimals(fmt.Sprintf("%.1f", x/1e3)) + "k"
	default:
		return fmt.Sprintf("%.0f", x)
	}
}

// wholeOrDecimals drops the decimals of a number when they are all zeros:
// 100.0 is 100, 1.50 stays.
func wholeOrDecimals(s string) string {
	if whole, decimals, ok := strings.Cut(s, "."); ok && strings.Trim(decimals, "0") == "" {
		return whole
	}
	return s
}

// Which way a figure improves, as the tables say beside every figure the
// last line carries.
const (
	HigherIsBetter = "(higher is better)"
	LowerIsBetter  = "(lower is better)"
)

// Ratio is one key of a benchmark's last line and its value.
type Ratio struct {
	// Key names the figure, as cpu or latency.
	Key string
	// Value is Vigil's figure divided by the anchor's.
	Value float64
}

// RatioLine returns a benchmark's last line,
//
//	<name> ratios (<over>): key=value ...
//
// over saying what is divided by what (vigil/<anchor>), every value with
// two decimals, n/a when it is not a number. The table above the line
// says for each key whether higher or lower is better.
func RatioLine(name, over string, ratios ...Ratio) string {
	return fmt.Sprintf("%s ratios (%s):%s", name, over, FormatRatios(ratios...))
}

// FormatRatios returns " key=value" for each ratio, in order, every value
// with two decimals, n/a when it is not a number: the end of a last line
// whose head RatioLine does not write.
func FormatRatios(ratios ...Ratio) string {
	var b strings.Builder
	for _, r := range ratios {
		fmt.Fprintf(&b, " %s=%s", r.Key, FormatRatio(r.Value))
	}
	return b.String()
}
