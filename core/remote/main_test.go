package remote

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: a closed sender
// must have stopped its queues and watchers.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
