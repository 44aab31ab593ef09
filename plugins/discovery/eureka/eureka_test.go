package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// registry answers GET /eureka/apps with the applications it holds, in
// the XML a Eureka server sends.
type registry struct {
	*httptest.Server
	mu   sync.Mutex
	apps map[string][]string // application name to instance addresses
}

func newRegistry(t *testing.T) *registry {
	t.Helper()
	r := &registry{apps: map[string][]string{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/eureka/apps" {
			http.NotFound(w, req)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		var b strings.Builder
		b.WriteString(`<applications><versions__delta>1</versions__delta><apps__hashcode>UP_1_</apps__hashcode>`)
		for app, addrs := range r.apps {
			fmt.Fprintf(&b, `<application><name>%s</name>`, app)
			for i, a := range addrs {
				fmt.Fprintf(&b, `<instance><instanceId>%s-%d</instanceId><hostName>%s-%d.local</hostName><app>%s</app>
<ipAddr>%s</ipAddr><status>UP</status><overriddenstatus>UNKNOWN</overriddenstatus>
<port enabled="true">8080</port><securePort enabled="false">443</securePort><countryId>1</countryId>
<dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"><name>MyOwn</name></dataCenterInfo>
<metadata><zone>a</zone></metadata>
<homePageUrl>http://%s:8080/</homePageUrl><statusPageUrl>http://%s:8080/info</statusPageUrl><healthCheckUrl>http://%s:8080/health</healthCheckUrl>
<vipAddress>%s</vipAddress><isCoordinatingDiscoveryServer>false</isCoordinatingDiscoveryServer></instance>`,
					strings.ToLower(app), i, strings.ToLower(app), i, app, a, a, a, a, strings.ToLower(app))
			}
			b.WriteString(`</application>`)
		}
		b.WriteString(`</applications>`)
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *registry) set(app string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if addrs == nil {
		delete(r.apps, app)
	} else {
		r.apps[app] = addrs
	}
}

func TestApps(t *testing.T) {
	r := newRegistry(t)
	r.set("WEB", "10.0.0.5", "10.0.0.6")
	s := upstreamtest.Start(t, mechanism, map[string]any{"server": r.URL + "/eureka", "refresh_interval": "100ms"})
	s.Await(t, "the instances", upstreamtest.HasAddresses("web-0.local:8080", "web-1.local:8080"))
	got := upstreamtest.Target(s.Groups(), "web-0.local:8080")
	for k, v := range map[string]string{
		"__meta_eureka_app_name": "WEB", "__meta_eureka_app_instance_ip_addr": "10.0.0.5",
		"__meta_eureka_app_instance_status": "UP", "__meta_eureka_app_instance_port": "8080",
		"__meta_eureka_app_instance_metadata_zone": "a", "__meta_eureka_app_instance_vip_address": "web",
	} {
		if got[k] != v {
			t.Errorf("label %s=%q, want %q", k, got[k], v)
		}
	}
	r.set("WEB", "10.0.0.6")
	s.Await(t, "one instance", upstreamtest.HasAddresses("web-0.local:8080"))
	r.set("WEB")
	s.Await(t, "no instances", upstreamtest.HasAddresses())
}

func TestConfig(t *testing.T) {
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{}`:                        "server",
		`{"server": "::not a url"}`: "server",
	} {
		cfg, err := p.Schema.Parse([]byte(config))
		if err == nil {
			_, err = p.Discoverer(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("%s: %v, want an error naming %q", config, err, attr)
		}
	}
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	r := newRegistry(t)
	r.set("WEB", "10.0.0.5")
	config, _ := json.Marshal(map[string]any{"server": r.URL + "/eureka", "refresh_interval": "1s"})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/eureka")), conformance.Options{
		ConfigJSON: config,
		RemoveGroup: func(context.Context) error {
			r.set("WEB")
			return nil
		},
	})
}
