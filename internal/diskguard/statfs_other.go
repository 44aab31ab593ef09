//go:build !(linux || darwin || freebsd)

package diskguard

// systemFreeSpace is nil where Vigil does not read the free space of a
// filesystem: the guard is off there.
var systemFreeSpace func(dir string) (uint64, error)
