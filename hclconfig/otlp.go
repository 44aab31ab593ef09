package hclconfig

import (
	"slices"
	"strings"

	"github.com/prometheus/otlptranslator"
)

const (
	// OTLPDeltaRefuse and OTLPDeltaConvert are the values of the otlp
	// block's delta: refuse requests with metrics of delta temporality,
	// or convert those to cumulative ones, as Prometheus's
	// --enable-feature=otlp-deltatocumulative.
	OTLPDeltaRefuse  = "refuse"
	OTLPDeltaConvert = "convert"
)

// DefaultOTLP is the otlp block left out: Prometheus's defaults.
var DefaultOTLP = OTLP{
	TranslationStrategy:                  "UnderscoreEscapingWithSuffixes",
	LabelNameUnderscoreSanitization:      true,
	LabelNamePreserveMultipleUnderscores: true,
	Delta:                                OTLPDeltaRefuse,
}

// OTLPTranslationStrategies are the values of the otlp block's
// translation_strategy, Prometheus's, the default first.
var OTLPTranslationStrategies = []string{
	string(otlptranslator.UnderscoreEscapingWithSuffixes),
	string(otlptranslator.UnderscoreEscapingWithoutSuffixes),
	string(otlptranslator.NoUTF8EscapingWithSuffixes),
	string(otlptranslator.NoTranslation),
}

// OTLP is the `otlp` block: how the OTLP receiver (server {
// enable_otlp_receiver = true }) translates OpenTelemetry metrics into
// series, as the otlp section of Prometheus's configuration, whose field
// names it keeps.
type OTLP struct {
	// PromoteAllResourceAttributes makes labels of all resource
	// attributes but IgnoreResourceAttributes; otherwise only
	// PromoteResourceAttributes are.
	PromoteAllResourceAttributes bool
	PromoteResourceAttributes    []string
	IgnoreResourceAttributes     []string
	// TranslationStrategy is one of OTLPTranslationStrategies.
	TranslationStrategy string
	// KeepIdentifyingResourceAttributes keeps service.name,
	// service.namespace and service.instance.id on target_info, beside
	// job and instance.
	KeepIdentifyingResourceAttributes bool
	// ConvertHistogramsToNHCB stores classic OTLP histograms as native
	// histograms with custom buckets.
	ConvertHistogramsToNHCB bool
	// PromoteScopeMetadata makes labels of the instrumentation scope's
	// name, version, schema URL and attributes.
	PromoteScopeMetadata bool
	// LabelNameUnderscoreSanitization and
	// LabelNamePreserveMultipleUnderscores say how attribute names become
	// label names when they are escaped; both are true by default, as in
	// Prometheus.
	LabelNameUnderscoreSanitization      bool
	LabelNamePreserveMultipleUnderscores bool
	// Delta is OTLPDeltaRefuse or OTLPDeltaConvert; it is read when the
	// server starts.
	Delta string
}

