// Package discoverytest helps test a discovery plugin's Discoverer in
// process: Run streams its updates into a channel until the test ends,
// Next takes one, and LogBuffer collects the logs it writes.
package discoverytest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

// Wait bounds how long Next waits for an update, and how long Run's
// cleanup waits for Discover to return once cancelled.
const Wait = 10 * time.Second

// Run runs d.Discover, for at most a minute, and returns its updates.
// When the test ends, Discover is cancelled; the test fails unless it
// then returns nil within Wait.
func Run(t testing.TB, d sdk.Discoverer) <-chan []sdk.TargetGroup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	updates := make(chan []sdk.TargetGroup, 100)
	done := make(chan error, 1)
	go func() {
		done <- d.Discover(ctx, func(groups []sdk.TargetGroup) error {
			select {
			case updates <- groups:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Discover returned %v after cancel", err)
			}
		case <-time.After(Wait):
			t.Error("Discover did not return after cancel")
		}
	})
	return updates
}

// Next returns the next update, failing the test when none comes within
// Wait.
func Next(t testing.TB, updates <-chan []sdk.TargetGroup) []sdk.TargetGroup {
	t.Helper()
	select {
	case u := <-updates:
		return u
	case <-time.After(Wait):
		t.Fatal("no update")
		return nil
	}
}

// LogBuffer is a log sink a test reads while the discoverer writes.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
