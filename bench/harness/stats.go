package harness

import (
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

// Median returns the middle of ds, the upper one of the two middles when
// their number is even; -1 when ds is empty.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
