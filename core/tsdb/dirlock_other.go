//go:build !unix

package tsdb

// lockDir does nothing where flock is not available: badger's own lock
// guards the store once it opens.
func lockDir(string) (func(), error) { return func() {}, nil }

// syncDir does nothing where a folder cannot be fsynced.
func syncDir(string) error { return nil }
