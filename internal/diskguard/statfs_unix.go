//go:build linux || darwin || freebsd

package diskguard

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// systemFreeSpace is the bytes of dir's filesystem free for an
// unprivileged user, by statfs(2).
var systemFreeSpace = func(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %q: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
