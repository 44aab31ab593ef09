package harness

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
