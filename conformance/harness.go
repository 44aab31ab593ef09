package conformance

import (
	"testing"

	"github.com/vigilmon/vigil/sdk"
)

// Exporter runs the suite's checks for exporters against target, each as
// a subtest named by its ID: a failed MUST check fails the test, a
// failed SHOULD check is logged, a skipped check says why. Call it from
// a plugin's own test; opts, at most one, set a config and bounds (its
// Kind is ignored: the function says the kind). The test fails at once
// only when the suite cannot run at all.
func Exporter(t *testing.T, target Target, opts ...Options) {
	t.Helper()
	test(t, sdk.KindExporter, target, opts)
}

// Discoverer runs the suite's checks for discoverers against target, as
// Exporter does.
func Discoverer(t *testing.T, target Target, opts ...Options) {
	t.Helper()
	test(t, sdk.KindDiscoverer, target, opts)
}

// Notifier runs the suite's checks for notifiers against target, as
// Exporter does.
func Notifier(t *testing.T, target Target, opts ...Options) {
	t.Helper()
	test(t, sdk.KindNotifier, target, opts)
}

func test(t *testing.T, kind sdk.Kind, target Target, opts []Options) {
	t.Helper()
	var o Options
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		t.Fatalf("conformance: give at most one Options, not %d", len(opts))
	}
	o.Kind = kind
	ctx := t.Context()
	s, err := newSession(ctx, target, o)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	defer s.close()
	for _, c := range s.checks() {
		t.Run(c.ID, func(t *testing.T) {
			res := s.run(c)
			report(t, res)
		})
	}
}

// report turns a result into the subtest's outcome.
func report(t *testing.T, res Result) {
	t.Helper()
	switch {
	case res.Status == Skip:
		t.Skip(res.Detail)
	case res.Status == Fail && res.Level == Must:
		t.Errorf("MUST: %s\n%s", res.Reason, res.Detail)
	case res.Status == Fail:
		t.Logf("SHOULD (not failing the test): %s\n%s", res.Reason, res.Detail)
	}
}
