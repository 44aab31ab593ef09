package promimport

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/vigilmon/vigil/hclconfig"
)

var update = flag.Bool("update", false, "write the .hcl and .report files of testdata again")

// header and textGlobal start every conversion of the table below: the
// global block has Prometheus's defaults and asks for the text formats,
// as Prometheus does without native histograms.
const header = "# Converted from prometheus.yml by vigil config import.\n\n"

const textGlobal = `global {
  scrape_interval     = "1m"
  scrape_timeout      = "10s"
  evaluation_interval = "1m"
  scrape_protocols    = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}
`

func TestConvert(t *testing.T) {
	for name, tc := range map[string]struct {
		yaml      string
		pluginDir string
		hcl       string
		report    []string
	}{
		"empty file": {
			yaml: "",
			hcl:  header + textGlobal,
		},
		"global": {
			yaml: `
global:
  scrape_interval: 30s
  scrape_timeout: 20s
  evaluation_interval: 1m
  scrape_native_histograms: true
  external_labels:
    cluster: ${CLUSTER}
    region: eu-$REGION-1
    cost: $$5
    team: infra
    "k8s.io/zone": 'a"b'
`,
			hcl: header + `global {
  scrape_interval     = "30s"
  scrape_timeout      = "20s"
  evaluation_interval = "1m"
  external_labels = {
    cluster       = env("CLUSTER")
    cost          = "$5"
    "k8s.io/zone" = "a\"b"
    region        = "eu-${env("REGION")}-1"
    team          = "infra"
  }
}
`,
		},
		"static targets with labels": {
			yaml: `
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["localhost:9090"]
        labels:
          app: prometheus
          price: $5
`,
			hcl: header + textGlobal + `
scrape "self" {
  targets = ["localhost:9090"]

  # The labels of static_configs.
  relabel {
    target_label = "app"
    replacement  = "prometheus"
  }

  relabel {
    target_label = "price"
    replacement  = "$$5"
  }
}
`,
		},
		"labels of several static groups go by address": {
			yaml: `
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["10.0.0.1:9100", "10.0.0.2:9100"]
        labels:
          env: prod
      - targets: ["10.0.1.1:9100"]
        labels:
          env: dev
      - targets: ["10.0.2.1:9100"]
`,
			hcl: header + textGlobal + `
scrape "node" {
  targets = ["10.0.0.1:9100", "10.0.0.2:9100", "10.0.1.1:9100", "10.0.2.1:9100"]

  # The labels of static_configs.
  relabel {
    source_labels = ["__address__"]
    regex         = "10\\.0\\.0\\.1:9100|10\\.0\\.0\\.2:9100"
    target_label  = "env"
    replacement   = "prod"
  }

  relabel {
    source_labels = ["__address__"]
    regex         = "10\\.0\\.1\\.1:9100"
    target_label  = "env"
    replacement   = "dev"
  }
}
`,
		},
		"relabel actions": {
			yaml: `
scrape_configs:
  - job_name: apps
    relabel_configs:
      - source_labels: [__meta_a, __meta_b]
        separator: ","
        regex: "(.+),(.+)"
        target_label: ab
        replacement: "${1}-$2"
      - source_labels: [env]
        regex: prod|staging
        action: keep
      - source_labels: [__meta_skip]
        regex: "true"
        action: drop
      - source_labels: [a]
        target_label: b
        action: keepequal
      - source_labels: [a]
        target_label: b
        action: dropequal
      - source_labels: [__address__]
        modulus: 4
        target_label: __tmp_shard
        action: hashmod
      - regex: __meta_kubernetes_pod_label_(.+)
        action: labelmap
      - regex: tmp_.*
        action: labeldrop
      - regex: job|instance|env
        action: labelkeep
      - source_labels: [env]
        target_label: env
        action: lowercase
      - source_labels: [region]
        target_label: region
        action: UpperCase
      - target_label: empty
        regex:
        replacement: x
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
`,
			hcl: header + textGlobal + `
scrape "apps" {
  relabel {
    source_labels = ["__meta_a", "__meta_b"]
    separator     = ","
    regex         = "(.+),(.+)"
    target_label  = "ab"
    replacement   = "$${1}-$2"
  }

  relabel {
    source_labels = ["env"]
    regex         = "prod|staging"
    action        = "keep"
  }

  relabel {
    source_labels = ["__meta_skip"]
    regex         = "true"
    action        = "drop"
  }

  relabel {
    source_labels = ["a"]
    target_label  = "b"
    action        = "keepequal"
  }

  relabel {
    source_labels = ["a"]
    target_label  = "b"
    action        = "dropequal"
  }

  relabel {
    source_labels = ["__address__"]
    modulus       = 4
    target_label  = "__tmp_shard"
    action        = "hashmod"
  }

  relabel {
    regex  = "__meta_kubernetes_pod_label_(.+)"
    action = "labelmap"
  }

  relabel {
    regex  = "tmp_.*"
    action = "labeldrop"
  }

  relabel {
    regex  = "job|instance|env"
    action = "labelkeep"
  }

  relabel {
    source_labels = ["env"]
    target_label  = "env"
    action        = "lowercase"
  }

  relabel {
    source_labels = ["region"]
    target_label  = "region"
    action        = "uppercase"
  }

  relabel {
    regex        = ""
    target_label = "empty"
    replacement  = "x"
  }

  metric_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}
`,
		},
		"file_sd": {
			yaml: `
scrape_configs:
  - job_name: node
    file_sd_configs:
      - files: [targets/*.json, targets/*.yml]
      - files: [/etc/prometheus/node.yaml]
        refresh_interval: 30s
    static_configs:
      - targets: ["localhost:9100"]
        labels:
          source: static
    relabel_configs:
      - source_labels: [__meta_filepath]
        target_label: targets_file
`,
			hcl: header + textGlobal + `
plugin "file" {
  source = "vigil-discovery-file"
}

discovery "node-file" {
  plugin = "file"
  config {
    files = ["targets/*.json", "targets/*.yml"]
  }
}

discovery "node-file-2" {
  plugin = "file"
  config {
    files            = ["/etc/prometheus/node.yaml"]
    refresh_interval = "30s"
  }
}

scrape "node" {
  targets   = ["localhost:9100"]
  discovery = ["node-file", "node-file-2"]

  # The labels of static_configs.
  relabel {
    source_labels = ["__address__"]
    regex         = "localhost:9100"
    target_label  = "source"
    replacement   = "static"
  }

  relabel {
    source_labels = ["__meta_filepath"]
    target_label  = "targets_file"
  }
}
`,
		},
		"http_sd": {
			yaml: `
scrape_configs:
  - job_name: inventory
    http_sd_configs:
      - url: https://inventory.example.com/targets
        refresh_interval: 2m
        basic_auth:
          username: vigil
          password_file: inventory.pass
        tls_config:
          insecure_skip_verify: true
          ca_file: ca.pem
        follow_redirects: false
      - url: http://cmdb.example.com:8080/sd
        authorization:
          credentials: t0ken
      - url: http://cmdb.example.com:8080/sd2
        oauth2:
          client_id: vigil
          client_secret: s3cret
          token_url: https://auth.example.com/token
`,
			hcl: header + textGlobal + `
plugin "http" {
  source = "vigil-discovery-http"
}

discovery "inventory-http" {
  plugin = "http"
  config {
    url                      = "https://inventory.example.com/targets"
    refresh_interval         = "2m"
    basic_auth_username      = "vigil"
    basic_auth_password      = file("inventory.pass")
    tls_insecure_skip_verify = true
  }
}

discovery "inventory-http-2" {
  plugin = "http"
  config {
    url          = "http://cmdb.example.com:8080/sd"
    bearer_token = "t0ken"
  }
}

discovery "inventory-http-3" {
  plugin = "http"
  config {
    url = "http://cmdb.example.com:8080/sd2"
  }
}

scrape "inventory" {
  discovery = ["inventory-http", "inventory-http-2", "inventory-http-3"]
}
`,
			report: []string{
				`12: ca_file is not converted: the http discovery plugin takes only insecure_skip_verify of tls_config`,
				`13: follow_redirects is not converted: the http discovery plugin follows redirects`,
				`18: oauth2 is not converted: the http discovery plugin has no OAuth 2.0 client`,
			},
		},
		"basic auth": {
			yaml: `
scrape_configs:
  - job_name: literal
    basic_auth:
      username: vigil
      password: "multi\nline ${x}"
  - job_name: files
    basic_auth:
      username_file: secrets/user
      password_file: /etc/secrets/password
  - job_name: user only
    basic_auth:
      username: vigil
`,
			hcl: header + textGlobal + `
scrape "literal" {
  basic_auth {
    username = "vigil"
    password = "multi\nline $${x}"
  }
}

scrape "files" {
  basic_auth {
    username      = file("secrets/user")
    password_file = "/etc/secrets/password"
  }
}

scrape "user only" {
  basic_auth {
    username = "vigil"
  }
}
`,
		},
		"bearer token": {
			yaml: `
scrape_configs:
  - job_name: credentials
    authorization:
      credentials: t0ken
  - job_name: credentials file
    authorization:
      type: Bearer
      credentials_file: /var/run/token
  - job_name: deprecated
    bearer_token: old
  - job_name: deprecated file
    bearer_token_file: old.token
  - job_name: other type
    authorization:
      type: Token
      credentials: t0ken
`,
			hcl: header + textGlobal + `
scrape "credentials" {
  bearer_token = "t0ken"
}

scrape "credentials file" {
  bearer_token_file = "/var/run/token"
}

scrape "deprecated" {
  bearer_token = "old"
}

scrape "deprecated file" {
  bearer_token_file = "old.token"
}

scrape "other type" {
}
`,
			report: []string{`15: authorization is not converted: Vigil sends Bearer credentials only, not Token`},
		},
		"tls": {
			yaml: `
scrape_configs:
  - job_name: mtls
    scheme: https
    tls_config:
      ca_file: ca.pem
      cert_file: client.pem
      key_file: client-key.pem
      server_name: apps.internal
      insecure_skip_verify: true
      min_version: TLS12
  - job_name: inline
    scheme: https
    tls_config:
      ca: "-----BEGIN CERTIFICATE-----\n..."
      cert_file: client.pem
      key: "-----BEGIN PRIVATE KEY-----\n..."
`,
			hcl: header + textGlobal + `
scrape "mtls" {
  scheme = "https"

  tls {
    ca_file              = "ca.pem"
    cert_file            = "client.pem"
    key_file             = "client-key.pem"
    server_name          = "apps.internal"
    min_version          = "TLS12"
    insecure_skip_verify = true
  }
}

scrape "inline" {
  scheme = "https"
}
`,
			report: []string{
				`15: ca is not converted: Vigil reads certificates and keys from files; write it to one and set ca_file`,
				`16: cert_file is not converted: cert_file and key_file go together in Vigil, and the other half is not converted`,
				`17: key is not converted: Vigil reads certificates and keys from files; write it to one and set key_file`,
			},
		},
		"alerting": {
			yaml: `
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
  alertmanagers:
    - scheme: https
      path_prefix: /am/
      timeout: 30s
      basic_auth:
        username: ops
        password: "s3:cr@t"
      static_configs:
        - targets: ["am1:9093", "am2:9093"]
    - static_configs:
        - targets: ["127.0.0.1:9093"]
          labels:
            dc: one
    - kubernetes_sd_configs:
        - role: pod
      relabel_configs:
        - source_labels: [__meta_kubernetes_pod_label_app]
          regex: alertmanager
          action: keep
      authorization:
        credentials: t0ken
    - static_configs:
        - targets:
`,
			hcl: header + textGlobal + `
alertmanager {
  urls    = ["https://am1:9093/am", "https://am2:9093/am"]
  timeout = "30s"

  basic_auth {
    username = "ops"
    password = "s3:cr@t"
  }
}

alertmanager {
  urls = ["http://127.0.0.1:9093"]
}
`,
			report: []string{
				`3: alert_relabel_configs is not converted: Vigil does not relabel alerts before it sends them`,
				`17: labels is not converted: an alertmanager block takes URLs; the labels of its targets are for relabel_configs, which Vigil lacks`,
				`19: kubernetes_sd_configs is not converted: an alertmanager block lists fixed URLs; Vigil does not discover Alertmanagers`,
				`21: relabel_configs is not converted: Vigil does not relabel Alertmanager targets`,
			},
		},
		"scrape options and limits": {
			yaml: `
global:
  scrape_interval: 15s
  sample_limit: 5000
  body_size_limit: 64MB
scrape_configs:
  - job_name: probe
    scrape_interval: 5s
    honor_labels: true
    honor_timestamps: false
    metrics_path: /probe
    scheme: https
    params:
      module: [http_2xx]
      "match[]": ['{job="x"}']
    label_limit: 30
    label_name_length_limit: 100
    label_value_length_limit: 200
    fallback_scrape_protocol: PrometheusText0.0.4
    static_configs:
      - targets: ["blackbox:9115"]
  - job_name: slow
    scrape_interval: 2m
    scrape_timeout: 1m
    sample_limit: 100
    body_size_limit: 1000B
`,
			hcl: header + `global {
  scrape_interval     = "15s"
  scrape_timeout      = "10s"
  evaluation_interval = "1m"
  scrape_protocols    = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}

scrape "probe" {
  targets      = ["blackbox:9115"]
  metrics_path = "/probe"
  scheme       = "https"
  params = {
    "match[]" = ["{job=\"x\"}"]
    module    = ["http_2xx"]
  }
  scrape_interval          = "5s"
  honor_labels             = true
  honor_timestamps         = false
  sample_limit             = 5000
  label_limit              = 30
  label_name_length_limit  = 100
  label_value_length_limit = 200
  body_size_limit          = "64MB"
  fallback_scrape_protocol = "PrometheusText0.0.4"
}

scrape "slow" {
  scrape_interval = "2m"
  scrape_timeout  = "1m"
  sample_limit    = 100
  body_size_limit = "1000B"
}
`,
		},
		"scrape protocols and native histograms": {
			yaml: `
global:
  scrape_protocols: [OpenMetricsText2.0.0, PrometheusProto, PrometheusText0.0.4]
scrape_configs:
  - job_name: inherits
  - job_name: native
    scrape_native_histograms: true
  - job_name: text
    scrape_protocols: [PrometheusText1.0.0]
  - job_name: native default
    scrape_protocols: [PrometheusText0.0.4]
    scrape_native_histograms: true
  - job_name: own proto
    scrape_protocols: [PrometheusProto]
`,
			hcl: header + `global {
  scrape_interval     = "1m"
  scrape_timeout      = "10s"
  evaluation_interval = "1m"
  scrape_protocols    = ["PrometheusProto", "PrometheusText0.0.4"]
}

scrape "inherits" {
}

scrape "native" {
}

scrape "text" {
  scrape_protocols = ["PrometheusText1.0.0"]
}

scrape "native default" {
  scrape_protocols = ["PrometheusText0.0.4"]
}

scrape "own proto" {
  scrape_protocols = ["PrometheusProto"]
}
`,
			report: []string{
				`3: scrape_protocols is not converted: Vigil does not parse OpenMetricsText2.0.0; the list leaves it out`,
				`3: scrape_protocols is not converted: with native histograms off, Prometheus keeps the classic buckets of a protobuf scrape's histograms, and Vigil their native buckets`,
				`14: scrape_protocols is not converted: with native histograms off, Prometheus keeps the classic buckets of a protobuf scrape's histograms, and Vigil their native buckets`,
			},
		},
		"native histograms without protocols ask for protobuf first": {
			yaml: `
scrape_configs:
  - job_name: native
    scrape_native_histograms: true
  - job_name: classic
`,
			hcl: header + textGlobal + `
scrape "native" {
  scrape_protocols = ["PrometheusProto", "OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
}

scrape "classic" {
}
`,
		},
		"remote write and remote read": {
			yaml: `
remote_write:
  - url: https://mimir.example.com/api/v1/push
    remote_timeout: 10s
    headers:
      X-Scope-OrgID: team-a
    send_exemplars: true
    send_native_histograms: true
    basic_auth:
      username: vigil
      password_file: /etc/mimir.pass
    tls_config:
      ca_file: ca.pem
    queue_config:
      max_shards: 10
      batch_send_deadline: 1s
      retry_on_http_429: true
      sample_age_limit: 1h
    metadata_config:
      send: true
    write_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
  - url: https://mimir.example.com/other/push
    oauth2:
      client_id: vigil
      client_secret_file: /etc/oauth.secret
      token_url: https://auth.example.com/token
      scopes: [write]
    metadata_config:
      send: false
  - url: http://thanos:19291/api/v1/receive
    name: thanos
    sigv4:
      region: eu-west-1
    round_robin_dns: true
remote_read:
  - url: http://archive:9090/api/v1/read
    name: archive
    read_recent: true
    remote_timeout: 2m
    required_matchers:
      job: node
    filter_external_labels: false
    authorization:
      credentials_file: /etc/archive.token
    chunked_read_limit: 1000
    proxy_from_environment: true
`,
			hcl: header + textGlobal + `
remote_write "mimir.example.com" {
  url                    = "https://mimir.example.com/api/v1/push"
  remote_timeout         = "10s"
  send_exemplars         = true
  send_native_histograms = true
  headers = {
    X-Scope-OrgID = "team-a"
  }

  basic_auth {
    username      = "vigil"
    password_file = "/etc/mimir.pass"
  }

  tls {
    ca_file = "ca.pem"
  }

  queue {
    max_shards          = 10
    batch_send_deadline = "1s"
    retry_on_http_429   = true
  }

  write_relabel {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}

remote_write "mimir.example.com-2" {
  url = "https://mimir.example.com/other/push"

  oauth2 {
    client_id          = "vigil"
    client_secret_file = "/etc/oauth.secret"
    token_url          = "https://auth.example.com/token"
    scopes             = ["write"]
  }
}

remote_write "thanos" {
  url = "http://thanos:19291/api/v1/receive"
}

remote_read "archive" {
  url            = "http://archive:9090/api/v1/read"
  remote_timeout = "2m"
  read_recent    = true
  required_matchers = {
    job = "node"
  }
  filter_external_labels = false
  bearer_token_file      = "/etc/archive.token"
  proxy_from_environment = true
}
`,
			report: []string{
				`18: sample_age_limit is not converted: Vigil's queues send samples of any age`,
				`19: metadata_config is not converted: Vigil keeps no metadata in its write-ahead log, and sends none`,
				`35: sigv4 is not converted: Vigil has no sigv4 authentication; use bearer_token, basic_auth or oauth2`,
				`37: round_robin_dns is not converted: Vigil's remote_write connects to the address the system resolver gives first`,
				`48: chunked_read_limit is not converted: Vigil's remote_read takes frames of streamed chunks up to Prometheus's default size`,
			},
		},
		"what Vigil lacks is reported at its line": {
			yaml: `
global:
  target_limit: 10
  query_log_file: queries.log
rule_files:
  - rules/*.yml
scrape_configs:
  - job_name: pods
    marathon_sd_configs:
      - servers: [http://marathon:8080]
    hetzner_sd_configs:
      - role: hcloud
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - target_label: __address__
        replacement: blackbox:9115
    static_configs:
      - targets:
          - https://example.com
          - example.org:443
    enable_compression: false
    track_timestamps_staleness: false
    proxy_url: http://proxy:3128
    http_headers:
      X-Team:
        values: [infra]
storage:
  tsdb:
    retention:
      time: 30d
      size: 10GB
    out_of_order_time_window: 10m
  exemplars:
    max_exemplars: 10
remote_write:
  - url: http://mimir/api/v1/push
remote_read:
  - url: http://mimir/api/v1/read
runtime:
  gogc: 50
tracing:
  endpoint: localhost:4317
`,
			hcl: header + `rule_files = ["rules/*.yml"]

server {
  retention     = "30d"
  max_exemplars = 10
}

` + textGlobal + `
scrape "pods" {
  targets = ["example.org:443"]
  headers = {
    X-Team = "infra"
  }
  proxy_url = "http://proxy:3128"

  relabel {
    source_labels = ["__address__"]
    target_label  = "__param_target"
  }

  relabel {
    target_label = "__address__"
    replacement  = "blackbox:9115"
  }
}

remote_write "mimir" {
  url = "http://mimir/api/v1/push"
}

remote_read "mimir" {
  url = "http://mimir/api/v1/read"
}
`,
			report: []string{
				`3: target_limit is not converted: Vigil has no limit on the targets of a scrape`,
				`4: query_log_file is not converted: Vigil does not log queries to a file`,
				`9: marathon_sd_configs is not converted: Vigil has no marathon discovery plugin, so scrape "pods" has no targets from it`,
				`11: hetzner_sd_configs is not converted: Vigil has no hetzner discovery plugin, so scrape "pods" has no targets from it`,
				`20: targets is not converted: Vigil's targets are host:port, and "https://example.com" has a scheme or a path; scrape "pods" leaves it out`,
				`22: enable_compression is not converted: Vigil always asks targets for gzip`,
				`23: track_timestamps_staleness is not converted: Vigil marks a series stale when it vanishes, also when its samples have timestamps`,
				`32: size is not converted: the server block retains by time only`,
				`33: out_of_order_time_window is not converted: the server block has no out-of-order window`,
				`40: runtime is not converted: Vigil's configuration has no runtime settings; the server sets GOGC=75 unless the environment sets GOGC`,
				`42: tracing is not converted: Vigil does not export traces`,
			},
		},
		"merge keys and anchors": {
			yaml: `
scrape_configs:
  - &defaults
    job_name: first
    scrape_interval: 30s
    kubernetes_sd_configs:
      - role: node
  - <<: *defaults
    job_name: second
`,
			hcl: header + textGlobal + `
plugin "kubernetes" {
  source = "vigil-discovery-kubernetes"
}

discovery "first-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "node"
  }
}

scrape "first" {
  discovery       = ["first-kubernetes"]
  scrape_interval = "30s"
}

discovery "second-kubernetes" {
  plugin = "kubernetes"
  config {
    role = "node"
  }
}

scrape "second" {
  discovery       = ["second-kubernetes"]
  scrape_interval = "30s"
}
`,
		},
		"plugin folder": {
			yaml: `
scrape_configs:
  - job_name: files
    file_sd_configs:
      - files: [targets.json]
`,
			pluginDir: "/usr/lib/vigil/",
			hcl: header + textGlobal + `
plugin "file" {
  source = "/usr/lib/vigil/vigil-discovery-file"
}

discovery "files-file" {
  plugin = "file"
  config {
    files = ["targets.json"]
  }
}

scrape "files" {
  discovery = ["files-file"]
}
`,
		},
	} {
		t.Setenv("CLUSTER", "eu-1") // for the global case
		t.Setenv("REGION", "west")
		t.Run(name, func(t *testing.T) {
			res, err := Convert([]byte(tc.yaml), Options{Filename: "prometheus.yml", PluginDir: tc.pluginDir})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.hcl, string(res.HCL)); diff != "" {
				t.Errorf("HCL (-want +got):\n%s", diff)
			}
			var report []string
			for _, u := range res.Unconverted {
				report = append(report, u.String())
			}
			if diff := cmp.Diff(tc.report, report); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			dir := t.TempDir()
			if _, diags := hclconfig.Parse(filepath.Join(dir, "vigil.hcl"), []byte(withSecretFiles(t, dir, string(res.HCL)))); diags.HasErrors() {
				t.Errorf("the HCL does not load: %s", diags.Error())
			}
		})
	}
}

