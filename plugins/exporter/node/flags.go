//go:build linux

package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/alecthomas/kingpin/v2"
	// The collectors register themselves, and their flags, on kingpin's
	// command line when the package is loaded.
	_ "github.com/prometheus/node_exporter/collector"
)

// node_exporter's collector package keeps its settings in command-line
// flags: one --collector.NAME / --no-collector.NAME switch a collector,
// and --collector.NAME.OPTION and --path.X flags for their options. The
// plugin reads them from kingpin's command line, where the package
// registers them, so that its collectors, their defaults and their
// options are node_exporter's, whatever its version.

// collectorSwitch is one of node_exporter's collectors.
type collectorSwitch struct {
	name string
	// enabled says whether node_exporter runs it by default.
	enabled bool
}

// optionKind is the type of an option's flag.
type optionKind int

// The kinds of options.
const (
	kindString optionKind = iota
	kindRegexp            // a string holding a regular expression
	kindBool
	kindInt
	kindDuration // a string holding a Go duration, as time.ParseDuration reads it
	kindList     // a flag that may be repeated
)

// option is a flag of node_exporter's collectors as a config attribute.
type option struct {
	attr string // the config attribute
	flag string // the flag, without its leading "--"
	kind optionKind
	help string
	// def is the flag's default as the attribute's value (string, bool,
	// float64 or []string), or nil for none.
	def any
}

// flags are node_exporter's collectors and options, read once.
var collectorSwitches, options = readFlags(kingpin.CommandLine.Model())

// hiddenOptions are the flags node_exporter hides from its help that are
// options all the same; the other hidden flags are old names it keeps for
// compatibility, or for its own tests.
var hiddenOptions = []string{"collector.filesystem.mount-timeout", "collector.filesystem.stat-workers"}

// readFlags sorts node_exporter's flags into collector switches and
// options, each in the order of their names. The hidden flags but
// hiddenOptions, and the test fixtures, are left out.
func readFlags(app *kingpin.ApplicationModel) ([]collectorSwitch, []option) {
	var (
		switches []collectorSwitch
		opts     []option
	)
	for _, f := range app.Flags {
		if (f.Hidden && !slices.Contains(hiddenOptions, f.Name)) || strings.HasSuffix(f.Name, ".fixtures") {
			continue
		}
		rest, isCollector := strings.CutPrefix(f.Name, "collector.")
		pathName, isPath := strings.CutPrefix(f.Name, "path.")
		switch {
		case isCollector && !strings.Contains(rest, ".") && f.IsBoolFlag():
			switches = append(switches, collectorSwitch{name: rest, enabled: slices.Equal(f.Default, []string{"true"})})
		case isCollector:
			opts = append(opts, newOption(attrName(rest), f))
		case isPath:
			opts = append(opts, newOption(attrName(pathName)+"_path", f))
		}
	}
	slices.SortFunc(switches, func(a, b collectorSwitch) int { return strings.Compare(a.name, b.name) })
	slices.SortFunc(opts, func(a, b option) int { return strings.Compare(a.attr, b.attr) })
	return switches, opts
}

// newOption describes flag f as the attribute attr.
func newOption(attr string, f *kingpin.FlagModel) option {
	o := option{attr: attr, flag: f.Name, help: f.Help}
	def := ""
	if len(f.Default) > 0 {
		def = f.Default[0]
	}
	var value any
	if g, ok := f.Value.(kingpin.Getter); ok {
		value = g.Get()
	}
	if c, ok := f.Value.(interface{ IsCumulative() bool }); ok && c.IsCumulative() {
		value = []string{} // a flag that may be repeated
	}
	switch value.(type) {
	case bool:
		o.kind, o.def = kindBool, def == "true"
	case int:
		o.kind = kindInt
		if n, err := strconv.Atoi(def); err == nil {
			o.def = float64(n)
		}
	case time.Duration:
		o.kind = kindDuration
	case []string:
		o.kind = kindList
		if def != "" {
			o.def = slices.Clone(f.Default)
		}
	default:
		o.kind = kindString
		if strings.Contains(f.Help, "Regexp") || strings.Contains(f.Help, "regular expression") {
			o.kind = kindRegexp
		}
	}
	if o.def == nil && def != "" && (o.kind == kindString || o.kind == kindRegexp || o.kind == kindDuration) {
		o.def = def
	}
	return o
}

// attrName turns a flag's name, without its prefix, into an attribute's:
// "filesystem.mount-points-exclude" is filesystem_mount_points_exclude,
// "bcache.priorityStats" bcache_priority_stats.
func attrName(flag string) string {
	var b strings.Builder
	for i, r := range flag {
		switch {
		case r == '.' || r == '-':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// defaultCollectors returns the names of the collectors node_exporter
// runs by default.
func defaultCollectors() []string {
	var names []string
	for _, c := range collectorSwitches {
		if c.enabled {
			names = append(names, c.name)
		}
	}
	return names
}

// collectorNames returns the names of every collector.
func collectorNames() []string {
	var names []string
	for _, c := range collectorSwitches {
		names = append(names, c.name)
	}
	return names
}

// typeName is how the README writes an option's type.
func (o option) typeName() string {
	switch o.kind {
	case kindRegexp:
		return "string (regular expression)"
	case kindBool:
		return "bool"
	case kindInt:
		return "number"
	case kindDuration:
		return "string (duration)"
	case kindList:
		return "list of string"
	}
	return "string"
}

// defaultText is how the README writes an option's default.
func (o option) defaultText() string {
	switch d := o.def.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(d)
	case float64:
		return strconv.FormatFloat(d, 'f', -1, 64)
	case []string:
		quoted := make([]string, len(d))
		for i, s := range d {
			quoted[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	case string:
		return strconv.Quote(d)
	}
	return fmt.Sprint(o.def)
}
