package alert

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
)

// Inhibitor applies the inhibit blocks of the configuration. It holds no
// state: the caller passes the alerts firing at the time.
type Inhibitor struct {
	rules []*hclconfig.Inhibit
}

// NewInhibitor returns an Inhibitor of the rules, in the order given.
func NewInhibitor(rules []*hclconfig.Inhibit) *Inhibitor {
	return &Inhibitor{rules: rules}
}

// IsSource says whether lset matches the source_matchers of a rule: only
// such alerts can inhibit others.
func (in *Inhibitor) IsSource(lset labels.Labels) bool {
	for _, r := range in.rules {
		if MatchesAll(r.SourceMatchers, lset) {
			return true
		}
	}
	return false
}

// Inhibited says whether the target alert is inhibited by an alert of
// firing, as Alertmanager decides: by a rule whose target_matchers match
// the target, and a firing alert that matches its source_matchers and has
// the target's values of the equal labels (a label missing on both counts
// as equal). When the target matches the source_matchers too, source
// alerts that also match the target_matchers do not count, so that an
// alert does not inhibit itself nor its peers.
func (in *Inhibitor) Inhibited(target labels.Labels, firing []labels.Labels) bool {
	_, ok := in.Source(target, firing)
	return ok
}

// Source returns the index in firing of the first alert that inhibits
// target, as Inhibited decides, and false when none does.
func (in *Inhibitor) Source(target labels.Labels, firing []labels.Labels) (int, bool) {
	for _, r := range in.rules {
		if !MatchesAll(r.TargetMatchers, target) {
			continue
		}
		twoSided := MatchesAll(r.SourceMatchers, target)
		for i, src := range firing {
			if !MatchesAll(r.SourceMatchers, src) || !equalLabels(r.Equal, src, target) {
				continue
			}
			if twoSided && MatchesAll(r.TargetMatchers, src) {
				continue
			}
			return i, true
		}
	}
	return 0, false
}

func equalLabels(names []string, a, b labels.Labels) bool {
	for _, n := range names {
		if a.Get(n) != b.Get(n) {
			return false
		}
	}
	return true
}
