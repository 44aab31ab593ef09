package hclconfig

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/config"
)

// TestDefaultOTLPIsPrometheus keeps the otlp block's defaults those of
// Prometheus's otlp section.
func TestDefaultOTLPIsPrometheus(t *testing.T) {
	want := config.DefaultOTLPConfig
	got := DefaultOTLP
	if string(want.TranslationStrategy) != got.TranslationStrategy || want.PromoteAllResourceAttributes != got.PromoteAllResourceAttributes ||
		want.KeepIdentifyingResourceAttributes != got.KeepIdentifyingResourceAttributes || want.ConvertHistogramsToNHCB != got.ConvertHistogramsToNHCB ||
		want.PromoteScopeMetadata != got.PromoteScopeMetadata || want.LabelNameUnderscoreSanitization != got.LabelNameUnderscoreSanitization ||
		want.LabelNamePreserveMultipleUnderscores != got.LabelNamePreserveMultipleUnderscores {
		t.Errorf("DefaultOTLP %+v is not Prometheus's %+v", got, want)
	}
}

// TestOTLPConfig decodes the otlp block and the server's OTLP
// attributes, set and left to their defaults.
func TestOTLPConfig(t *testing.T) {
	for file, want := range map[string]struct {
		server bool
		limit  int64
		otlp   OTLP
	}{
		"testdata/otlp.good.hcl": {server: true, limit: 8 << 20, otlp: OTLP{
			PromoteResourceAttributes:         []string{"service.instance.id", "k8s.namespace.name"},
			TranslationStrategy:               "NoUTF8EscapingWithSuffixes",
			KeepIdentifyingResourceAttributes: true,
			ConvertHistogramsToNHCB:           true,
			PromoteScopeMetadata:              true,
			Delta:                             OTLPDeltaConvert,
		}},
		"testdata/otlp_promote_all.good.hcl": {limit: DefaultOTLPBodySizeLimit, otlp: OTLP{
			PromoteAllResourceAttributes:         true,
			IgnoreResourceAttributes:             []string{"process.pid", "host.id"},
			TranslationStrategy:                  "UnderscoreEscapingWithSuffixes",
			LabelNameUnderscoreSanitization:      true,
			LabelNamePreserveMultipleUnderscores: true,
			Delta:                                OTLPDeltaRefuse,
		}},
		"testdata/empty.good.hcl": {limit: DefaultOTLPBodySizeLimit, otlp: DefaultOTLP},
	} {
		t.Run(file, func(t *testing.T) {
			cfg, diags := Load(file)
			if diags.HasErrors() {
				t.Fatal(diagText(diags))
			}
			if cfg.Server.EnableOTLPReceiver != want.server || cfg.Server.OTLPBodySizeLimit != want.limit {
				t.Errorf("enable_otlp_receiver = %v, otlp_body_size_limit = %d; want %v, %d",
					cfg.Server.EnableOTLPReceiver, cfg.Server.OTLPBodySizeLimit, want.server, want.limit)
			}
			if diff := cmp.Diff(want.otlp, cfg.OTLP); diff != "" {
				t.Errorf("otlp (-want +got):\n%s", diff)
			}
		})
	}
}
