package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockWait is how long a command waits for another one that holds the
// lock file.
const lockWait = time.Minute

// errLocked says that another process holds the lock.
var errLocked = errors.New("held by another process")

// exclusive takes the lock that serialises the commands changing the lock
// file and the plugin directory: an advisory lock on LOCKFILE.lock, which
// the operating system releases when the process ends. It waits for
// another command that holds it, up to lockWait or the end of ctx, and
// returns the function that releases it.
func (in *Installer) exclusive(ctx context.Context) (func(), error) {
	path := in.LockFile + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the folder of %q: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open %q: %w", path, err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := tryLock(f)
		if err == nil {
			return func() {
				unlock(f)
				f.Close()
			}, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("cannot lock %q: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%q is held by another vigil plugin command; still after %s", path, lockWait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for %q: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
