//go:build unix

package tsdb

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes badger's lock on dir (an exclusive flock on the
// directory, as badger takes it) for what Open does before badger opens
// the store, so that it does not read the files of a store another
// process writes. The function it returns releases it.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot open the data directory %q: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the store in %q is in use by another process", dir)
		}
		return nil, fmt.Errorf("cannot lock the data directory %q: %w", dir, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// syncDir fsyncs a folder, so that the files removed from it stay removed.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot open %q to fsync it: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("cannot fsync %q: %w", dir, err)
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("cannot close %q: %w", dir, err)
	}
	return nil
}