var otlpSpec = &block[OTLP]{
	name: "otlp", doc: "How the OTLP receiver (server { enable_otlp_receiver = true }) turns OpenTelemetry metrics into series, as the otlp section of Prometheus's configuration. A reload applies it, but for delta, read when the server starts.",
	attrs: []attr[OTLP]{
		withDefault("promote_all_resource_attributes", boolean, func(o *OTLP) *bool { return &o.PromoteAllResourceAttributes }, false,
			"Whether every resource attribute but those of ignore_resource_attributes becomes a label of every series of the resource; not with promote_resource_attributes."),
		field("promote_resource_attributes", strList, func(o *OTLP) *[]string { return &o.PromoteResourceAttributes },
			"The resource attributes that become labels of every series of the resource, such as \"service.instance.id\" or \"k8s.namespace.name\"."),
		field("ignore_resource_attributes", strList, func(o *OTLP) *[]string { return &o.IgnoreResourceAttributes },
			"The resource attributes that do not become labels; only with promote_all_resource_attributes."),
		withDefault("translation_strategy", str, func(o *OTLP) *string { return &o.TranslationStrategy }, OTLPTranslationStrategies[0],
			"How OTLP names become metric and label names: "+strings.Join(OTLPTranslationStrategies, ", ")+". The ones WithSuffixes add the unit and _total, as in http_server_duration_seconds_bucket; the UnderscoreEscaping ones replace characters other than letters, digits and _ by _."),
		withDefault("keep_identifying_resource_attributes", boolean, func(o *OTLP) *bool { return &o.KeepIdentifyingResourceAttributes }, false,
			"Whether target_info keeps service.name, service.namespace and service.instance.id as labels too, beside job and instance made of them."),
		withDefault("convert_histograms_to_nhcb", boolean, func(o *OTLP) *bool { return &o.ConvertHistogramsToNHCB }, false,
			"Whether OTLP histograms with explicit buckets are stored as native histograms with custom buckets rather than as _bucket, _sum and _count series."),
		withDefault("promote_scope_metadata", boolean, func(o *OTLP) *bool { return &o.PromoteScopeMetadata }, false,
			"Whether the instrumentation scope's name, version, schema URL and attributes become labels (otel_scope_name and so on)."),
		withDefault("label_name_underscore_sanitization", boolean, func(o *OTLP) *bool { return &o.LabelNameUnderscoreSanitization }, true,
			"Whether an escaped label name that starts with one _ gets the prefix key_; Prometheus's default."),
		withDefault("label_name_preserve_multiple_underscores", boolean, func(o *OTLP) *bool { return &o.LabelNamePreserveMultipleUnderscores }, true,
			"Whether escaping keeps several _ in a row in label names rather than making them one; Prometheus's default."),
		withDefault("delta", str, func(o *OTLP) *string { return &o.Delta }, OTLPDeltaRefuse,
			"What is done with sums and histograms of delta temporality: \""+OTLPDeltaRefuse+"\" answers 400 naming them and stores nothing of the request; \""+OTLPDeltaConvert+"\" adds them up into cumulative series in memory, as Prometheus's --enable-feature=otlp-deltatocumulative. Read when the server starts."),
	},
	check: func(s *scope, o *OTLP) {
		if !slices.Contains(OTLPTranslationStrategies, o.TranslationStrategy) {
			s.errorf("translation_strategy", "Invalid translation_strategy", "translation_strategy must be one of %s, not %q.",
				strings.Join(OTLPTranslationStrategies, ", "), o.TranslationStrategy)
		}
		if o.Delta != OTLPDeltaRefuse && o.Delta != OTLPDeltaConvert {
			s.errorf("delta", "Invalid delta", "delta must be %q or %q, not %q.", OTLPDeltaRefuse, OTLPDeltaConvert, o.Delta)
		}
		if o.PromoteAllResourceAttributes && len(o.PromoteResourceAttributes) > 0 {
			s.errorf("promote_resource_attributes", "Conflicting promote_resource_attributes",
				"promote_resource_attributes and promote_all_resource_attributes = true cannot be set together; list what not to promote in ignore_resource_attributes.")
		}
		if !o.PromoteAllResourceAttributes && len(o.IgnoreResourceAttributes) > 0 {
			s.errorf("ignore_resource_attributes", "Invalid ignore_resource_attributes",
				"ignore_resource_attributes needs promote_all_resource_attributes = true.")
		}
		checkAttributeNames(s, "promote_resource_attributes", o.PromoteResourceAttributes)
		checkAttributeNames(s, "ignore_resource_attributes", o.IgnoreResourceAttributes)
	},
}

// checkAttributeNames refuses empty and repeated names in the list of
// resource attributes name.
func checkAttributeNames(s *scope, name string, list []string) {
	seen := map[string]bool{}
	for i, a := range list {
		switch {
		case strings.TrimSpace(a) != a || a == "":
			s.elemErrorf(name, i, "Invalid "+name, "%q is not a resource attribute name: it is empty or starts or ends with spaces.", a)
		case seen[a]:
			s.elemErrorf(name, i, "Invalid "+name, "Resource attribute %q is listed twice.", a)
		}
		seen[a] = true
	}
}
