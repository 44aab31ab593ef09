// Package upstreamtest helps the tests of the discovery plugins built on
// package upstream: Start configures a mechanism's plugin in process and
// runs its Discoverer, and State follows the groups it sends until they
// are what a test waits for.
package upstreamtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/discovery/discoverytest"
)

// Wait bounds how long Await waits for the groups a test expects.
const Wait = 30 * time.Second

// Start configures m's plugin with the attribute values (as JSON decodes
// them) and runs its Discoverer until the test ends.
func Start(t testing.TB, m upstream.Mechanism, values map[string]any) *State {
	t.Helper()
	p := upstream.Plugin(m)
	cfg, err := p.Schema.Values(values)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	d, err := p.Discoverer(cfg)
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	return &State{updates: discoverytest.Run(t, d), groups: map[string]sdk.TargetGroup{}}
}

// State is what a discoverer has sent so far, a group per source.
type State struct {
	updates <-chan []sdk.TargetGroup
	groups  map[string]sdk.TargetGroup
	// Updates counts the updates taken.
	Updates int
}

// Groups returns the groups with targets, by source.
func (s *State) Groups() map[string]sdk.TargetGroup { return maps.Clone(s.groups) }

// Await takes updates until ok holds for the groups with targets, by
// source, and fails the test when that does not happen within Wait.
func (s *State) Await(t testing.TB, what string, ok func(groups map[string]sdk.TargetGroup) bool) {
	t.Helper()
	deadline := time.After(Wait)
	for !ok(s.groups) {
		select {
		case u := <-s.updates:
			s.Updates++
			for _, g := range u {
				if g.Source == "" {
					t.Fatalf("a group without a source: %+v", g)
				}
				if len(g.Targets) == 0 {
					delete(s.groups, g.Source)
				} else {
					s.groups[g.Source] = g
				}
			}
		case <-deadline:
			t.Fatalf("waited %s for %s; the groups are:\n%s", Wait, what, Dump(s.groups))
		}
	}
}

// Addresses returns the sorted __address__ of every target, its own or
// its group's.
func Addresses(groups map[string]sdk.TargetGroup) []string {
	var out []string
	for _, g := range groups {
		for _, tg := range g.Targets {
			a := tg["__address__"]
			if a == "" {
				a = g.Labels["__address__"]
			}
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// HasAddresses returns a condition for Await: the targets' addresses are
// exactly want.
func HasAddresses(want ...string) func(map[string]sdk.TargetGroup) bool {
	slices.Sort(want)
	return func(groups map[string]sdk.TargetGroup) bool { return slices.Equal(Addresses(groups), want) }
}

// Target returns the labels of the target at address, its group's
// labels under its own, or nil.
func Target(groups map[string]sdk.TargetGroup, address string) map[string]string {
	for _, g := range groups {
		for _, tg := range g.Targets {
			if tg["__address__"] == address {
				out := maps.Clone(g.Labels)
				if out == nil {
					out = map[string]string{}
				}
				maps.Copy(out, tg)
				return out
			}
		}
	}
	return nil
}

// Dump writes groups for a failure message.
func Dump(groups map[string]sdk.TargetGroup) string {
	var b strings.Builder
	for _, src := range slices.Sorted(maps.Keys(groups)) {
		j, _ := json.Marshal(groups[src])
		fmt.Fprintf(&b, "%s\n", j)
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}
