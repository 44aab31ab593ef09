package main

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

// collectorNames are the collectors of windows_exporter the plugin runs,
// each a package of its pkg/collector; by default all of them.
var collectorNames = []string{"cpu", "cs", "logical_disk", "memory", "net", "os", "service", "system"}

// The attributes that are not an option of a collector.
const (
	attrCollectors      = "collectors"
	attrExporterMetrics = "exporter_metrics"
	attrTimeoutMargin   = "scrape_timeout_margin"
)

// optionKind is the type of an option's flag.
type optionKind int

// The kinds of options.
const (
	kindRegexp optionKind = iota // a string holding a regular expression
	kindString
	kindBool
)

// option is a flag of windows_exporter's collectors as a config
// attribute, named after the flag as the node exporter names
// node_exporter's: collector.net.nic-exclude is net_nic_exclude.
type option struct {
	attr string // the config attribute
	flag string // windows_exporter's flag, without its leading "--"
	kind optionKind
	help string // windows_exporter's help text
	def  any    // the flag's default, as the attribute's value (string or bool)
}

// options are the options of the plugin's collectors: every flag that
// windows_exporter v0.27's cpu, cs, logical_disk, memory, net, os,
// service and system collectors register. A Windows test checks them
// against the flags the collector package registers.
var options = []option{
	{"logical_disk_volume_exclude", "collector.logical_disk.volume-exclude", kindRegexp,
		"Regexp of volumes to exclude. Volume name must both match include and not match exclude to be included.", ""},
	{"logical_disk_volume_include", "collector.logical_disk.volume-include", kindRegexp,
		"Regexp of volumes to include. Volume name must both match include and not match exclude to be included.", ".+"},
	{"net_nic_exclude", "collector.net.nic-exclude", kindRegexp,
		"Regexp of NIC:s to exclude. NIC name must both match include and not match exclude to be included.", ""},
	{"net_nic_include", "collector.net.nic-include", kindRegexp,
		"Regexp of NIC:s to include. NIC name must both match include and not match exclude to be included.", ".+"},
	{"service_services_where", "collector.service.services-where", kindString,
		"WQL 'where' clause to use in WMI metrics query. Limits the response to the services you specify and reduces the size of the response.", ""},
	{"service_use_api", "collector.service.use-api", kindBool,
		"Use API calls to collect service data instead of WMI. Flag 'collector.service.services-where' won't be effective.", false},
	{"service_v2", "collector.service.v2", kindBool,
		"Enable V2 service collector. This collector can services state much more efficiently, can't provide general service information.", false},
}

// defaultTimeoutMargin is windows_exporter's --scrape.timeout-margin.
const defaultTimeoutMargin = 0.5

// schema declares the config attributes: the collectors to run, the
// exporter's own metrics, the timeout margin and the collectors' options.
var schema = newSchema()

// newSchema returns the schema, the options with windows_exporter's
// defaults.
func newSchema() sdk.Schema {
	s := sdk.Schema{
		sdk.StringList(attrCollectors, "The collectors to run, of "+strings.Join(collectorNames, ", ")+"; by default all of them.",
			sdk.Default(slices.Clone(collectorNames))),
		sdk.Bool(attrExporterMetrics, "Whether to report windows_exporter_build_info and the process_* and go_* metrics of the plugin's process, "+
			"as windows_exporter reports its own unless --web.disable-exporter-metrics.", sdk.Default(true)),
		sdk.Number(attrTimeoutMargin, "Seconds to take off the time the host gives a collection, for the collectors' deadline: "+
			"a collector still running then is reported with windows_exporter_collector_timeout 1. windows_exporter's --scrape.timeout-margin.",
			sdk.Default(defaultTimeoutMargin)),
	}
	for _, o := range options {
		desc := strings.TrimSuffix(o.help, ".") + ". windows_exporter's --" + o.flag + "."
		switch o.kind {
		case kindBool:
			s = append(s, sdk.Bool(o.attr, desc, sdk.Default(o.def)))
		default:
			s = append(s, sdk.String(o.attr, desc, sdk.Default(o.def)))
		}
	}
	return s
}

