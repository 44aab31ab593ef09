//go:build linux

package main

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

// The attributes that choose the collectors; the others are options of
// node_exporter's collectors, one for each of its flags (see flags.go).
const (
	attrCollectors        = "collectors"
	attrEnableCollectors  = "enable_collectors"
	attrDisableCollectors = "disable_collectors"
	attrExporterMetrics   = "exporter_metrics"
)

// pathAttributes are the options naming a folder that must exist.
var pathAttributes = []string{"procfs_path", "sysfs_path", "rootfs_path"}

// schema declares the config attributes: the collectors to run and the
// options of node_exporter's collectors.
var schema = newSchema()

// newSchema returns the schema: the collector lists, then an attribute
// for each option, with node_exporter's default.
func newSchema() sdk.Schema {
	s := sdk.Schema{
		sdk.StringList(attrCollectors, "The collectors to run; by default those node_exporter runs by default: "+
			strings.Join(defaultCollectors(), ", ")+".", sdk.Default(defaultCollectors())),
		sdk.StringList(attrEnableCollectors, "Collectors to run besides those of collectors, such as systemd or processes."),
		sdk.StringList(attrDisableCollectors, "Collectors of collectors not to run."),
		sdk.Bool(attrExporterMetrics, "Whether to report the process_* and go_* metrics of the process that runs the collectors, "+
			"as node_exporter reports its own unless --web.disable-exporter-metrics.", sdk.Default(true)),
	}
	for _, o := range options {
		desc := strings.TrimSuffix(strings.TrimSpace(o.help), ".") + ". node_exporter's --" + o.flag + "."
		var opts []sdk.AttributeOption
		if o.def != nil {
			opts = append(opts, sdk.Default(o.def))
		}
		switch o.kind {
		case kindBool:
			s = append(s, sdk.Bool(o.attr, desc, opts...))
		case kindInt:
			s = append(s, sdk.Number(o.attr, desc, opts...))
		case kindList:
			s = append(s, sdk.StringList(o.attr, desc, opts...))
		default:
			s = append(s, sdk.String(o.attr, desc, opts...))
		}
	}
	return s
}

// config is the plugin's config, checked: the collectors to run and the
// command line that gives node_exporter's collector package the config.
type config struct {
	// collectors are the collectors to run, in the order of their names.
	collectors []string
	// args are node_exporter's flags: a collector switched on or off, and
	// each option that is not at its default.
	args []string
}

// parseConfig checks cfg and turns it into node_exporter's flags. Every
// collector named must exist, once in a list; every regular expression,
// number and duration must be one; the proc, sys and root paths must be
// folders.
func parseConfig(cfg sdk.Config) (*config, error) {
	run := map[string]bool{}
	lists := map[string][]string{}
	for _, attr := range []string{attrCollectors, attrEnableCollectors, attrDisableCollectors} {
		names := cfg.StringList(attr)
		if err := checkCollectorNames(attr, names); err != nil {
			return nil, err
		}
		lists[attr] = names
	}
	for _, name := range lists[attrEnableCollectors] {
		if slices.Contains(lists[attrDisableCollectors], name) {
			return nil, sdk.AttributeErrorf(attrDisableCollectors, "collector %q is also in %s", name, attrEnableCollectors)
		}
	}
	for _, name := range append(lists[attrCollectors], lists[attrEnableCollectors]...) {
		run[name] = true
	}
	for _, name := range lists[attrDisableCollectors] {
		delete(run, name)
	}

	c := &config{}
	for _, sw := range collectorSwitches {
		switch {
		case run[sw.name] && !sw.enabled:
			c.args = append(c.args, "--collector."+sw.name)
		case !run[sw.name] && sw.enabled:
			c.args = append(c.args, "--no-collector."+sw.name)
		}
		if run[sw.name] {
			c.collectors = append(c.collectors, sw.name)
		}
	}
	if !cfg.Bool(attrExporterMetrics) {
		c.args = append(c.args, "--web.disable-exporter-metrics")
	}
	for _, o := range options {
		if !cfg.Has(o.attr) {
			continue
		}
		args, err := optionArgs(o, cfg)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, args...)
	}
	return c, nil
}

// checkCollectorNames checks that each of names, the value of attr, is a
// collector, named once.
func checkCollectorNames(attr string, names []string) error {
	for i, name := range names {
		if !slices.Contains(collectorNames(), name) {
			return sdk.AttributeErrorf(attr, "no collector is called %q; there are %s", name, strings.Join(collectorNames(), ", "))
		}
		if slices.Contains(names[:i], name) {
			return sdk.AttributeErrorf(attr, "collector %q is listed twice", name)
		}
	}
	return nil
}

// optionArgs checks the value of option o and returns the flags that
// give it to node_exporter: none when it is the default.
func optionArgs(o option, cfg sdk.Config) ([]string, error) {
	switch o.kind {
	case kindBool:
		v := cfg.Bool(o.attr)
		if v == o.def {
			return nil, nil
		}
		if v {
			return []string{"--" + o.flag}, nil
		}
		return []string{"--no-" + o.flag}, nil
	case kindInt:
		v := cfg.Number(o.attr)
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			return nil, sdk.AttributeErrorf(o.attr, "want a whole number, got %v", v)
		}
		if v == o.def {
			return nil, nil
		}
		return []string{"--" + o.flag + "=" + strconv.Itoa(int(v))}, nil
	case kindList:
		v := cfg.StringList(o.attr)
		if def, _ := o.def.([]string); slices.Equal(v, def) {
			return nil, nil
		}
		var args []string
		for _, s := range v {
			args = append(args, "--"+o.flag+"="+s)
		}
		return args, nil
	}
	v := cfg.String(o.attr)
	switch o.kind {
	case kindRegexp:
		if _, err := regexp.Compile(v); err != nil {
			return nil, sdk.AttributeErrorf(o.attr, "not a regular expression: %v", err)
		}
	case kindDuration:
		if _, err := time.ParseDuration(v); err != nil {
			return nil, sdk.AttributeErrorf(o.attr, "%q is not a duration such as \"5s\" or \"1.5m\"", v)
		}
	}
	if slices.Contains(pathAttributes, o.attr) {
		if err := checkFolder(v); err != nil {
			return nil, sdk.AttributeErrorf(o.attr, "cannot use %q: %v", v, err)
		}
	}
	if def, _ := o.def.(string); v == def {
		return nil, nil
	}
	return []string{"--" + o.flag + "=" + v}, nil
}

// checkFolder checks that path is a folder.
func checkFolder(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("not a folder")
	}
	return nil
}
