package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
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

// engine answers the Docker Engine API's ping, container list and
// network list, as the daemon does, under any API version prefix.
type engine struct {
	*httptest.Server
	mu         sync.Mutex
	containers []obj
}

var versioned = regexp.MustCompile(`^/v[0-9.]+`)

func newEngine(t *testing.T) *engine {
	t.Helper()
	e := &engine{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.47")
		w.Header().Set("Docker-Experimental", "false")
		w.Header().Set("Ostype", "linux")
		var body any
		switch versioned.ReplaceAllString(r.URL.Path, "") {
		case "/_ping":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("OK"))
			return
		case "/containers/json":
			e.mu.Lock()
			body = append([]obj{}, e.containers...)
			e.mu.Unlock()
		case "/networks":
			body = []obj{{"Name": "bridge", "Id": "net-bridge", "Scope": "local", "Driver": "bridge",
				"Internal": false, "Ingress": false, "Labels": obj{"com.example.net": "default"}}}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(e.Close)
	return e
}

func container(id, name, ip string, port int) obj {
	return obj{
		"Id": id, "Names": []string{"/" + name}, "Image": "nginx:1", "ImageID": "sha256:abc",
		"Command": "nginx", "Created": 1700000000, "State": "running", "Status": "Up 1 minute",
		"Labels":     obj{"com.example.app": name},
		"Ports":      []obj{{"IP": "0.0.0.0", "PrivatePort": port, "PublicPort": 18000 + port, "Type": "tcp"}},
		"HostConfig": obj{"NetworkMode": "bridge"},
		"NetworkSettings": obj{"Networks": obj{"bridge": obj{
			"NetworkID": "net-bridge", "EndpointID": "ep-" + id, "Gateway": "172.17.0.1",
			"IPAddress": ip, "IPPrefixLen": 16, "MacAddress": "02:42:ac:11:00:02",
		}}},
		"Mounts": []obj{},
	}
}

func (e *engine) set(containers ...obj) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.containers = containers
}

func TestContainers(t *testing.T) {
	e := newEngine(t)
	e.set(container("c1", "web", "172.17.0.2", 80), container("c2", "api", "172.17.0.3", 8080))
	s := upstreamtest.Start(t, mechanism, map[string]any{"host": e.URL, "refresh_interval": "100ms"})
	s.Await(t, "the containers", upstreamtest.HasAddresses("172.17.0.2:80", "172.17.0.3:8080"))
	got := upstreamtest.Target(s.Groups(), "172.17.0.2:80")
	for k, v := range map[string]string{
		"__meta_docker_container_id": "c1", "__meta_docker_container_name": "/web",
		"__meta_docker_container_network_mode": "bridge", "__meta_docker_container_label_com_example_app": "web",
		"__meta_docker_network_name": "bridge", "__meta_docker_network_ip": "172.17.0.2",
		"__meta_docker_network_label_com_example_net": "default", "__meta_docker_port_private": "80",
		"__meta_docker_port_public": "18080", "__meta_docker_port_public_ip": "0.0.0.0",
	} {
		if got[k] != v {
			t.Errorf("label %s=%q, want %q", k, got[k], v)
		}
	}
	e.set(container("c2", "api", "172.17.0.3", 8080))
	s.Await(t, "one container", upstreamtest.HasAddresses("172.17.0.3:8080"))
	e.set()
	s.Await(t, "no containers", upstreamtest.HasAddresses())
}

func TestConfig(t *testing.T) {
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{}`: "host",
		`{"host": "tcp://127.0.0.1:2375", "filters": ["{nme: label}"]}`: "filters",
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
	e := newEngine(t)
	e.set(container("c1", "web", "172.17.0.2", 80))
	config, _ := json.Marshal(map[string]any{"host": e.URL, "refresh_interval": "1s"})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/docker")), conformance.Options{
		ConfigJSON: config,
		RemoveGroup: func(context.Context) error {
			e.set()
			return nil
		},
	})
}
