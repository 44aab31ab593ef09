package conformance_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

// failed lists the IDs of the checks that failed, of any level.
func failed(r conformance.Report) []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == conformance.Fail {
			out = append(out, res.ID)
		}
	}
	return out
}

// run runs the suite and fails the test unless exactly the check want
// fails, and fails at level MUST.
func run(t *testing.T, target conformance.Target, kind sdk.Kind, want string) conformance.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := conformance.Run(ctx, target, conformance.Options{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	if got := failed(rep); !slices.Equal(got, []string{want}) {
		var b strings.Builder
		conformance.WriteText(&b, rep)
		t.Fatalf("failed checks %q, want exactly %q\n%s", got, want, b.String())
	}
	if !rep.Failed() {
		t.Errorf("%s failed, yet the report says the plugin conforms", want)
	}
	return rep
}

// TestBrokenPlugins runs the suite against the plugins of testdata,
// each broken in one way: the suite must catch each, with exactly the
// check it breaks.
func TestBrokenPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the broken plugins")
	}
	cases := map[string]struct {
		kind sdk.Kind
		wasm bool
		want string
	}{
		"counterdown":  {sdk.KindExporter, false, "exporter.counter-monotonic"},
		"badhistogram": {sdk.KindExporter, false, "exporter.histogram-buckets"},
		"noaddress":    {sdk.KindDiscoverer, false, "discovery.target-address"},
		"stdoutnoise":  {sdk.KindNotifier, false, "plugin.stdout-clean"},
		"leaksecret":   {sdk.KindNotifier, false, "plugin.sensitive-redacted"},
		"badversion":   {sdk.KindNotifier, false, "plugin.protocol-version"},
		"slowexit":     {sdk.KindExporter, false, "lifecycle.shutdown"},
		"wasmresolved": {sdk.KindNotifier, true, "notifier.resolved"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pkg := "conformance/testdata/" + name
			target := conformance.Program("")
			if tc.wasm {
				target = wasmTarget(t, pkg)
			} else {
				target.Path = testplugins.Build(t, pkg)
			}
			run(t, target, tc.kind, tc.want)
		})
	}
}

// slowExporter ignores a deadline that is close: it sleeps through it.
type slowExporter struct{}

func (slowExporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) < time.Second {
		time.Sleep(3 * time.Second)
	}
	return []*dto.MetricFamily{{
		Name: proto.String("slow_up"), Help: proto.String("Always 1."), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}},
	}}, nil
}

var slowPlugin = sdk.Plugin{
	Info:     sdk.Info{Name: "slow", Version: "1.0.0", Description: "Ignores short deadlines."},
	Exporter: func(sdk.Config) (sdk.Exporter, error) { return slowExporter{}, nil },
}

// TestInProcessDeadline runs the suite against a plugin in this process
// that ignores its deadline, which only an in-process call can show.
func TestInProcessDeadline(t *testing.T) {
	rep := run(t, conformance.InProcess(&slowPlugin), sdk.KindExporter, "call.deadline")
	for _, id := range []string{"plugin.handshake", "exporter.collect", "lifecycle.restart"} {
		if res, _ := rep.Result(id); res.Status != conformance.Pass {
			t.Errorf("%s: %s %s", id, res.Status, res.Detail)
		}
	}
	if res, _ := rep.Result("plugin.stdout-clean"); res.Status != conformance.Skip {
		t.Errorf("plugin.stdout-clean of an in-process plugin: %s, want skip", res.Status)
	}
}

// TestHarnessInProcess calls the harness as a plugin's test does.
func TestHarnessInProcess(t *testing.T) {
	ok := slowPlugin
	ok.Exporter = func(sdk.Config) (sdk.Exporter, error) { return fastExporter{}, nil }
	conformance.Exporter(t, conformance.InProcess(&ok))
}

type fastExporter struct{}

func (fastExporter) Collect(ctx context.Context) ([]*dto.MetricFamily, error) {
	return slowExporter{}.Collect(context.WithoutCancel(ctx))
}
