package main

import (
	"context"
	"encoding/json"
	"errors"
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

type obj = map[string]any

// agent answers Nomad's service registration API: /v1/services lists
// the services by namespace, /v1/service/NAME their registrations.
type agent struct {
	*httptest.Server
	mu       sync.Mutex
	services map[string][]obj
}

func newAgent(t *testing.T) *agent {
	t.Helper()
	a := &agent{services: map[string][]obj{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		var body any
		if r.URL.Path == "/v1/services" {
			stubs := []obj{}
			for name, regs := range a.services {
				stubs = append(stubs, obj{"ServiceName": name, "Tags": regs[0]["Tags"]})
			}
			body = []obj{{"Namespace": "default", "Services": stubs}}
		} else if name, ok := strings.CutPrefix(r.URL.Path, "/v1/service/"); ok {
			regs := a.services[name]
			if regs == nil {
				regs = []obj{}
			}
			body = regs
		} else {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Nomad-Index", "10")
		w.Header().Set("X-Nomad-Knownleader", "true")
		w.Header().Set("X-Nomad-Lastcontact", "0")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(a.Close)
	return a
}

func registration(service, alloc, addr string, port int) obj {
	return obj{
		"ID": "_nomad-task-" + alloc + "-" + service, "ServiceName": service, "Namespace": "default",
		"NodeID": "node-1", "Datacenter": "dc1", "JobID": "shop", "AllocID": alloc,
		"Tags": []string{"metrics", "v2"}, "Address": addr, "Port": port, "CreateIndex": 5, "ModifyIndex": 5,
	}
}

func (a *agent) set(service string, regs ...obj) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if regs == nil {
		delete(a.services, service)
	} else {
		a.services[service] = regs
	}
}

func TestServices(t *testing.T) {
	a := newAgent(t)
	a.set("web", registration("web", "a1", "10.0.0.5", 8080), registration("web", "a2", "10.0.0.6", 8080))
	s := upstreamtest.Start(t, mechanism, map[string]any{"server": a.URL, "refresh_interval": "100ms"})
	s.Await(t, "the registrations", upstreamtest.HasAddresses("10.0.0.5:8080", "10.0.0.6:8080"))
	got := upstreamtest.Target(s.Groups(), "10.0.0.5:8080")
	for k, v := range map[string]string{
		"__meta_nomad_service": "web", "__meta_nomad_address": "10.0.0.5", "__meta_nomad_service_port": "8080",
		"__meta_nomad_service_address": "10.0.0.5", "__meta_nomad_node_id": "node-1", "__meta_nomad_dc": "dc1",
		"__meta_nomad_namespace": "default", "__meta_nomad_tags": ",metrics,v2,",
		"__meta_nomad_service_id": "_nomad-task-a1-web",
	} {
		if got[k] != v {
			t.Errorf("label %s=%q, want %q", k, got[k], v)
		}
	}
	a.set("web", registration("web", "a2", "10.0.0.6", 8080))
	s.Await(t, "one registration", upstreamtest.HasAddresses("10.0.0.6:8080"))
	a.set("web")
	s.Await(t, "no registrations", upstreamtest.HasAddresses())
}

func TestConfig(t *testing.T) {
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{"server": ""}`:         "server",
		`{"allow_stale": "yes"}`: "allow_stale",
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
	a := newAgent(t)
	a.set("web", registration("web", "a1", "10.0.0.5", 8080))
	a.set("db", registration("db", "a3", "10.0.0.9", 5432))
	config, _ := json.Marshal(map[string]any{"server": a.URL, "refresh_interval": "1s"})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/nomad")), conformance.Options{
		ConfigJSON: config,
		// All the services are one group, which the last to go leaves empty.
		RemoveGroup: func(context.Context) error {
			a.set("db")
			a.set("web")
			return nil
		},
	})
}
