package discovery

import (
	"maps"
	"slices"

	"github.com/vigilmon/vigil/sdk"
)

// Tracker remembers the groups a Discover call has sent, per origin (a
// file, a URL, whatever a discoverer reads its groups from), so that each
// update carries only the groups that are new or changed, and the groups
// that vanished, with their Source and no targets, as Prometheus's
// discoverers send them. The zero Tracker is ready to use; it is not safe
// for concurrent use. A Discover call keeps its own, so that a new call
// sends everything again.
type Tracker struct {
	origins map[string][]sdk.TargetGroup
}

// Set makes groups the current groups of origin and returns the update
// to send: the groups that differ from those last set for origin (all of
// them the first time), then a group with no targets for each Source that
// origin had and no longer has. The tracker keeps groups; the caller must
// not change them afterwards. An origin whose read failed should not be
// Set, so that its last groups stay.
func (t *Tracker) Set(origin string, groups []sdk.TargetGroup) []sdk.TargetGroup {
	if t.origins == nil {
		t.origins = map[string][]sdk.TargetGroup{}
	}
	prev := make(map[string]sdk.TargetGroup, len(t.origins[origin]))
	for _, g := range t.origins[origin] {
		prev[g.Source] = g
	}
	var update []sdk.TargetGroup
	current := make(map[string]bool, len(groups))
	for _, g := range groups {
		current[g.Source] = true
		if old, ok := prev[g.Source]; ok && Equal(old, g) {
			continue
		}
		update = append(update, g)
	}
	for _, g := range t.origins[origin] {
		if !current[g.Source] {
			update = append(update, sdk.TargetGroup{Source: g.Source})
		}
	}
	t.origins[origin] = groups
	return update
}

// Drop forgets origin, which is gone, and returns a group with no targets
// for each of its sources.
func (t *Tracker) Drop(origin string) []sdk.TargetGroup {
	var update []sdk.TargetGroup
	for _, g := range t.origins[origin] {
		update = append(update, sdk.TargetGroup{Source: g.Source})
	}
	delete(t.origins, origin)
	return update
}

// Origins returns the origins the tracker has groups for, sorted.
func (t *Tracker) Origins() []string {
	return slices.Sorted(maps.Keys(t.origins))
}

// Equal says whether two groups have the same source, labels and targets
// in the same order; a nil map equals an empty one.
func Equal(a, b sdk.TargetGroup) bool {
	return a.Source == b.Source && maps.Equal(a.Labels, b.Labels) &&
		slices.EqualFunc(a.Targets, b.Targets, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}
