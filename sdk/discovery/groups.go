// Package discovery helps discovery plugins give Prometheus's semantics.
//
// StaticGroup is a target group as Prometheus's file_sd and http_sd write
// it, {"targets": [...], "labels": {...}}: DecodeJSON reads a list of
// them, Check validates one, and TargetGroups turns them into the
// sdk.TargetGroup values a Discoverer sends, each with the Source
// "<origin>:<index>". Tracker remembers what was sent for each origin (a
// file, a URL) so that an update carries what changed and, with their
// Source and no targets, the groups that vanished.
//
// Like the rest of the SDK, the package imports nothing of Vigil's core.
package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/vigilmon/vigil/sdk"
)

// AddressLabel is the label that holds a target's host:port.
const AddressLabel = "__address__"

// StaticGroup is one target group as Prometheus's file and HTTP service
// discovery write it. The struct tags serve encoding/json and the YAML
// decoders alike.
type StaticGroup struct {
	// Targets are host:port addresses (the port may be left out, as in
	// Prometheus, for the scheme's default).
	Targets []string `json:"targets" yaml:"targets"`
	// Labels are common to the group's targets.
	Labels map[string]string `json:"labels" yaml:"labels"`
}

// DecodeJSON decodes a JSON list of groups the way Prometheus does: a
// group with a field other than targets and labels, or a null group, is
// an error. Each group is checked with Check.
func DecodeJSON(data []byte) ([]*StaticGroup, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON list of target groups: %w", err)
	}
	groups := make([]*StaticGroup, 0, len(raw))
	for i, r := range raw {
		if string(bytes.TrimSpace(r)) == "null" {
			return nil, fmt.Errorf("target group %d is null", i)
		}
		var g StaticGroup
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&g); err != nil {
			return nil, fmt.Errorf("target group %d: %w", i, err)
		}
		groups = append(groups, &g)
	}
	if err := CheckAll(groups); err != nil {
		return nil, err
	}
	return groups, nil
}

// CheckAll checks each group with Check; a nil group is an error, naming
// its index.
func CheckAll(groups []*StaticGroup) error {
	for i, g := range groups {
		if g == nil {
			return fmt.Errorf("target group %d is null", i)
		}
		if err := g.Check(); err != nil {
			return fmt.Errorf("target group %d: %w", i, err)
		}
	}
	return nil
}

// Check validates a group as Prometheus does: every target is a
// non-empty address, not a URL (no "/"), and every label name is valid
// (non-empty UTF-8, as Prometheus 3 accepts) with a UTF-8 value.
func (g *StaticGroup) Check() error {
	for _, t := range g.Targets {
		if err := CheckAddress(t); err != nil {
			return err
		}
	}
	for name, value := range g.Labels {
		if name == "" || !utf8.ValidString(name) {
			return fmt.Errorf("%q is not a valid label name", name)
		}
		if !utf8.ValidString(value) {
			return fmt.Errorf("the value of label %q is not valid UTF-8", name)
		}
	}
	return nil
}

// CheckAddress validates one target: a host or host:port, never a URL.
func CheckAddress(target string) error {
	switch {
	case strings.TrimSpace(target) == "":
		return errors.New("a target is empty: want host:port")
	case strings.Contains(target, "/"):
		return fmt.Errorf("target %q is not a valid host:port (a URL's scheme and path belong in the scrape config)", target)
	case !utf8.ValidString(target):
		return fmt.Errorf("target %q is not valid UTF-8", target)
	}
	return nil
}

// Source is the Source of the i-th group of origin: "<origin>:<i>", as
// Prometheus names the groups of a file or a URL.
func Source(origin string, i int) string { return fmt.Sprintf("%s:%d", origin, i) }

// TargetGroups converts groups read from origin: group i gets the Source
// Source(origin, i), its labels plus meta (which win), and one target
// per address, holding AddressLabel.
func TargetGroups(origin string, groups []*StaticGroup, meta map[string]string) []sdk.TargetGroup {
	out := make([]sdk.TargetGroup, 0, len(groups))
	for i, g := range groups {
		labels := make(map[string]string, len(g.Labels)+len(meta))
		maps.Copy(labels, g.Labels)
		maps.Copy(labels, meta)
		tg := sdk.TargetGroup{Source: Source(origin, i), Labels: labels, Targets: make([]map[string]string, 0, len(g.Targets))}
		for _, t := range g.Targets {
			tg.Targets = append(tg.Targets, map[string]string{AddressLabel: t})
		}
		out = append(out, tg)
	}
	return out
}
