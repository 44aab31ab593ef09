package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/sdk"
)

// TestSchema checks the schema: every option is an attribute with
// windows_exporter's default, and the defaults make a config that runs
// every collector with no flag.
func TestSchema(t *testing.T) {
	p := plugin
	if kind, err := p.Kind(); err != nil || kind != sdk.KindExporter {
		t.Fatalf("kind %v, %v", kind, err)
	}
	for _, o := range options {
		a, ok := schema.Attribute(o.attr)
		if !ok {
			t.Errorf("no attribute %s", o.attr)
			continue
		}
		if a.Default != o.def || !strings.Contains(a.Description, "--"+o.flag) {
			t.Errorf("%s: default %#v, description %q; want %#v and the flag --%s", o.attr, a.Default, a.Description, o.def, o.flag)
		}
		if want := strings.NewReplacer(".", "_", "-", "_").Replace(strings.TrimPrefix(o.flag, "collector.")); o.attr != want {
			t.Errorf("option %s is called %s, want %s", o.flag, o.attr, want)
		}
	}
	cfg, err := schema.Values(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.collectors, collectorNames) || c.args != nil || !c.exporterMetrics || c.timeoutMargin != 0.5 {
		t.Errorf("defaults: %+v", c)
	}
}

// TestConfigArgs checks the flags configs become.
func TestConfigArgs(t *testing.T) {
	for _, tc := range []struct {
		name       string
		config     map[string]any
		args       []string
		collectors []string
	}{
		{"defaults given", map[string]any{"collectors": collectorNames, "logical_disk_volume_include": ".+", "net_nic_exclude": "",
			"service_use_api": false}, nil, collectorNames},
		{"some collectors, in order", map[string]any{"collectors": []string{"service", "cpu", "os"}}, nil, []string{"cpu", "os", "service"}},
		{"options", map[string]any{
			"logical_disk_volume_exclude": "HarddiskVolume.*",
			"logical_disk_volume_include": "[C-F]:",
			"net_nic_include":             "Intel.*",
			"net_nic_exclude":             "(?i).*vEthernet.*",
			"service_services_where":      "Name='vigil'",
			"service_v2":                  true,
		}, []string{
			"--collector.logical_disk.volume-exclude=HarddiskVolume.*",
			"--collector.logical_disk.volume-include=[C-F]:",
			"--collector.net.nic-exclude=(?i).*vEthernet.*",
			"--collector.net.nic-include=Intel.*",
			"--collector.service.services-where=Name='vigil'",
			"--collector.service.v2",
		}, collectorNames},
		{"service by the API", map[string]any{"service_use_api": true}, []string{"--collector.service.use-api"}, collectorNames},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := schema.Values(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.args, tc.args) {
				t.Errorf("flags %q, want %q", c.args, tc.args)
			}
			if !slices.Equal(c.collectors, tc.collectors) {
				t.Errorf("collectors %q, want %q", c.collectors, tc.collectors)
			}
		})
	}
	cfg, err := schema.Values(map[string]any{"exporter_metrics": false, "scrape_timeout_margin": 2})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := parseConfig(cfg); err != nil || c.exporterMetrics || c.timeoutMargin != 2 {
		t.Errorf("exporter_metrics = false, scrape_timeout_margin = 2: %+v, %v", c, err)
	}
}

// TestConfigErrors checks that a bad config fails with an error naming
// its attribute.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		config    map[string]any
		attribute string
		message   string
	}{
		{map[string]any{"collectors": []string{"cpu", "physical_disk"}}, "collectors", `no collector is called "physical_disk"; there are cpu, cs,`},
		{map[string]any{"collectors": []string{"cpu", "cpu"}}, "collectors", `collector "cpu" is listed twice`},
		{map[string]any{"collectors": "cpu"}, "collectors", "want list of string"},
		{map[string]any{"collectors": []string{}}, "collectors", "no collector to run"},
		{map[string]any{"logical_disk_volume_exclude": "(C:"}, "logical_disk_volume_exclude", "not a regular expression: missing closing ): \"(C:\""},
		{map[string]any{"logical_disk_volume_include": "*"}, "logical_disk_volume_include", "not a regular expression"},
		{map[string]any{"net_nic_include": "[a"}, "net_nic_include", "not a regular expression"},
		{map[string]any{"net_nic_exclude": `\p{Nope}`}, "net_nic_exclude", "not a regular expression"},
		{map[string]any{"service_use_api": true, "service_v2": true}, "service_v2", "service_use_api is also set"},
		{map[string]any{"service_use_api": "yes"}, "service_use_api", "want bool"},
		{map[string]any{"scrape_timeout_margin": -1}, "scrape_timeout_margin", "want 0 or more seconds"},
		{map[string]any{"net_nic_blocklist": "x"}, "net_nic_blocklist", "no such attribute"},
	} {
		cfg, err := schema.Values(tc.config)
		if err == nil {
			_, err = newExporter(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != tc.attribute || !strings.Contains(ae.Err.Error(), tc.message) {
			t.Errorf("%v: %v, want an error naming %s saying %q", tc.config, err, tc.attribute, tc.message)
		}
	}
}

// TestAttributeOf checks that an error of windows_exporter's naming a
// flag names its attribute instead.
func TestAttributeOf(t *testing.T) {
	err := attributeOf(errors.New("collector.net.nic-exclude: error parsing regexp: missing closing )"))
	var ae *sdk.AttributeError
	if !errors.As(err, &ae) || ae.Attribute != "net_nic_exclude" || !strings.Contains(err.Error(), "windows_exporter: collector.net.nic-exclude") {
		t.Errorf("%v", err)
	}
	err = attributeOf(errors.New("flag collector.service.use-api cannot be repeated"))
	if !errors.As(err, &ae) || ae.Attribute != "service_use_api" {
		t.Errorf("%v", err)
	}
	plain := errors.New("Access denied")
	if err := attributeOf(plain); err != plain {
		t.Errorf("an error naming no flag became %v", err)
	}
}
