package hclconfig

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// diagText renders diagnostics as file:line:col: summary; detail lines.
func diagText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "%s; %s\n", d.Summary, d.Detail)
	}
	return b.String()
}

func TestBadConfigs(t *testing.T) {
	for file, want := range map[string]string{
		"unknown_block.bad.hcl":                `unknown_block.bad.hcl:1:1: Unsupported block type; Blocks of type "scrap" are not expected here. Did you mean "scrape"?`,
		"unknown_attribute.bad.hcl":            `unknown_attribute.bad.hcl:3:3: Unsupported argument; An argument named "scrape_intervl" is not expected here. Did you mean "scrape_interval"?`,
		"bad_duration.bad.hcl":                 `bad_duration.bad.hcl:2:21: Invalid duration; "fifteen seconds" is not a valid duration for scrape_interval`,
		"wrong_type.bad.hcl":                   `wrong_type.bad.hcl:2:13: Incorrect attribute value type; Inappropriate value for attribute "targets": list of string required`,
		"bad_regex.bad.hcl":                    `bad_regex.bad.hcl:5:21: Invalid regular expression; error parsing regexp: missing closing )`,
		"duplicate_scrape.bad.hcl":             `duplicate_scrape.bad.hcl:5:8: Duplicate scrape name; A scrape named "self" is already defined at`,
		"relabel_missing_field.bad.hcl":        `relabel_missing_field.bad.hcl:3:3: Invalid relabel block; relabel configuration for hashmod requires non-zero modulus.`,
		"unknown_action.bad.hcl":               `unknown_action.bad.hcl:4:14: Unknown relabel action; "rename" is not a relabel action`,
		"timeout_over_interval.bad.hcl":        `timeout_over_interval.bad.hcl:4:21: Invalid scrape timeout; scrape_timeout (30s) must not exceed scrape_interval (10s) in scrape "self".`,
		"target_with_scheme.bad.hcl":           `target_with_scheme.bad.hcl:2:13: Invalid target; Target "http://127.0.0.1:9090/metrics" must be host:port`,
		"missing_env.bad.hcl":                  `missing_env.bad.hcl:3:18: Error in function call; Call to function "env" failed: environment variable VIGIL_TEST_SURELY_UNSET is not set.`,
		"syntax.bad.hcl":                       `syntax.bad.hcl:2:11: Invalid expression; Expected the start of an expression`,
		"negative_limit.bad.hcl":               `negative_limit.bad.hcl:3:18: Invalid sample_limit; sample_limit must not be negative, got -1.`,
		"zero_concurrency.bad.hcl":             `zero_concurrency.bad.hcl:2:21: Invalid max_concurrency; max_concurrency must be positive.`,
		"remote_write_bad_url.bad.hcl":         `remote_write_bad_url.bad.hcl:2:9: Invalid url; "mimir.example.com/api/v1/push" must start with http:// or https://.`,
		"remote_write_negative_shards.bad.hcl": `remote_write_negative_shards.bad.hcl:4:18: Invalid max_shards; max_shards must not be negative, got -2.`,
		"remote_write_shards_order.bad.hcl":    `remote_write_shards_order.bad.hcl:4:18: Invalid min_shards; min_shards (10) must not exceed max_shards (4).`,
		"remote_write_protobuf.bad.hcl":        `remote_write_protobuf.bad.hcl:3:22: Invalid protobuf_message; protobuf_message must be "prometheus.WriteRequest" or "io.prometheus.write.v2.Request", not "prometheus.WriteRequestV2".`,
		"remote_write_header.bad.hcl":          `remote_write_header.bad.hcl:3:13: Reserved header; Header "Authorization" is set by Vigil or by the authentication settings; a remote_write block must not set it.`,
		"encryption_key_short.bad.hcl":         `encryption_key_short.bad.hcl:2:25: Invalid encryption_key_file; the encryption key file "testdata/short.key" holds 16 hexadecimal digits, not 32, 48 or 64`,
		"remote_write_two_auths.bad.hcl":       `remote_write_two_auths.bad.hcl:1:1: Conflicting authentication; remote_write "mimir" sets bearer_token and basic_auth; choose one.`,
		"remote_write_duplicate.bad.hcl":       `remote_write_duplicate.bad.hcl:5:14: Duplicate remote_write name; A remote_write named "mimir" is already defined at testdata/remote_write_duplicate.bad.hcl:1,14-21; remote_write names must be unique.`,
		"remote_read_bad_url.bad.hcl":          `remote_read_bad_url.bad.hcl:2:9: Invalid url; "archive.example.com:9090/api/v1/read" must start with http:// or https://.`,
		"remote_read_bad_matcher.bad.hcl":      `remote_read_bad_matcher.bad.hcl:3:23: Invalid label name; "" in required_matchers is not a valid label name.`,
		"remote_read_duplicate.bad.hcl":        `remote_read_duplicate.bad.hcl:5:13: Duplicate remote_read name; A remote_read named "archive" is already defined at testdata/remote_read_duplicate.bad.hcl:1,13-22; remote_read names must be unique.`,
		"remote_read_two_auths.bad.hcl":        `remote_read_two_auths.bad.hcl:1:1: Conflicting authentication; remote_read "archive" sets bearer_token and oauth2; choose one.`,
		"remote_read_header.bad.hcl":           `remote_read_header.bad.hcl:3:13: Reserved header; Header "X-Prometheus-Remote-Read-Version" is set by Vigil or by the authentication settings; a remote_read block must not set it.`,
		"remote_read_frame.bad.hcl":            `remote_read_frame.bad.hcl:2:36: Invalid remote_read_max_bytes_in_frame; remote_read_max_bytes_in_frame must be positive.`,
		"otlp_translation_strategy.bad.hcl":    `otlp_translation_strategy.bad.hcl:2:26: Invalid translation_strategy; translation_strategy must be one of UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes, NoTranslation, not "Underscores".`,
		"otlp_delta.bad.hcl":                   `otlp_delta.bad.hcl:2:11: Invalid delta; delta must be "refuse" or "convert", not "keep".`,
		"otlp_promote_conflict.bad.hcl":        `otlp_promote_conflict.bad.hcl:3:37: Conflicting promote_resource_attributes; promote_resource_attributes and promote_all_resource_attributes = true cannot be set together; list what not to promote in ignore_resource_attributes.`,
		"otlp_ignore_alone.bad.hcl":            `otlp_ignore_alone.bad.hcl:2:32: Invalid ignore_resource_attributes; ignore_resource_attributes needs promote_all_resource_attributes = true.`,
		"otlp_promote_twice.bad.hcl":           `otlp_promote_twice.bad.hcl:2:57: Invalid promote_resource_attributes; Resource attribute "host.name" is listed twice.`,
		"otlp_promote_space.bad.hcl":           `otlp_promote_space.bad.hcl:2:47: Invalid promote_resource_attributes; " region" is not a resource attribute name: it is empty or starts or ends with spaces.`,
		"otlp_body_size.bad.hcl":               `otlp_body_size.bad.hcl:2:26: Invalid otlp_body_size_limit; otlp_body_size_limit must be positive.`,
		"unknown_plugin.bad.hcl":               `unknown_plugin.bad.hcl:4:12: Unknown plugin; No plugin block is named "nod". Did you mean "node"?`,
		"unknown_discovery.bad.hcl":            `unknown_discovery.bad.hcl:5:15: Unknown discovery; No discovery block is named "file". Did you mean "files"?`,
		"exporter_job_taken.bad.hcl":           `exporter_job_taken.bad.hcl:5:10: Duplicate scrape name; A scrape named "node" is already defined at testdata/exporter_job_taken.bad.hcl:3,8-14`,
		"exporter_module_no_targets.bad.hcl":   `exporter_module_no_targets.bad.hcl:5:12: Attribute for targets only; module applies to an exporter block with targets or discovery; exporter "web" has neither.`,
		"allow_hosts_not_wasm.bad.hcl":         `allow_hosts_not_wasm.bad.hcl:3:17: Attribute for Wasm plugins only; allow_hosts applies to WebAssembly plugins`,
		"unknown_scrape_protocol.bad.hcl":      `unknown_scrape_protocol.bad.hcl:3:22: Invalid scrape_protocols; "OpenMetrics" is not a scrape protocol; use one of OpenMetricsText0.0.1, OpenMetricsText1.0.0, PrometheusProto, PrometheusText0.0.4, PrometheusText1.0.0.`,
		"duplicate_scrape_protocol.bad.hcl":    `duplicate_scrape_protocol.bad.hcl:2:22: Invalid scrape_protocols; Protocol "PrometheusText0.0.4" is listed twice.`,
		"dashboard_bad_promql.bad.hcl":         `dashboard_bad_promql.bad.hcl:4:14: Invalid PromQL expression; The query of panel "Rate" does not parse: 1:11: parse error: unclosed left parenthesis.`,
		"dashboard_unknown_variable.bad.hcl":   `dashboard_unknown_variable.bad.hcl:7:14: Unknown variable; The query of panel "Up" uses $host, which is not a variable of dashboard "broken".`,
		"dashboard_bad_variable_query.bad.hcl": `dashboard_bad_variable_query.bad.hcl:3:13: Invalid PromQL expression; The query of variable "job" does not parse: 1:8: parse error: unexpected end of input inside braces.`,
		"dashboard_bad_grid.bad.hcl":           `dashboard_bad_grid.bad.hcl:3:12: Invalid grid; A panel is 1 to 24 columns wide and ends by column 24; column 20 and width 8 do not fit.`,
		"dashboard_bad_type.bad.hcl":           `dashboard_bad_type.bad.hcl:3:12: Invalid type; "pie" is not a valid type; use one of timeseries, stat, gauge, bar, table, heatmap.`,
		"dashboard_duplicate.bad.hcl":          `dashboard_duplicate.bad.hcl:4:11: Duplicate dashboard name; A dashboard named "a" is already defined at testdata/dashboard_duplicate.bad.hcl:1,11-14`,
		"dashboard_file_bad.bad.hcl":           `broken.hcl:4:14: Invalid PromQL expression; The query of panel "Sum" does not parse: 1:7: parse error: unclosed left parenthesis.`,
		"rules_bad_expr.bad.hcl":               `rules_bad_expr.bad.hcl:3:12: Invalid PromQL expression; 1:17: parse error: unclosed left parenthesis.`,
		"rules_bad_template.bad.hcl":           `rules_bad_template.bad.hcl:4:19: Invalid template; The template of annotation "summary" does not parse: template: __alert_InstanceDown:1: unclosed action.`,
		"rules_bad_record_name.bad.hcl":        `rules_bad_record_name.bad.hcl:2:10: Invalid metric name; "job:up:sum{job=\"a\"}" is not a valid metric name for a recording rule`,
		"rules_bad_label_name.bad.hcl":         `rules_bad_label_name.bad.hcl:4:14: Invalid label name; "__name__" is not a valid label name for a rule's labels.`,
		"rules_duplicate_group.bad.hcl":        `rules_duplicate_group.bad.hcl:7:7: Duplicate rule group name; A rule group named "example" is already defined at testdata/rules_duplicate_group.bad.hcl:1,7-16`,
		"rules_negative_for.bad.hcl":           `rules_negative_for.bad.hcl:4:12: Invalid for; for must not be negative, got "-5m".`,
		"rules_record_with_for.bad.hcl":        `rules_record_with_for.bad.hcl:4:5: Unsupported argument; An argument named "for" is not expected here.`,
		"rule_file_bad_expr.bad.hcl":           `expr.yml:5:15: Invalid rule file; group "broken", rule 1, "job:up:sum": could not parse expression: 1:17: parse error: unclosed left parenthesis.`,
		"rule_file_syntax.bad.hcl":             `syntax.yml:3:1: Invalid rule file; yaml: line 3: did not find expected '-' indicator.`,
		"rule_file_bad_template.bad.hcl":       `rule_file_bad_template.bad.hcl:1:14: Invalid rule file; testdata/badrules/template.yml: group "broken", rule 1, "Down": annotation "summary": template: __alert_Down:1: unclosed action.`,
		"rule_files_bad_pattern.bad.hcl":       `rule_files_bad_pattern.bad.hcl:1:14: Invalid rule_files pattern; "testdata/rules/[.yml" is not a valid pattern`,
		"route_bad_matcher.bad.hcl":            `route_bad_matcher.bad.hcl:5:35: Invalid matcher; invalid matcher "severity=~\"(page\"" at column 11: error parsing regexp: missing closing )`,
		"route_bad_duration.bad.hcl":           `route_bad_duration.bad.hcl:5:20: Invalid duration; "five minutes" is not a valid duration for group_interval`,
		"route_unknown_receiver.bad.hcl":       `route_unknown_receiver.bad.hcl:6:16: Unknown receiver; No notifier block is named "tema". Did you mean "team"?`,
		"route_unknown_interval.bad.hcl":       `route_unknown_interval.bad.hcl:8:28: Unknown time interval; No time_interval block is named "weekend". Did you mean "weekends"?`,
		"route_root_matchers.bad.hcl":          `route_root_matchers.bad.hcl:5:14: Invalid root route; The root route takes every alert: it must not set matchers.`,
		"route_root_no_receiver.bad.hcl":       `route_root_no_receiver.bad.hcl:1:7: Missing receiver; The root route needs a receiver`,
		"route_duplicate.bad.hcl":              `route_duplicate.bad.hcl:4:1: Duplicate route block; Only one route block is allowed`,
		"route_group_by_all_mixed.bad.hcl":     `route_group_by_all_mixed.bad.hcl:5:22: Invalid group_by; "..." groups by every label and stands alone in group_by.`,
		"inhibit_bad_matcher.bad.hcl":          `inhibit_bad_matcher.bad.hcl:3:22: Invalid matcher; invalid matcher "severity==" at column 9: unknown operator "==".`,
		"time_interval_bad_weekday.bad.hcl":    `time_interval_bad_weekday.bad.hcl:2:15: Invalid weekday range; "monday:fridy" is not a weekday or a range of them such as "monday:friday".`,
		"time_interval_bad_month.bad.hcl":      `time_interval_bad_month.bad.hcl:2:13: Invalid month range; "march:january": the start is after the end.`,
		"time_interval_bad_time.bad.hcl":       `time_interval_bad_time.bad.hcl:2:3: Invalid time range; start_time must be before end_time`,
		"time_interval_bad_clock.bad.hcl":      `time_interval_bad_clock.bad.hcl:3:18: Invalid time; "9:00" is not a time of day for start_time`,
		"time_interval_bad_day.bad.hcl":        `time_interval_bad_day.bad.hcl:2:20: Invalid day of month range; "-3:5": the end day must be negative when the start day is.`,
		"alertmanager_bad_url.bad.hcl":         `alertmanager_bad_url.bad.hcl:2:36: Invalid Alertmanager URL; "127.0.0.1:9093" must start with http:// or https://`,
		"alertmanager_no_urls.bad.hcl":         `alertmanager_no_urls.bad.hcl:2:10: Invalid urls; An alertmanager block needs at least one URL.`,
		"external_url_bad.bad.hcl":             `external_url_bad.bad.hcl:2:18: Invalid external_url; "vigil.example.com" must start with http:// or https://`,
		"route_prefix_bad.bad.hcl":             `route_prefix_bad.bad.hcl:2:18: Invalid route_prefix; route_prefix must be a path that starts with /, such as "/vigil", not "vigil".`,
		"notifier_send_resolved.bad.hcl":       `notifier_send_resolved.bad.hcl:4:19: Incorrect attribute value type; Inappropriate value for attribute "send_resolved": a bool is required.`,
		"time_interval_bad_location.bad.hcl":   `time_interval_bad_location.bad.hcl:3:14: Unknown location; "Europe/Berlinn" is not a time zone`,
		"plugin_env_bad.bad.hcl":               `plugin_env_bad.bad.hcl:3:12: Invalid environment variable name; "HOME=/root" is not the name of an environment variable.`,
		"registry_bad.bad.hcl": `registry_bad.bad.hcl:3:3: Unsupported argument; An argument named "bogus" is not expected here.
registry_bad.bad.hcl:2:11: Invalid registry url; registry URL "42" is not an http:// or https:// URL.`,
		"retention_negative.bad.hcl":           `retention_negative.bad.hcl:2:15: Invalid retention; retention must not be negative, got "-1d".`,
		"max_exemplars_negative.bad.hcl":       `max_exemplars_negative.bad.hcl:2:19: Invalid max_exemplars; max_exemplars must not be negative, got -1.`,
		"push_limits.bad.hcl":                  `push_limits.bad.hcl:3:26: Invalid size; "16 megs" is not a valid size for push_body_size_limit; write it like "10MB" or "512KB".`,
		"series_idle_timeout_zero.bad.hcl":     `series_idle_timeout_zero.bad.hcl:2:25: Invalid series_idle_timeout; series_idle_timeout must be longer than 0s.`,
		"series_idle_timeout_negative.bad.hcl": `series_idle_timeout_negative.bad.hcl:2:25: Invalid series_idle_timeout; series_idle_timeout must not be negative, got "-2h".`,
		"server_auth_empty.bad.hcl":            `server_auth_empty.bad.hcl:2:3: Empty auth block; The auth block has no user, token or jwt block: nobody could use the server.`,
		"server_auth_role.bad.hcl":             `server_auth_role.bad.hcl:5:23: Invalid role; "reader" is not a valid role; use one of viewer, writer, operator, admin.`,
		"server_auth_hash.bad.hcl":             `server_auth_hash.bad.hcl:4:23: Invalid password_hash; The password_hash is not a bcrypt hash`,
		"server_auth_token.bad.hcl":            `server_auth_token.bad.hcl:4:16: Invalid sha256; The sha256 must be a SHA-256 sum, 64 hexadecimal digits`,
		"server_auth_duplicate_user.bad.hcl":   `server_auth_duplicate_user.bad.hcl:7:10: Duplicate user name; A user named "alice" is already defined`,
		"server_jwt_two_sources.bad.hcl":       `server_jwt_two_sources.bad.hcl:3:5: Invalid jwt block; Set one of jwks_file and jwks_url.`,
		"server_jwt_no_audience.bad.hcl":       `server_jwt_no_audience.bad.hcl:3:9: Missing required argument; The argument "audience" is required`,
		"server_tls_client_auth.bad.hcl":       `server_tls_client_auth.bad.hcl:5:24: Invalid client_auth_type; "RequireClientCertificate" is not a valid client_auth_type; use one of NoClientCert,`,
		"server_tls_no_ca.bad.hcl":             `server_tls_no_ca.bad.hcl:2:7: Missing client_ca_file; client_auth_type "RequireAndVerifyClientCert" checks client certificates`,
		"server_tls_unused_ca.bad.hcl":         `server_tls_unused_ca.bad.hcl:5:22: Unused client_ca_file; client_ca_file is set but client_auth_type "NoClientCert" does not check client certificates`,
		"server_tls_version.bad.hcl":           `server_tls_version.bad.hcl:5:19: Invalid min_version; "TLS10" is not a valid min_version; use one of TLS12, TLS13.`,
		"server_tls_cipher.bad.hcl":            `server_tls_cipher.bad.hcl:5:22: Invalid cipher_suites; "TLS_RSA_WITH_RC4_128_SHA" is not a secure TLS 1.2 cipher suite`,
		"server_tls_no_key.bad.hcl":            `server_tls_no_key.bad.hcl:2:7: Missing required argument; The argument "key_file" is required`,
	} {
		t.Run(file, func(t *testing.T) {
			cfg, diags := Load(filepath.Join("testdata", file))
			if !diags.HasErrors() {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("a config came back with errors")
			}
			if got := diagText(diags); !strings.Contains(got, want) {
				t.Fatalf("diagnostics:\n%s\nwant them to contain:\n%s", got, want)
			}
		})
	}
}

func TestGoodConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good configs: %v", err)
	}
	examples, err := filepath.Glob("../examples/*.hcl")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	files = append(files, examples...)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if _, diags := Load(file); diags.HasErrors() {
				t.Fatalf("diagnostics:\n%s", diagText(diags))
			}
		})
	}
}

func TestFullConfig(t *testing.T) {
	cfg, diags := Load("testdata/full.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if cfg.Server.Listen != "127.0.0.1:9191" || cfg.Server.Retention != 15*24*time.Hour || cfg.Server.SeriesIdleTimeout != 3*time.Hour || !cfg.Server.EnableAdminAPI ||
		!cfg.Server.EnablePush || cfg.Server.PushGroupTTL != 6*time.Hour || cfg.Server.PushMaxGroups != 1000 ||
		cfg.Server.PushBodySizeLimit != 1<<20 || cfg.Server.MinFreeDisk != 1<<30 || cfg.Server.RoutePrefix != "/vigil" {
		t.Errorf("server: %+v", cfg.Server)
	}
	if cfg.Global.ScrapeInterval != 15*time.Second || cfg.Global.ScrapeTimeout != 10*time.Second || cfg.Global.ExternalLabels["cluster"] != "dev" {
		t.Errorf("global: %+v", cfg.Global)
	}
	if cfg.Query.Timeout != 30*time.Second || cfg.Query.MaxSamples != 1000000 || cfg.Query.MaxConcurrency != 4 || cfg.Query.LookbackDelta != 10*time.Minute {
		t.Errorf("query: %+v", cfg.Query)
	}
	self, apps := cfg.Scrapes[0], cfg.Scrapes[1]
	if self.Name != "self" || self.ScrapeInterval != 15*time.Second || self.MetricsPath != "/metrics" || !self.HonorTimestamps || self.BodySizeLimit != 256<<20 {
		t.Errorf("self inherits the global defaults: %+v", self)
	}
	if apps.ScrapeTimeout != 20*time.Second || apps.BodySizeLimit != 10<<20 || apps.Params["module"][0] != "http_2xx" || apps.TLS.ServerName != "apps.internal" {
		t.Errorf("apps: %+v", apps)
	}
	if !slices.Equal(self.ScrapeProtocols, []string{"OpenMetricsText1.0.0", "PrometheusText0.0.4"}) || self.FallbackScrapeProtocol != "PrometheusText0.0.4" {
		t.Errorf("self inherits the global scrape protocols: %v, fallback %q", self.ScrapeProtocols, self.FallbackScrapeProtocol)
	}
	if !slices.Equal(apps.ScrapeProtocols, []string{"PrometheusProto", "PrometheusText1.0.0"}) || apps.FallbackScrapeProtocol != "OpenMetricsText1.0.0" {
		t.Errorf("apps scrape protocols: %v, fallback %q", apps.ScrapeProtocols, apps.FallbackScrapeProtocol)
	}
	if apps.BearerToken.Value() != "s3cr3t-token" {
		t.Errorf("bearer token from file(): %q", apps.BearerToken.Value())
	}
	if s := fmt.Sprintf("%v %+v %#v", apps.BearerToken, apps.BearerToken, apps.BearerToken); strings.Contains(s, "s3cr3t") {
		t.Errorf("a secret printed itself: %s", s)
	}
	if len(apps.Relabel) != 1 || apps.Relabel[0].TargetLabel != "host" || string(apps.Relabel[0].Action) != "replace" {
		t.Errorf("relabel: %+v", apps.Relabel)
	}
	if len(apps.MetricRelabel) != 1 || string(apps.MetricRelabel[0].Action) != "drop" {
		t.Errorf("metric_relabel: %+v", apps.MetricRelabel)
	}
	if cfg.File != "testdata/full.good.hcl" || !slices.Equal(cfg.RuleFiles, []string{"testdata/rules/*.yml"}) {
		t.Errorf("file %q, rule_files %v: the patterns start at the configuration's folder", cfg.File, cfg.RuleFiles)
	}
	if len(cfg.RuleGroups) != 2 {
		t.Fatalf("rule groups: %+v", cfg.RuleGroups)
	}
	example, defaults := cfg.RuleGroups[0], cfg.RuleGroups[1]
	if example.Name != "example" || time.Duration(example.Interval) != 30*time.Second || example.Limit != 100 || len(example.Rules) != 2 ||
		example.QueryOffset == nil || time.Duration(*example.QueryOffset) != time.Minute || example.Labels["team"] != "infra" || defaults.QueryOffset != nil {
		t.Errorf("group example: %+v", example)
	}
	if r := example.Rules[0]; r.Record != "job:up:sum" || r.Expr != "sum by (job) (up)" || r.Labels["source"] != "vigil" {
		t.Errorf("recording rule: %+v", r)
	}
	if r := example.Rules[1]; r.Alert != "InstanceDown" || time.Duration(r.For) != 5*time.Minute || time.Duration(r.KeepFiringFor) != time.Minute ||
		r.Labels["severity"] != "page" || r.Annotations["summary"] != "Instance {{ $labels.instance }} down" {
		t.Errorf("alerting rule: %+v", r)
	}
	if time.Duration(defaults.Interval) != 30*time.Second || defaults.Rules[0].For != 0 {
		t.Errorf("a group without interval takes the global evaluation_interval: %+v", defaults)
	}
}

// TestRetention checks the server block's retention: 15 days, as in
// Prometheus, when it is not set; "0s" keeps samples forever, and renders
// back as "0s", not as the default.
func TestRetention(t *testing.T) {
	for name, tc := range map[string]struct {
		server string
		want   time.Duration
	}{
		"not set":     {``, DefaultRetention},
		"no server":   {`-`, DefaultRetention},
		"zero":        {`retention = "0s"`, 0},
		"bare zero":   {`retention = "0"`, 0},
		"explicit":    {`retention = "90d"`, 90 * 24 * time.Hour},
		"short":       {`retention = "6h"`, 6 * time.Hour},
		"the default": {`retention = "15d"`, 15 * 24 * time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			src := "server {\n  " + tc.server + "\n}\n"
			if tc.server == "-" {
				src = ""
			}
			cfg, diags := Parse("retention.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diagText(diags))
			}
			if cfg.Server.Retention != tc.want {
				t.Fatalf("retention %s, want %s", cfg.Server.Retention, tc.want)
			}
			again, diags := Parse("rendered.hcl", cfg.HCL())
			if diags.HasErrors() || again.Server.Retention != tc.want {
				t.Fatalf("rendered and loaded back, retention %s, want %s (%s):\n%s", again.Server.Retention, tc.want, diagText(diags), cfg.HCL())
			}
		})
	}
	if DefaultRetention != 15*24*time.Hour {
		t.Errorf("DefaultRetention %s, want Prometheus's 15d", DefaultRetention)
	}
}