func TestInvalidConfiguration(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"syntax":          {"scrape_configs:\n  - job_name: [\n", "line 2: did not find expected node content"},
		"unknown field":   {"global:\n  scrape_intervl: 1m\n", "line 2: field scrape_intervl not found"},
		"timeout":         {"scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n", `scrape timeout greater than scrape interval for scrape config with job name "a"`},
		"bad relabel":     {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n", "relabel configuration for hashmod requires non-zero modulus"},
		"null discovery":  {"scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      -\n", "empty or null section in kubernetes_sd_configs"},
		"bad file_sd":     {"scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n", `path name "targets.txt" is not valid for file discovery`},
		"bad http_sd URL": {"scrape_configs:\n  - job_name: a\n    http_sd_configs:\n      - url: ftp://x/\n", "URL scheme must be 'http' or 'https'"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Convert([]byte(tc.yaml), Options{})
			if err == nil {
				t.Fatalf("converted:\n%s", res.HCL)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "not a valid Prometheus configuration: ") {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestSamples converts the files of testdata: the HCL and the report must
// be those of NAME.hcl and NAME.report, the HCL must be canonical and load
// as Vigil's configuration, and every reported line must hold its key.
func TestSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yml")
	if err != nil || len(files) < 5 {
		t.Fatalf("samples: %v, %v", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Convert(src, Options{Filename: filepath.Base(file)})
			if err != nil {
				t.Fatal(err)
			}
			var report strings.Builder
			if err := res.WriteReport(&report, filepath.Base(file)); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".yml")
			if *update {
				for ext, data := range map[string]string{".hcl": string(res.HCL), ".report": report.String()} {
					if err := os.WriteFile(golden+ext, []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			for ext, got := range map[string]string{".hcl": string(res.HCL), ".report": report.String()} {
				want, err := os.ReadFile(golden + ext)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", golden+ext, diff)
				}
			}

			if formatted := hclwrite.Format(res.HCL); string(formatted) != string(res.HCL) {
				t.Errorf("the HCL is not in the canonical format:\n%s", res.HCL)
			}
			dir := t.TempDir()
			hcl := withSecretFiles(t, dir, string(res.HCL))
			if _, diags := hclconfig.Parse(filepath.Join(dir, "vigil.hcl"), []byte(hcl)); diags.HasErrors() {
				t.Fatalf("the HCL does not load: %s\n%s", diags.Error(), hcl)
			}

			lines := strings.Split(string(src), "\n")
			for _, u := range res.Unconverted {
				if u.Line < 1 || u.Line > len(lines) {
					t.Errorf("%s: no such line", u)
					continue
				}
				line := lines[u.Line-1]
				if !strings.Contains(line, u.Key+":") && !(u.Key == "targets" && strings.Contains(u.Why, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")))) {
					t.Errorf("%s: line %d is %q", u, u.Line, line)
				}
			}
		})
	}
}

// withSecretFiles creates a file in dir for every file("PATH") of hcl,
// since Parse reads them, and points the calls to absolute paths there.
func withSecretFiles(t *testing.T, dir, hcl string) string {
	t.Helper()
	return regexp.MustCompile(`file\("([^"]+)"\)`).ReplaceAllStringFunc(hcl, func(call string) string {
		path := filepath.Join(dir, "secrets", strings.TrimPrefix(call[len(`file("`):len(call)-2], "/"))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("file(%q)", path)
	})
}
