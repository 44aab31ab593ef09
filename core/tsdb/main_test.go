package tsdb

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: a closed DB must
// have stopped its maintenance loop and badger.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