// TestSeriesIdleTimeout checks the server block's series_idle_timeout: 2
// hours when it is not set, and what it says otherwise, rendered back.
func TestSeriesIdleTimeout(t *testing.T) {
	for name, tc := range map[string]struct {
		server string
		want   time.Duration
	}{
		"not set":   {``, DefaultSeriesIdleTimeout},
		"no server": {`-`, DefaultSeriesIdleTimeout},
		"explicit":  {`series_idle_timeout = "30m"`, 30 * time.Minute},
		"long":      {`series_idle_timeout = "1d"`, 24 * time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			src := "server {\n  " + tc.server + "\n}\n"
			if tc.server == "-" {
				src = ""
			}
			cfg, diags := Parse("idle.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diagText(diags))
			}
			if cfg.Server.SeriesIdleTimeout != tc.want {
				t.Fatalf("series_idle_timeout %s, want %s", cfg.Server.SeriesIdleTimeout, tc.want)
			}
			again, diags := Parse("rendered.hcl", cfg.HCL())
			if diags.HasErrors() || again.Server.SeriesIdleTimeout != tc.want {
				t.Fatalf("rendered and loaded back, series_idle_timeout %s, want %s (%s):\n%s", again.Server.SeriesIdleTimeout, tc.want, diagText(diags), cfg.HCL())
			}
		})
	}
	if DefaultSeriesIdleTimeout != 2*time.Hour {
		t.Errorf("DefaultSeriesIdleTimeout %s, want 2h", DefaultSeriesIdleTimeout)
	}
}

