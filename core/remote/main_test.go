package remote

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: a closed sender
// must have stopped its queues and watchers. Upstream's OTLP handler with
// delta conversion starts the delta-to-cumulative processor's expiry
// loop and never stops it: it lives as long as the handler, the server's
// life.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(
		"github.com/open-telemetry/opentelemetry-collector-contrib/processor/deltatocumulativeprocessor.(*deltaToCumulativeProcessor).Start.func1"))
}
