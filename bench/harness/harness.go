// Package harness holds what the benchmark programs (make bench-*)
// share: a well-spread hash for deterministic workloads, and formatting
// of the figures they print.
package harness

import (
	"fmt"
	"math"
)

// Mix hashes its inputs into a well-spread 64-bit value (splitmix64), so
// a workload derived from a seed is the same in every run.
func Mix(vals ...uint64) uint64 {
	var h uint64 = 0x9e3779b97f4a7c15
	for _, v := range vals {
		h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h = Splitmix(h)
	}
	return h
}

// Splitmix is the finaliser of splitmix64.
func Splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

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
