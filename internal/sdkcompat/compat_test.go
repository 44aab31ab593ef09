package sdkcompat

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/sdk"
)

// durationInputs are strings around every rule of Prometheus's duration
// syntax, and random ones built from its digits and units.
func durationInputs() []string {
	in := []string{
		"", "0", "00", "0s", "s", "1", "-1s", "+1s", "1.5h", "1m1h", "1s1s", "1 s", "1S", "1us", "1h ",
		"15s", "1h30m", "500ms", "15d", "2w", "1y", "1y2w3d4h5m6s7ms", "0h1m", "1ms1s",
		"292y", "293y", "106751d23h47m16s854ms", "106751d23h47m16s855ms", "9223372036854775807ms",
		"9223372036854775808ms", "18446744073709551616s", "1ns", "1h0m", "01m",
	}
	units := []string{"y", "w", "d", "h", "m", "s", "ms", "x", ""}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			fmt.Fprintf(&b, "%d%s", r.IntN(200), units[r.IntN(len(units))])
		}
		in = append(in, b.String())
	}
	return in
}

// TestDurations checks that a plugin's Config reads every duration the
// host's config decoder accepts (model.ParseDuration) as the same value,
// refuses the ones it refuses, and writes it back as model.Duration does.
func TestDurations(t *testing.T) {
	schema := sdk.Schema{sdk.Duration("d", "A duration.")}
	for _, s := range durationInputs() {
		want, wantErr := model.ParseDuration(s)
		cfg, err := schema.Values(map[string]any{"d": s})
		switch {
		case (err != nil) != (wantErr != nil):
			t.Errorf("%q: the SDK says %v, prometheus/common says %v", s, err, wantErr)
			continue
		case err != nil:
			continue
		case cfg.Duration("d") != time.Duration(want):
			t.Errorf("%q: the SDK reads %v, prometheus/common %v", s, cfg.Duration("d"), time.Duration(want))
			continue
		}
		out, err := cfg.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if back["d"] != want.String() {
			t.Errorf("%q: the SDK writes %q, prometheus/common %q", s, back["d"], want.String())
		}
	}
}

// duplicate collects the same series twice, which Gather refuses.
type duplicate struct{ desc *prometheus.Desc }

func (d duplicate) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d duplicate) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, 2)
}

// TestGathererExporter checks that a client_golang registry is an
// sdk.Gatherer, and that its families and its errors come through.
func TestGathererExporter(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_events_total", Help: "Events."}, []string{"kind"})
	c.WithLabelValues("a").Add(3)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_temperature", Help: "A temperature."})
	g.Set(21.5)
	reg.MustRegister(c, g)

	var gatherer prometheus.Gatherer = reg
	families, err := sdk.GathererExporter(gatherer).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 2 || families[0].GetName() != "test_events_total" || families[1].GetName() != "test_temperature" {
		t.Fatalf("families %v", families)
	}
	if v := families[0].Metric[0].GetCounter().GetValue(); v != 3 {
		t.Errorf("counter %v, want 3", v)
	}
	if v := families[1].Metric[0].GetGauge().GetValue(); v != 21.5 {
		t.Errorf("gauge %v, want 21.5", v)
	}

	dup := prometheus.NewRegistry()
	dup.MustRegister(duplicate{prometheus.NewDesc("test_dup", "Twice.", nil, nil)})
	if _, err := sdk.GathererExporter(dup).Collect(context.Background()); err == nil || !strings.Contains(err.Error(), "test_dup") {
		t.Errorf("duplicate series: %v", err)
	}
}
