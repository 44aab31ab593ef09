package conformance_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/sdk"
)

// downExporter reports its target down, with a gauge at 0 named up or
// not, and an error of one line or several.
type downExporter struct {
	upName string
	msg    string
}

func (e downExporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{gaugeFamily(e.upName, nil, 0)}, sdk.TargetDown(errors.New(e.msg))
}

func downPlugin(upName, msg string) *sdk.Plugin {
	return &sdk.Plugin{
		Info:     sdk.Info{Name: "down", Version: "1.0.0", Description: "Its target is down."},
		Exporter: func(sdk.Config) (sdk.Exporter, error) { return downExporter{upName: upName, msg: msg}, nil },
	}
}

// TestTargetErrorChecks runs the suite against exporters whose target is
// down: one as it should be conforms and the report says its target was
// down; one without an up gauge fails the SHOULD check alone; one with
// an error of several lines fails exporter.target-error.
func TestTargetErrorChecks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	report := func(p *sdk.Plugin) conformance.Report {
		rep, err := conformance.Run(ctx, conformance.InProcess(p), conformance.Options{Kind: sdk.KindExporter})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := report(downPlugin("db_up", "dial tcp 127.0.0.1:1: connection refused"))
	if got := failed(rep); len(got) > 0 {
		var b strings.Builder
		conformance.WriteText(&b, rep)
		t.Fatalf("an exporter that reports its target down fails %q\n%s", got, b.String())
	}
	for _, id := range []string{"exporter.collect", "exporter.target-error", "exporter.target-error-up-metric", "exporter.names-valid"} {
		if res, _ := rep.Result(id); res.Status != conformance.Pass {
			t.Errorf("%s: %s %s", id, res.Status, res.Detail)
		}
	}
	if res, _ := rep.Result("exporter.target-error"); !strings.Contains(res.Detail, "2 of 2 collections reported the target down: dial tcp 127.0.0.1:1: connection refused") {
		t.Errorf("exporter.target-error does not say the target was down: %q", res.Detail)
	}

	rep = report(downPlugin("db_available", "refused"))
	if got := failed(rep); !slices.Equal(got, []string{"exporter.target-error-up-metric"}) || rep.Failed() {
		t.Errorf("an exporter without an up gauge: failed %q, report failed %v; want the SHOULD check alone", got, rep.Failed())
	}

	rep = report(downPlugin("db_up", "refused\nand more"))
	if got := failed(rep); !slices.Equal(got, []string{"exporter.target-error"}) || !rep.Failed() {
		t.Errorf("an error of several lines: failed %q", got)
	}

	// An exporter whose target is up passes, saying nothing, and skips
	// the up-metric check.
	ok := slowPlugin
	ok.Exporter = func(sdk.Config) (sdk.Exporter, error) { return fastExporter{}, nil }
	rep = report(&ok)
	if res, _ := rep.Result("exporter.target-error"); res.Status != conformance.Pass || res.Detail != "" {
		t.Errorf("exporter.target-error of an exporter whose target is up: %s %q", res.Status, res.Detail)
	}
	if res, _ := rep.Result("exporter.target-error-up-metric"); res.Status != conformance.Skip {
		t.Errorf("exporter.target-error-up-metric of an exporter whose target is up: %s", res.Status)
	}
}
