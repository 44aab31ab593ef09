package harness

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile of ds (nearest rank), -1 when ds
// is empty.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
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