// TestMaxExemplars checks the server block's max_exemplars: Prometheus's
// 100000 when it is not set, 0 keeps none, and both render back.
func TestMaxExemplars(t *testing.T) {
	for name, tc := range map[string]struct {
		server string
		want   int
	}{
		"not set":   {``, DefaultMaxExemplars},
		"no server": {`-`, DefaultMaxExemplars},
		"zero":      {`max_exemplars = 0`, 0},
		"explicit":  {`max_exemplars = 5000`, 5000},
	} {
		t.Run(name, func(t *testing.T) {
			src := "server {\n  " + tc.server + "\n}\n"
			if tc.server == "-" {
				src = ""
			}
			cfg, diags := Parse("exemplars.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diagText(diags))
			}
			if cfg.Server.MaxExemplars != tc.want {
				t.Fatalf("max_exemplars %d, want %d", cfg.Server.MaxExemplars, tc.want)
			}
			again, diags := Parse("rendered.hcl", cfg.HCL())
			if diags.HasErrors() || again.Server.MaxExemplars != tc.want {
				t.Fatalf("rendered and loaded back, max_exemplars %d, want %d (%s):\n%s", again.Server.MaxExemplars, tc.want, diagText(diags), cfg.HCL())
			}
		})
	}
	if DefaultMaxExemplars != 100000 {
		t.Errorf("DefaultMaxExemplars %d, want Prometheus's 100000", DefaultMaxExemplars)
	}
}

