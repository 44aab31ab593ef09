package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// catalog is a Consul agent's HTTP API as the discovery uses it: the
// agent's own config, the catalog's services and each service's health
// entries, with blocking queries: a request with ?index=N at the
// current index waits for a change, and every answer carries the index
// in X-Consul-Index.
type catalog struct {
	*httptest.Server
	mu       sync.Mutex
	index    uint64
	services map[string][]obj // name to health entries
	changed  chan struct{}
	done     chan struct{}
}

func newCatalog(t *testing.T) *catalog {
	t.Helper()
	c := &catalog{index: 1, services: map[string][]obj{}, changed: make(chan struct{}), done: make(chan struct{})}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(func() {
		close(c.done)
		c.Close()
	})
	return c
}

// set replaces a service's entries; nil removes it from the catalog.
func (c *catalog) set(name string, entries ...obj) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if entries == nil {
		delete(c.services, name)
	} else {
		c.services[name] = entries
	}
	c.index++
	close(c.changed)
	c.changed = make(chan struct{})
}

// entry is one instance of a service, as /v1/health/service answers.
func entry(service, id, addr string, port int, tags ...string) obj {
	return obj{
		"Node": obj{"ID": "n1", "Node": "node-1", "Address": "10.0.0.1", "Datacenter": "dc1",
			"TaggedAddresses": obj{"lan": "10.0.0.1", "wan": "198.51.100.1"}, "Meta": obj{"rack": "r1"}},
		"Service": obj{"ID": id, "Service": service, "Tags": tags, "Address": addr, "Port": port,
			"Meta": obj{"version": "1.2"}, "EnableTagOverride": false},
		"Checks": []obj{{"Node": "node-1", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing"},
			{"Node": "node-1", "CheckID": "service:" + id, "Name": "Service check", "Status": "passing", "ServiceID": id}},
	}
}

func (c *catalog) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/agent/self" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(obj{"Config": obj{"Datacenter": "dc1", "NodeName": "node-1"}, "Member": obj{}})
		return
	}
	name, isService := strings.CutPrefix(r.URL.Path, "/v1/health/service/")
	if r.URL.Path != "/v1/catalog/services" && !isService {
		http.NotFound(w, r)
		return
	}
	// A blocking query waits while the index is the one the client has.
	wait, _ := strconv.ParseUint(r.URL.Query().Get("index"), 10, 64)
	for {
		c.mu.Lock()
		index, changed := c.index, c.changed
		c.mu.Unlock()
		if wait < index {
			break
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		}
	}
	c.mu.Lock()
	var body any
	if isService {
		entries := c.services[name]
		if entries == nil {
			entries = []obj{}
		}
		body = entries
	} else {
		list := obj{}
		for n, entries := range c.services {
			tags := []string{}
			for _, e := range entries {
				tags = append(tags, e["Service"].(obj)["Tags"].([]string)...)
			}
			list[n] = tags
		}
		body = list
	}
	w.Header().Set("X-Consul-Index", strconv.FormatUint(c.index, 10))
	c.mu.Unlock()
	w.Header().Set("X-Consul-Knownleader", "true")
	w.Header().Set("X-Consul-Lastcontact", "0")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func TestCatalog(t *testing.T) {
	c := newCatalog(t)
	c.set("web", entry("web", "web-1", "10.1.0.5", 8080, "prod"), entry("web", "web-2", "", 8081, "prod", "canary"))
	s := upstreamtest.Start(t, mechanism, map[string]any{"server": strings.TrimPrefix(c.URL, "http://"), "refresh_interval": "100ms"})
	s.Await(t, "the web instances", upstreamtest.HasAddresses("10.1.0.5:8080", "10.0.0.1:8081"))
	want := map[string]string{
		"__address__":                            "10.1.0.5:8080",
		"__meta_consul_address":                  "10.0.0.1",
		"__meta_consul_dc":                       "dc1",
		"__meta_consul_health":                   "passing",
		"__meta_consul_metadata_rack":            "r1",
		"__meta_consul_namespace":                "",
		"__meta_consul_node":                     "node-1",
		"__meta_consul_partition":                "",
		"__meta_consul_service":                  "web",
		"__meta_consul_service_address":          "10.1.0.5",
		"__meta_consul_service_id":               "web-1",
		"__meta_consul_service_metadata_version": "1.2",
		"__meta_consul_service_port":             "8080",
		"__meta_consul_tagged_address_lan":       "10.0.0.1",
		"__meta_consul_tagged_address_wan":       "198.51.100.1",
		"__meta_consul_tags":                     ",prod,",
	}
	got := upstreamtest.Target(s.Groups(), "10.1.0.5:8080")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s=%q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("labels %v, want %v", got, want)
	}

	// An instance moves, a service comes, then the first goes.
	c.set("web", entry("web", "web-1", "10.1.0.5", 9090, "prod"))
	s.Await(t, "the moved instance", upstreamtest.HasAddresses("10.1.0.5:9090"))
	c.set("db", entry("db", "db-1", "10.1.0.9", 5432))
	s.Await(t, "the new service", upstreamtest.HasAddresses("10.1.0.5:9090", "10.1.0.9:5432"))
	c.set("web")
	s.Await(t, "the service gone", upstreamtest.HasAddresses("10.1.0.9:5432"))
}

// TestServices watches only the services named, and only instances with
// the tags given.
func TestServices(t *testing.T) {
	c := newCatalog(t)
	c.set("web", entry("web", "web-1", "10.1.0.5", 8080, "prod"), entry("web", "web-2", "10.1.0.6", 8080, "dev"))
	c.set("db", entry("db", "db-1", "10.1.0.9", 5432, "prod"))
	s := upstreamtest.Start(t, mechanism, map[string]any{
		"server": strings.TrimPrefix(c.URL, "http://"), "services": []string{"web"}, "tags": []string{"prod"},
		"tag_separator": ";", "datacenter": "dc1", "refresh_interval": "100ms",
	})
	s.Await(t, "the web instances tagged prod", func(groups map[string]sdk.TargetGroup) bool {
		a := upstreamtest.Addresses(groups)
		return len(a) > 0 && !strings.Contains(strings.Join(a, " "), "10.1.0.9")
	})
	if got := upstreamtest.Target(s.Groups(), "10.1.0.5:8080")["__meta_consul_tags"]; got != ";prod;" {
		t.Errorf("__meta_consul_tags %q", got)
	}
}

func TestConfig(t *testing.T) {
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{"server": " "}`:                                  "server",
		`{"refresh_interval": "soon"}`:                     "refresh_interval",
		`{"token": "a", "authorization_credentials": "b"}`: "token",
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
	if a, _ := p.Schema.Attribute("token"); !a.Sensitive {
		t.Error("token is not sensitive")
	}
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	c := newCatalog(t)
	c.set("web", entry("web", "web-1", "10.1.0.5", 8080))
	c.set("db", entry("db", "db-1", "10.1.0.9", 5432))
	config, _ := json.Marshal(obj{"server": strings.TrimPrefix(c.URL, "http://"), "refresh_interval": "100ms"})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/consul")), conformance.Options{
		ConfigJSON: config,
		RemoveGroup: func(context.Context) error {
			c.set("db")
			return nil
		},
	})
}