// config is the plugin's config, checked.
type config struct {
	// collectors are the collectors to run, in the order of their names.
	collectors []string
	// args are windows_exporter's flags for the options that are not at
	// their default.
	args []string
	// exporterMetrics says whether to report the exporter's own metrics.
	exporterMetrics bool
	// timeoutMargin is the seconds taken off a collection's time for the
	// collectors' deadline.
	timeoutMargin float64
}

// parseConfig checks cfg and turns it into windows_exporter's flags.
// Every collector named must be one of collectorNames, once, and there
// must be one at least; every
// regular expression must be one, as windows_exporter anchors it; the
// service collector takes one way to collect.
func parseConfig(cfg sdk.Config) (*config, error) {
	c := &config{exporterMetrics: cfg.Bool(attrExporterMetrics), timeoutMargin: cfg.Number(attrTimeoutMargin)}
	names := cfg.StringList(attrCollectors)
	for i, name := range names {
		if !slices.Contains(collectorNames, name) {
			return nil, sdk.AttributeErrorf(attrCollectors, "no collector is called %q; there are %s", name, strings.Join(collectorNames, ", "))
		}
		if slices.Contains(names[:i], name) {
			return nil, sdk.AttributeErrorf(attrCollectors, "collector %q is listed twice", name)
		}
	}
	for _, name := range collectorNames {
		if slices.Contains(names, name) {
			c.collectors = append(c.collectors, name)
		}
	}
	if len(c.collectors) == 0 {
		// With none, windows_exporter would still take a snapshot of
		// the performance counters on each collection, for nothing.
		return nil, sdk.AttributeErrorf(attrCollectors, "no collector to run; there are %s", strings.Join(collectorNames, ", "))
	}
	if m := c.timeoutMargin; m < 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return nil, sdk.AttributeErrorf(attrTimeoutMargin, "want 0 or more seconds, got %v", m)
	}
	if cfg.Bool("service_use_api") && cfg.Bool("service_v2") {
		return nil, sdk.AttributeErrorf("service_v2", "service_use_api is also set: each chooses how the service collector collects, and it takes one")
	}
	for _, o := range options {
		switch o.kind {
		case kindBool:
			v := cfg.Bool(o.attr)
			if v == o.def {
				continue
			}
			if v {
				c.args = append(c.args, "--"+o.flag)
			} else {
				c.args = append(c.args, "--no-"+o.flag)
			}
		default:
			v := cfg.String(o.attr)
			if o.kind == kindRegexp {
				// windows_exporter matches whole names: it compiles ^(?:v)$.
				if _, err := regexp.Compile("^(?:" + v + ")$"); err != nil {
					return nil, sdk.AttributeErrorf(o.attr, "not a regular expression: %v", unwrapRegexpError(err))
				}
			}
			if v != o.def {
				c.args = append(c.args, "--"+o.flag+"="+v)
			}
		}
	}
	return c, nil
}

// unwrapRegexpError is the part of a regexp error that says what is
// wrong, without the anchors parseConfig adds.
func unwrapRegexpError(err error) error {
	var re *syntax.Error
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %s", re.Code, strconv.Quote(strings.TrimSuffix(strings.TrimPrefix(re.Expr, "^(?:"), ")$")))
	}
	return err
}

// attributeOf turns an error of windows_exporter's that names one of its
// flags into an error naming the flag's attribute, so that the config's
// check points at its line.
func attributeOf(err error) error {
	msg := err.Error()
	var found *option
	for i, o := range options {
		if strings.Contains(msg, o.flag) && (found == nil || len(o.flag) > len(found.flag)) {
			found = &options[i]
		}
	}
	if found == nil {
		return err
	}
	return sdk.AttributeErrorf(found.attr, "windows_exporter: %v", err)
}