func TestEnvFunction(t *testing.T) {
	t.Setenv("VIGIL_TEST_TOKEN", "from-env")
	cfg, diags := Parse("inline.hcl", []byte(`scrape "x" {
  targets      = ["127.0.0.1:1"]
  bearer_token = env("VIGIL_TEST_TOKEN")
}`))
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	if cfg.Scrapes[0].BearerToken.Value() != "from-env" {
		t.Fatalf("token %q", cfg.Scrapes[0].BearerToken.Value())
	}
}

func TestRenderedConfigLoadsBackAndHidesSecrets(t *testing.T) {
	cfg, diags := Load("testdata/full.good.hcl")
	if diags.HasErrors() {
		t.Fatal(diagText(diags))
	}
	text := cfg.HCL()
	if strings.Contains(string(text), "s3cr3t") {
		t.Fatalf("a secret is in the rendered config:\n%s", text)
	}
	again, diags := Parse("rendered.hcl", text)
	if diags.HasErrors() {
		t.Fatalf("the rendered config does not load:\n%s\n%s", diagText(diags), text)
	}
	// Everything but the secret comes back as it was.
	again.Scrapes[1].BearerToken = cfg.Scrapes[1].BearerToken
	if again.Server.CORSOrigin.String() != cfg.Server.CORSOrigin.String() {
		t.Fatalf("round trip changed cors_origin:\n%s", text)
	}
	again.Server.CORSOrigin = cfg.Server.CORSOrigin // a compiled regexp compares by pointer
	if got, want := string(again.HCL()), string(text); got != want {
		t.Fatalf("render is not stable:\n%s\nvs\n%s", got, want)
	}
	if again.Server != cfg.Server || again.Scrapes[1].BodySizeLimit != cfg.Scrapes[1].BodySizeLimit ||
		again.Scrapes[1].Relabel[0].Regex.String() != cfg.Scrapes[1].Relabel[0].Regex.String() {
		t.Fatalf("round trip changed the config:\n%s", text)
	}
}
