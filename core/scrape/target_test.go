package scrape

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/vigilmon/vigil/hclconfig"
)

func scrapeBlock(t *testing.T, src string) *hclconfig.Scrape {
	t.Helper()
	cfg, diags := hclconfig.Parse("test.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg.Scrapes[0]
}

func TestNewTarget(t *testing.T) {
	for name, tc := range map[string]struct {
		config       string
		target       labels.Labels
		group        labels.Labels
		wantLabels   map[string]string // labels of the samples
		wantURL      string
		wantInterval time.Duration
		dropped      bool
	}{
		"defaults": {
			config:       `scrape "node" {}`,
			target:       labels.FromStrings("__address__", "127.0.0.1:9100"),
			wantLabels:   map[string]string{"job": "node", "instance": "127.0.0.1:9100"},
			wantURL:      "http://127.0.0.1:9100/metrics",
			wantInterval: time.Minute,
		},
		"an IPv6 address with a zone": {
			config:       `scrape "node" {}`,
			target:       labels.FromStrings("__address__", "[fe80::1%eth0]:9100"),
			wantLabels:   map[string]string{"job": "node", "instance": "[fe80::1%eth0]:9100"},
			wantURL:      "http://[fe80::1%25eth0]:9100/metrics",
			wantInterval: time.Minute,
		},
		"group labels, overridden by the target's": {
			config:       `scrape "node" { scrape_interval = "15s" }`,
			target:       labels.FromStrings("__address__", "127.0.0.1:9100", "zone", "a"),
			group:        labels.FromStrings("zone", "b", "team", "infra", "__meta_file_path", "t.json"),
			wantLabels:   map[string]string{"job": "node", "instance": "127.0.0.1:9100", "zone": "a", "team": "infra"},
			wantURL:      "http://127.0.0.1:9100/metrics",
			wantInterval: 15 * time.Second,
		},
		"params, scheme and path, and a __param_ label from relabeling": {
			config: `scrape "probe" {
  scheme       = "https"
  metrics_path = "/probe"
  params       = { module = ["http_2xx", "extra"], target = ["example.org"] }
  relabel {
    source_labels = ["__address__"]
    target_label  = "__param_target"
  }
}`,
			target:       labels.FromStrings("__address__", "127.0.0.1:9115"),
			wantLabels:   map[string]string{"job": "probe", "instance": "127.0.0.1:9115"},
			wantURL:      "https://127.0.0.1:9115/probe?module=http_2xx&module=extra&target=127.0.0.1%3A9115",
			wantInterval: time.Minute,
		},
		"relabeling sets instance and the interval": {
			config: `scrape "node" {
  relabel {
    source_labels = ["__address__"]
    regex         = "([^:]+):.*"
    target_label  = "instance"
  }
  relabel {
    target_label = "__scrape_interval__"
    replacement  = "30s"
  }
}`,
			target:       labels.FromStrings("__address__", "host-1:9100"),
			wantLabels:   map[string]string{"job": "node", "instance": "host-1"},
			wantURL:      "http://host-1:9100/metrics",
			wantInterval: 30 * time.Second,
		},
		"dropped by relabeling": {
			config: `scrape "node" {
  relabel {
    source_labels = ["__address__"]
    regex         = ".*:9100"
    action        = "drop"
  }
}`,
			target:  labels.FromStrings("__address__", "127.0.0.1:9100"),
			dropped: true,
		},
	} {
		t.Run(name, func(t *testing.T) {
			tgt, err := NewTarget(scrapeBlock(t, tc.config), tc.target, tc.group)
			if err != nil {
				t.Fatal(err)
			}
			if tc.dropped {
				if tgt != nil {
					t.Fatalf("target kept: %v", tgt.Labels)
				}
				return
			}
			if diff := cmp.Diff(tc.wantLabels, tgt.SeriesLabels().Map()); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if tgt.URL.String() != tc.wantURL {
				t.Errorf("URL %s, want %s", tgt.URL, tc.wantURL)
			}
			if tgt.Interval != tc.wantInterval {
				t.Errorf("interval %s, want %s", tgt.Interval, tc.wantInterval)
			}
			if tgt.Labels.Get(model.AddressLabel) == "" {
				t.Errorf("__address__ missing from the target's labels")
			}
		})
	}
}

func TestNewTargetErrors(t *testing.T) {
	base := &hclconfig.Scrape{Name: "j", MetricsPath: "/metrics", Scheme: "http", ScrapeInterval: time.Minute, ScrapeTimeout: 10 * time.Second}
	with := func(f func(s *hclconfig.Scrape)) *hclconfig.Scrape {
		s := *base
		f(&s)
		return &s
	}
	setLabel := func(name, value string) *relabel.Config {
		c := relabel.DefaultRelabelConfig
		c.TargetLabel, c.Replacement = name, value
		return &c
	}
	for name, tc := range map[string]struct {
		scrape *hclconfig.Scrape
		target labels.Labels
		want   string
	}{
		"no address":           {base, labels.FromStrings("a", "b"), "no __address__"},
		"address with a path":  {base, labels.FromStrings("__address__", "http://h:1/x"), "must be host:port"},
		"address with a space": {base, labels.FromStrings("__address__", "h 1:80"), "not a valid host:port"},
		"address with a query": {base, labels.FromStrings("__address__", "h:1?x"), "not a valid host:port"},
		"address with a user":  {base, labels.FromStrings("__address__", "u@h:1"), "not a valid host:port"},
		"address, bad IPv6":    {base, labels.FromStrings("__address__", "[::1:80"), "not a valid host:port"},
		"timeout over interval": {with(func(s *hclconfig.Scrape) {
			s.Relabel = []*relabel.Config{setLabel("__scrape_timeout__", "2m")}
		}), labels.FromStrings("__address__", "h:1"), "greater than its scrape interval"},
		"bad interval label": {with(func(s *hclconfig.Scrape) {
			s.Relabel = []*relabel.Config{setLabel("__scrape_interval__", "soon")}
		}), labels.FromStrings("__address__", "h:1"), `cannot parse __scrape_interval__ "soon"`},
		"bad scheme label": {with(func(s *hclconfig.Scrape) {
			s.Relabel = []*relabel.Config{setLabel("__scheme__", "ftp")}
		}), labels.FromStrings("__address__", "h:1"), `scheme "ftp"`},
		"invalid label value": {base, labels.FromStrings("__address__", "h:1", "bad", "\xff"), `invalid value for label "bad"`},
	} {
		t.Run(name, func(t *testing.T) {
			tgt, err := NewTarget(tc.scrape, tc.target, labels.EmptyLabels())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error containing %q", tgt, err, tc.want)
			}
		})
	}
}

// TestDiscoveredLabels checks that a target keeps its labels from before
// relabeling, with the scrape block's defaults and discovery's __meta_*.
func TestDiscoveredLabels(t *testing.T) {
	sc := scrapeBlock(t, `scrape "probe" {
  params = { module = ["http_2xx"] }
  relabel {
    source_labels = ["__meta_zone"]
    target_label  = "zone"
  }
  relabel {
    source_labels = ["__address__"]
    regex         = "([^:]+):.*"
    target_label  = "instance"
  }
}`)
	tgt, err := NewTarget(sc, labels.FromStrings("__address__", "host-1:9115"), labels.FromStrings("__meta_zone", "eu"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"__address__": "host-1:9115", "__meta_zone": "eu", "job": "probe", "__scheme__": "http",
		"__metrics_path__": "/metrics", "__scrape_interval__": "1m", "__scrape_timeout__": "10s", "__param_module": "http_2xx",
	}
	if diff := cmp.Diff(want, tgt.Discovered.Map()); diff != "" {
		t.Errorf("discovered labels (-want +got):\n%s", diff)
	}
	if got := tgt.SeriesLabels().Map(); got["zone"] != "eu" || got["instance"] != "host-1" {
		t.Errorf("relabeled labels %v", got)
	}
}
