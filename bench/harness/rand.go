package harness

import "math"

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

// Rand is a deterministic generator of pseudo-random numbers (splitmix64):
// seeded alike, for example with Mix, it gives the same numbers in every
// run. Its zero value is usable.
type Rand uint64

// Float64 returns a number in [0, 1) and advances r.
func (r *Rand) Float64() float64 {
	*r = Rand(Splitmix(uint64(*r)))
	return float64(uint64(*r)>>11) / (1 << 53)
}

// The value models of the synthetic exporters that scrape's fixture and
// the plugins' producer serve: counters with uneven whole increments,
// gauges that walk by whole or by float steps.

// CounterStep returns the next increment of a counter: a whole number
// below 50, or a tenth of the time 0.
func (r *Rand) CounterStep() float64 {
	if r.Float64() >= 0.1 {
		return math.Floor(r.Float64() * 50)
	}
	return 0
}

// IntWalk returns v moved by a whole step from -2 to 2, never below 0, as
// a queue length moves.
func (r *Rand) IntWalk(v float64) float64 {
	return math.Max(0, v+math.Floor(r.Float64()*5)-2)
}

// FloatWalk returns v moved by a step of up to 0.15 either way, as a
// temperature moves.
func (r *Rand) FloatWalk(v float64) float64 {
	return v + (r.Float64()-0.5)*0.3
}
