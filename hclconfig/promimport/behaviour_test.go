package promimport

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/model/labels"
	promscrape "github.com/prometheus/prometheus/scrape"

	"github.com/vigilmon/vigil/core/scrape"
	"github.com/vigilmon/vigil/hclconfig"
)

// load converts src and loads the HCL as the server does.
func load(t *testing.T, src string) (*config.Config, *hclconfig.Config) {
	t.Helper()
	registerStandIns() // before the first config.Load, as Convert does
	prom, err := config.Load(src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert([]byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := hclconfig.Parse(filepath.Join(t.TempDir(), "vigil.hcl"), res.HCL)
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags.Error(), res.HCL)
	}
	return prom, cfg
}

// TestTargetsAsPrometheus gives every static target of a converted
// configuration to Vigil's scraper and to Prometheus's: both must make
// the same target of it, or drop it, after the labels of its group and the
// relabel rules.
func TestTargetsAsPrometheus(t *testing.T) {
	prom, cfg := load(t, `
global:
  scrape_interval: 20s
scrape_configs:
  - job_name: node
    metrics_path: /probe
    scheme: https
    params:
      module: [http_2xx]
    static_configs:
      - targets: ["10.0.0.1:9100", "10.0.0.2:9100"]
        labels:
          env: Prod
          dc: one
          price: $5
          __metrics_path__: /metrics
      - targets: ["10.0.1.1:9100"]
        labels:
          env: dev
          drop: "yes"
      - targets: ["10.0.2.1:9100", "web.example.com:443"]
    relabel_configs:
      - source_labels: [drop]
        regex: "yes"
        action: drop
      - source_labels: [env]
        target_label: env
        action: lowercase
      - source_labels: [__address__]
        regex: "([^:]+):(.*)"
        target_label: host
        replacement: "${1}"
      - source_labels: [__address__]
        modulus: 3
        target_label: shard
        action: hashmod
      - source_labels: [__address__]
        target_label: __param_target
      - regex: (d)c
        replacement: ${1}atacenter
        action: labelmap
      - regex: dc
        action: labeldrop
  - job_name: single
    static_configs:
      - targets: ["127.0.0.1:9090"]
        labels:
          job: renamed
          instance: self
`)
	for i, sc := range prom.ScrapeConfigs {
		vigil := cfg.Scrapes[i]
		n := 0
		for _, d := range sc.ServiceDiscoveryConfigs {
			for _, g := range d.(discovery.StaticConfig) {
				for _, target := range g.Targets {
					n++
					want, err := promscrape.PopulateLabels(labels.NewBuilder(labels.EmptyLabels()), sc, target, g.Labels)
					if err != nil {
						t.Fatal(err)
					}
					addr := string(target[model.AddressLabel])
					got, err := scrape.NewTarget(vigil, labels.FromStrings(model.AddressLabel, addr), labels.EmptyLabels())
					if err != nil {
						t.Fatalf("%s %s: %v", sc.JobName, addr, err)
					}
					var gotLabels labels.Labels
					if got != nil {
						gotLabels = got.Labels
					}
					if diff := cmp.Diff(compared(want), compared(gotLabels)); diff != "" {
						t.Errorf("%s %s (-prometheus +vigil):\n%s", sc.JobName, addr, diff)
					}
				}
			}
		}
		if n == 0 {
			t.Fatalf("job %s has no targets", sc.JobName)
		}
	}
}

// compared are the labels that make a target: those of its series and
// those that make its URL.
func compared(lset labels.Labels) map[string]string {
	m := map[string]string{}
	lset.Range(func(l labels.Label) {
		switch {
		case !strings.HasPrefix(l.Name, model.ReservedLabelPrefix), strings.HasPrefix(l.Name, model.ParamLabelPrefix),
			l.Name == model.AddressLabel, l.Name == model.SchemeLabel, l.Name == model.MetricsPathLabel,
			l.Name == model.ScrapeIntervalLabel, l.Name == model.ScrapeTimeoutLabel:
			m[l.Name] = l.Value
		}
	})
	return m
}

// TestExternalLabelsAsPrometheus checks that external labels with
// environment variables come out of the HCL as Prometheus expands them.
func TestExternalLabelsAsPrometheus(t *testing.T) {
	t.Setenv("VIGIL_TEST_CLUSTER", "eu-1")
	t.Setenv("VIGIL_TEST_EMPTY", "")
	prom, cfg := load(t, `
global:
  external_labels:
    cluster: $VIGIL_TEST_CLUSTER
    braces: ${VIGIL_TEST_CLUSTER}
    mixed: a-${VIGIL_TEST_CLUSTER}-$VIGIL_TEST_CLUSTER.b
    dollar: $$5
    empty: x${VIGIL_TEST_EMPTY}y
    quoted: '"${VIGIL_TEST_CLUSTER}" and %{y} \n'
    plain: infra
`)
	if diff := cmp.Diff(prom.GlobalConfig.ExternalLabels.Map(), cfg.Global.ExternalLabels); diff != "" {
		t.Errorf("external labels (-prometheus +vigil):\n%s", diff)
	}
	if l := cfg.Global.ExternalLabels; l["mixed"] != "a-eu-1-eu-1.b" || l["dollar"] != "$5" || l["quoted"] != `"eu-1" and %{y} \n` {
		t.Errorf("external labels: %v", cfg.Global.ExternalLabels)
	}
}
