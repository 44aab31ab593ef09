package main

import (
	"errors"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

type obj = map[string]any

func meta(name string, labels obj) obj {
	return obj{"name": name, "namespace": "default", "labels": labels}
}

func pod(name, ip string) obj {
	return obj{
		"kind": "Pod", "metadata": meta(name, obj{"app": "web"}),
		"spec": obj{"nodeName": "node-1", "containers": []obj{{"name": "web", "image": "web:1",
			"ports": []obj{{"name": "http", "containerPort": 8080, "protocol": "TCP"}}}}},
		"status": obj{"phase": "Running", "podIP": ip, "hostIP": "10.0.0.1",
			"conditions": []obj{{"type": "Ready", "status": "True"}}},
	}
}

func service(port int) obj {
	return obj{
		"kind": "Service", "metadata": meta("web", obj{"app": "web"}),
		"spec": obj{"type": "ClusterIP", "clusterIP": "10.96.0.10", "ports": []obj{{"name": "http", "port": port, "protocol": "TCP"}}},
	}
}

func node(ip string) obj {
	return obj{
		"kind":     "Node",
		"metadata": obj{"name": "node-1", "labels": obj{"kubernetes.io/os": "linux"}},
		"status": obj{
			"addresses":       []obj{{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": "node-1"}},
			"daemonEndpoints": obj{"kubeletEndpoint": obj{"Port": 10250}},
		},
	}
}

func podRef(name string) obj { return obj{"kind": "Pod", "name": name, "namespace": "default"} }

func endpoints(ips ...string) obj {
	var addrs []obj
	for i, ip := range ips {
		addrs = append(addrs, obj{"ip": ip, "targetRef": podRef([]string{"web-1", "web-2"}[i])})
	}
	return obj{
		"kind": "Endpoints", "metadata": meta("web", nil),
		"subsets": []obj{{"addresses": addrs, "ports": []obj{{"name": "http", "port": 8080, "protocol": "TCP"}}}},
	}
}

func endpointSlice(ips ...string) obj {
	var eps []obj
	for i, ip := range ips {
		eps = append(eps, obj{"addresses": []string{ip}, "conditions": obj{"ready": true},
			"targetRef": podRef([]string{"web-1", "web-2"}[i])})
	}
	return obj{
		"kind": "EndpointSlice", "metadata": meta("web-abcde", obj{"kubernetes.io/service-name": "web"}),
		"addressType": "IPv4", "endpoints": eps,
		"ports": []obj{{"name": "http", "port": 8080, "protocol": "TCP"}},
	}
}

func ingress(host string) obj {
	return obj{
		"kind": "Ingress", "metadata": meta("web", nil),
		"spec": obj{"rules": []obj{{"host": host, "http": obj{"paths": []obj{{
			"path": "/", "pathType": "Prefix",
			"backend": obj{"service": obj{"name": "web", "port": obj{"number": 80}}},
		}}}}}},
	}
}

// TestRoles runs each role against the replaying API server: the
// objects there become targets, and an update and a delete reach them.
func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		role    string
		setup   []obj // objects the role's targets refer to
		initial obj
		first   []string
		updated obj
		second  []string
		labels  map[string]string // some labels of the first target
	}{
		{
			role: "pod", initial: pod("web-1", "10.1.0.5"), first: []string{"10.1.0.5:8080"},
			updated: pod("web-1", "10.1.0.6"), second: []string{"10.1.0.6:8080"},
			labels: map[string]string{
				"__meta_kubernetes_namespace": "default", "__meta_kubernetes_pod_name": "web-1",
				"__meta_kubernetes_pod_label_app": "web", "__meta_kubernetes_pod_ip": "10.1.0.5",
				"__meta_kubernetes_pod_container_name": "web", "__meta_kubernetes_pod_container_port_number": "8080",
				"__meta_kubernetes_pod_ready": "true", "__meta_kubernetes_pod_node_name": "node-1",
			},
		},
		{
			role: "service", initial: service(80), first: []string{"web.default.svc:80"},
			updated: service(8080), second: []string{"web.default.svc:8080"},
			labels: map[string]string{
				"__meta_kubernetes_service_name": "web", "__meta_kubernetes_service_port_name": "http",
				"__meta_kubernetes_service_cluster_ip": "10.96.0.10", "__meta_kubernetes_service_label_app": "web",
			},
		},
		{
			role: "node", initial: node("10.0.0.1"), first: []string{"10.0.0.1:10250"},
			updated: node("10.0.0.2"), second: []string{"10.0.0.2:10250"},
			labels: map[string]string{
				"__meta_kubernetes_node_name": "node-1", "__meta_kubernetes_node_address_InternalIP": "10.0.0.1",
				"__meta_kubernetes_node_label_kubernetes_io_os": "linux",
			},
		},
		{
			role: "endpoints", setup: []obj{service(80), pod("web-1", "10.1.0.5"), pod("web-2", "10.1.0.7")},
			initial: endpoints("10.1.0.5"), first: []string{"10.1.0.5:8080"},
			updated: endpoints("10.1.0.5", "10.1.0.7"), second: []string{"10.1.0.5:8080", "10.1.0.7:8080"},
			labels: map[string]string{
				"__meta_kubernetes_endpoints_name": "web", "__meta_kubernetes_endpoint_port_name": "http",
				"__meta_kubernetes_service_name": "web", "__meta_kubernetes_pod_name": "web-1",
				"__meta_kubernetes_endpoint_address_target_kind": "Pod",
			},
		},
		{
			role: "endpointslice", setup: []obj{service(80), pod("web-1", "10.1.0.5"), pod("web-2", "10.1.0.7")},
			initial: endpointSlice("10.1.0.5"), first: []string{"10.1.0.5:8080"},
			updated: endpointSlice("10.1.0.5", "10.1.0.7"), second: []string{"10.1.0.5:8080", "10.1.0.7:8080"},
			labels: map[string]string{
				"__meta_kubernetes_endpointslice_name": "web-abcde", "__meta_kubernetes_endpointslice_port_name": "http",
				"__meta_kubernetes_endpointslice_address_type": "IPv4", "__meta_kubernetes_service_name": "web",
				"__meta_kubernetes_pod_name": "web-1", "__meta_kubernetes_endpointslice_endpoint_conditions_ready": "true",
			},
		},
		{
			role: "ingress", initial: ingress("web.example.com"), first: []string{"web.example.com"},
			updated: ingress("www.example.com"), second: []string{"www.example.com"},
			labels: map[string]string{
				"__meta_kubernetes_ingress_name": "web", "__meta_kubernetes_ingress_host": "web.example.com",
				"__meta_kubernetes_ingress_path": "/", "__meta_kubernetes_ingress_scheme": "http",
			},
		},
	} {
		t.Run(tc.role, func(t *testing.T) {
			api := newAPIServer(t)
			for _, o := range tc.setup {
				api.add(o)
			}
			api.add(tc.initial)
			s := upstreamtest.Start(t, mechanism, map[string]any{"api_server": api.URL, "role": tc.role})
			s.Await(t, "the first targets", upstreamtest.HasAddresses(tc.first...))
			got := upstreamtest.Target(s.Groups(), tc.first[0])
			for k, v := range tc.labels {
				if got[k] != v {
					t.Errorf("label %s=%q, want %q; the target is %v", k, got[k], v, got)
				}
			}
			api.update(tc.updated)
			s.Await(t, "the updated targets", upstreamtest.HasAddresses(tc.second...))
			api.remove(tc.updated)
			s.Await(t, "no targets", upstreamtest.HasAddresses())
			// A new object after a delete is seen too.
			api.add(tc.initial)
			s.Await(t, "the targets again", upstreamtest.HasAddresses(tc.first...))
		})
	}
}

// TestConfig checks that upstream's validation reaches the user, naming
// the attribute.
func TestConfig(t *testing.T) {
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{"role": "pd", "api_server": "http://127.0.0.1:1"}`:                           "role",
		`{"role": "pod", "selectors": ["{role: pod, labl: 'a=b'}"]}`:                   "selectors",
		`{"role": "pod", "selectors": ["{role: pod"]}`:                                 "selectors",
		`{"role": "pod", "api_server": "http://x:1", "kubeconfig_file": "/k.yaml"}`:    "api_server",
		`{"role": "pod", "api_server": "http://127.0.0.1:1", "namespaces_names": "a"}`: "namespaces_names",
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
