package upstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/vigilmon/vigil/sdk"
)

// testConfig has the shapes the derivation meets in upstream configs.
type testConfig struct {
	Server  string                  `yaml:"server"`
	Port    int                     `yaml:"port"`
	Every   model.Duration          `yaml:"refresh_interval,omitempty"`
	Token   config.Secret           `yaml:"token,omitempty"`
	Names   []string                `yaml:"names"`
	Meta    map[string]string       `yaml:"node_meta"`
	Inner   testInner               `yaml:"namespaces"`
	Filters []*testFilter           `yaml:"filters"`
	HTTP    config.HTTPClientConfig `yaml:",inline"`
}

type testInner struct {
	Own   bool     `yaml:"own_namespace"`
	Names []string `yaml:"names"`
}

type testFilter struct {
	Name   string   `yaml:"name"`
	Values []string `yaml:"values"`
}

func (c *testConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = testConfig{Port: 80, Every: model.Duration(60e9), HTTP: config.DefaultHTTPClientConfig}
	type plain testConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Server == "" {
		return errors.New("server is required")
	}
	return nil
}

func (*testConfig) Name() string { return "test" }

func (*testConfig) NewDiscoverer(discovery.DiscovererOptions) (discovery.Discoverer, error) {
	return nil, errors.New("not runnable")
}

func (*testConfig) NewDiscovererMetrics(prometheus.Registerer, discovery.RefreshMetricsInstantiator) discovery.DiscovererMetrics {
	return &discovery.NoopDiscovererMetrics{}
}

func TestSchema(t *testing.T) {
	m := Mechanism{Config: &testConfig{}, Extra: sdk.Schema{sdk.Bool("extra", "An extra.")}}
	schema, err := Schema(m)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		typ       sdk.AttributeType
		sensitive bool
	}{
		"server": {sdk.TypeString, false}, "port": {sdk.TypeNumber, false}, "refresh_interval": {sdk.TypeDuration, false},
		"token": {sdk.TypeString, true}, "names": {sdk.TypeStringList, false}, "node_meta": {sdk.TypeStringMap, false},
		"namespaces_own_namespace": {sdk.TypeBool, false}, "namespaces_names": {sdk.TypeStringList, false},
		"filters": {sdk.TypeStringList, false}, "basic_auth_password": {sdk.TypeString, true},
		"tls_config_ca_file": {sdk.TypeString, false}, "http_headers": {sdk.TypeString, true},
		"follow_redirects": {sdk.TypeBool, false}, "proxy_url": {sdk.TypeString, false}, "extra": {sdk.TypeBool, false},
	} {
		a, ok := schema.Attribute(name)
		if !ok || a.Type != want.typ || a.Sensitive != want.sensitive || a.Description == "" {
			t.Errorf("attribute %q: %+v (found %v), want %+v", name, a, ok, want)
		}
	}
	if _, err := Schema(Mechanism{Config: &testConfig{}, Extra: sdk.Schema{sdk.String("server", "Again.")}}); err == nil {
		t.Error("an extra attribute that is also a field: no error")
	}
}

func TestDecode(t *testing.T) {
	m := Mechanism{Config: &testConfig{}}
	p := Plugin(m)
	cfg, err := p.Schema.Values(map[string]any{
		"server": "s", "port": 9100, "refresh_interval": "5m", "token": "t", "names": []string{"a"},
		"node_meta": map[string]string{"k": "v"}, "namespaces_own_namespace": true,
		"filters":            []string{"{name: 'tag:env', values: [prod, dev]}"},
		"tls_config_ca_file": "ca.pem", "basic_auth_username": "u", "basic_auth_password": "p",
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := c.(*testConfig)
	want := &testConfig{
		Server: "s", Port: 9100, Every: model.Duration(300e9), Token: "t", Names: []string{"a"},
		Meta: map[string]string{"k": "v"}, Inner: testInner{Own: true},
		Filters: []*testFilter{{Name: "tag:env", Values: []string{"prod", "dev"}}},
		HTTP:    config.DefaultHTTPClientConfig,
	}
	want.HTTP.TLSConfig.CAFile = "ca.pem"
	want.HTTP.BasicAuth = &config.BasicAuth{Username: "u", Password: "p"}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(config.HTTPClientConfig{}, config.ProxyConfig{})); d != "" {
		t.Errorf("decoded (-want +got):\n%s", d)
	}

	// Upstream's defaults and validation.
	cfg, _ = p.Schema.Values(map[string]any{"server": "s"})
	if c, err := Decode(m, cfg); err != nil || c.(*testConfig).Port != 80 || !c.(*testConfig).HTTP.FollowRedirects {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	for values, attr := range map[*map[string]any]string{
		{}: "server",
		{"server": "s", "filters": []string{"{a"}}:     "filters",
		{"server": "s", "http_headers": "[1, 2]"}:      "http_headers",
		{"server": "s", "filters": []string{"{x: 1}"}}: "filters",
	} {
		cfg, err := p.Schema.Values(*values)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Discoverer(cfg)
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("%v: %v, want an error naming %q", *values, err, attr)
		}
		if err != nil && strings.Contains(err.Error(), "line ") {
			t.Errorf("%v: %v names a line of YAML the user never wrote", *values, err)
		}
	}
}

func TestChanged(t *testing.T) {
	sent := map[string]sdk.TargetGroup{}
	g := func(source string, addrs ...string) *targetgroup.Group {
		tg := &targetgroup.Group{Source: source, Labels: model.LabelSet{"__meta_x": "y"}}
		for _, a := range addrs {
			tg.Targets = append(tg.Targets, model.LabelSet{"__address__": model.LabelValue(a)})
		}
		return tg
	}
	conv := func(gs ...*targetgroup.Group) []sdk.TargetGroup {
		var out []sdk.TargetGroup
		for _, x := range gs {
			out = append(out, Convert(x))
		}
		return out
	}
	steps := []struct {
		in   []*targetgroup.Group
		want []sdk.TargetGroup
	}{
		{[]*targetgroup.Group{g("b", "2:1"), g("a", "1:1"), g("never")}, conv(g("a", "1:1"), g("b", "2:1"))},
		{[]*targetgroup.Group{g("a", "1:1"), g("b", "2:1")}, nil},
		{[]*targetgroup.Group{g("a", "1:2"), g("b")}, conv(g("a", "1:2"), g("b"))},
		{[]*targetgroup.Group{g("b"), nil}, nil},
	}
	for i, s := range steps {
		if d := cmp.Diff(s.want, changed(sent, s.in)); d != "" {
			t.Errorf("step %d (-want +got):\n%s", i, d)
		}
	}
	if got := Convert(g("a", "1:1")); got.Labels["__meta_x"] != "y" || got.Targets[0]["__address__"] != "1:1" {
		t.Errorf("convert %+v", got)
	}
}

func TestRefreshFailed(t *testing.T) {
	reg := prometheus.NewRegistry()
	rm := discovery.NewRefreshMetrics(reg)
	if err := rm.Register(); err != nil {
		t.Fatal(err)
	}
	m := rm.Instantiate("dns", "set")
	if refreshFailed(reg) {
		t.Error("a failure before any poll failed")
	}
	m.Failures.Inc()
	if !refreshFailed(reg) {
		t.Error("no failure after a failed poll")
	}
}
