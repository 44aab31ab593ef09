package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/vigilmon/vigil/internal/certgen"
	"github.com/vigilmon/vigil/sdk"
)

// servers are the loopback servers a test probes.
type servers struct {
	http, https, tcp, tls, dns, grpc string // addresses, host:port
	caFile                           string
	certExpiry                       time.Time
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// startServers starts an HTTP server (/ok says hello, /redirect goes to
// /ok, /teapot answers 418), the same over TLS with a certificate of a
// test CA, a TCP server that greets "HELLO vigil" and answers "PONG x"
// to "PING x", the same over TLS, a DNS server that knows vigil.test,
// and a gRPC health server whose service "ok" serves and "down" does
// not.
func startServers(t *testing.T) *servers {
	t.Helper()
	s := &servers{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Last-Modified", "Mon, 07 Dec 2026 10:00:00 GMT")
		fmt.Fprint(w, "hello vigil")
	})
	mux.Handle("/redirect", http.RedirectHandler("/ok", http.StatusFound))
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	ln := listen(t)
	s.http = ln.Addr().String()
	go (&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)

	ca, err := certgen.NewCA("vigil test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Server("localhost", []string{"localhost", "127.0.0.1"}, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.certExpiry = srv.Cert.NotAfter
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(srv.CertPEM, srv.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln = tls.NewListener(listen(t), tlsCfg)
	s.https = ln.Addr().String()
	go (&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)

	banner := func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(c, "HELLO vigil 1.2\n")
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if arg, ok := strings.CutPrefix(sc.Text(), "PING "); ok {
						fmt.Fprintf(c, "PONG %s\n", arg)
					}
				}
			}()
		}
	}
	ln = listen(t)
	s.tcp = ln.Addr().String()
	go banner(ln)
	ln = tls.NewListener(listen(t), tlsCfg)
	s.tls = ln.Addr().String()
	go banner(ln)

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.dns = pc.LocalAddr().String()
	dnsSrv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if q := r.Question[0]; q.Name == "vigil.test." && q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR("vigil.test. 300 IN A 192.0.2.7")
			m.Answer = append(m.Answer, rr)
		} else if q.Name != "vigil.test." {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go dnsSrv.ActivateAndServe()
	t.Cleanup(func() { dnsSrv.Shutdown() })

	g := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("ok", grpc_health_v1.HealthCheckResponse_SERVING)
	hs.SetServingStatus("down", grpc_health_v1.HealthCheckResponse_NOT_SERVING)
	grpc_health_v1.RegisterHealthServer(g, hs)
	ln = listen(t)
	s.grpc = ln.Addr().String()
	go g.Serve(ln)
	t.Cleanup(g.Stop)
	return s
}

// modulesYAML is the blackbox configuration of the tests, for the plugin
// and blackbox_exporter alike.
func modulesYAML(s *servers) string {
	return fmt.Sprintf(`modules:
  http_2xx:
    prober: http
    http:
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: ["hello"]
  http_body_fail:
    prober: http
    http:
      preferred_ip_protocol: ip4
      fail_if_body_matches_regexp: ["hello"]
  http_no_redirect:
    prober: http
    http:
      preferred_ip_protocol: ip4
      no_follow_redirects: true
  http_tls:
    prober: http
    http:
      preferred_ip_protocol: ip4
      fail_if_not_ssl: true
      tls_config:
        ca_file: %[1]s
  tcp_banner:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
      query_response:
      - expect: "^HELLO vigil ([0-9.]+)"
      - send: "PING abc"
      - expect: "^PONG abc"
  tcp_tls:
    prober: tcp
    tcp:
      preferred_ip_protocol: ip4
      tls: true
      tls_config:
        ca_file: %[1]s
      query_response:
      - expect: "^HELLO"
  dns_a:
    prober: dns
    dns:
      preferred_ip_protocol: ip4
      query_name: vigil.test
      query_type: A
      validate_answer_rrs:
        fail_if_not_matches_regexp: ["192\\.0\\.2\\.7"]
  dns_soa:
    prober: dns
    dns:
      preferred_ip_protocol: ip4
      query_name: nowhere.test
      query_type: SOA
  grpc_ok:
    prober: grpc
    grpc:
      preferred_ip_protocol: ip4
      service: ok
  grpc_down:
    prober: grpc
    grpc:
      preferred_ip_protocol: ip4
      service: down
  icmp:
    prober: icmp
    icmp:
      preferred_ip_protocol: ip4
`, s.caFile)
}

// probe is one module on one target, and what the plugin must answer.
type probe struct {
	module, target string
	success        float64
	values         map[string]float64 // series, as name{labels}, to value
}

func probes(s *servers) []probe {
	return []probe{
		{"http_2xx", "http://" + s.http + "/ok", 1, map[string]float64{"probe_http_status_code": 200, "probe_http_ssl": 0, "probe_failed_due_to_regex": 0,
			"probe_http_uncompressed_body_length": 11, "probe_http_last_modified_timestamp_seconds": 1796637600, "probe_http_version": 1.1, "probe_ip_protocol": 4}},
		{"http_2xx", "http://" + s.http + "/redirect", 1, map[string]float64{"probe_http_redirects": 1, "probe_http_status_code": 200}},
		{"http_2xx", "http://" + s.http + "/teapot", 0, map[string]float64{"probe_http_status_code": 418}},
		{"http_body_fail", "http://" + s.http + "/ok", 0, map[string]float64{"probe_failed_due_to_regex": 1}},
		{"http_no_redirect", "http://" + s.http + "/redirect", 0, map[string]float64{"probe_http_status_code": 302}},
		{"http_tls", "https://localhost:" + port(s.https) + "/ok", 1, map[string]float64{"probe_http_ssl": 1, "probe_ssl_earliest_cert_expiry": float64(s.certExpiry.Unix()),
			`probe_tls_version_info{version="TLS 1.3"}`: 1}},
		{"http_tls", "http://" + s.http + "/ok", 0, nil},
		{"tcp_banner", s.tcp, 1, map[string]float64{"probe_failed_due_to_regex": 0}},
		{"tcp_banner", "127.0.0.1:1", 0, nil},
		{"tcp_tls", "localhost:" + port(s.tls), 1, map[string]float64{"probe_ssl_earliest_cert_expiry": float64(s.certExpiry.Unix())}},
		{"dns_a", s.dns, 1, map[string]float64{"probe_dns_answer_rrs": 1, "probe_dns_query_succeeded": 1}},
		{"dns_soa", s.dns, 0, map[string]float64{"probe_dns_answer_rrs": 0, "probe_dns_query_succeeded": 1}},
		{"grpc_ok", s.grpc, 1, map[string]float64{`probe_grpc_healthcheck_response{serving_status="SERVING"}`: 1, "probe_grpc_ssl": 0}},
		{"grpc_down", s.grpc, 0, map[string]float64{`probe_grpc_healthcheck_response{serving_status="NOT_SERVING"}`: 1}},
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// series flattens families into name{labels} to value.
func series(fams []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			var pairs []string
			for _, l := range m.Label {
				pairs = append(pairs, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(pairs)
			key := f.GetName()
			if len(pairs) > 0 {
				key += "{" + strings.Join(pairs, ",") + "}"
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

func newTestExporter(t *testing.T, modules string) *exporter {
	t.Helper()
	cfg, err := plugin.Schema.Values(map[string]any{"modules": modules})
	if err != nil {
		t.Fatal(err)
	}
	e, err := newExporter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e.(*exporter)
}

// labelsModule reports what the banner says as labels, which
// blackbox_exporter 0.23 does not know.
const labelsModule = `  tcp_labels:
    prober: tcp
    tcp:
      query_response:
      - expect: "^HELLO vigil ([0-9.]+)"
        labels:
        - name: version
          value: "${1}"
`

// TestProbes probes the loopback servers with each module.
func TestProbes(t *testing.T) {
	s := startServers(t)
	e := newTestExporter(t, modulesYAML(s)+labelsModule)
	cases := append(probes(s), probe{"tcp_labels", s.tcp, 1, map[string]float64{`probe_expect_info{version="1.2"}`: 1}})
	for _, p := range cases {
		t.Run(p.module+" "+p.target, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			fams, err := e.CollectTarget(ctx, sdk.Target{Address: p.target, Module: p.module})
			if err != nil {
				t.Fatal(err)
			}
			got := series(fams)
			if got["probe_success"] != p.success {
				t.Errorf("probe_success %v, want %v; series %v", got["probe_success"], p.success, got)
			}
			for k, want := range p.values {
				if v, ok := got[k]; !ok || v != want {
					t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
				}
			}
			if got["probe_duration_seconds"] <= 0 || got["probe_timeout_seconds"] <= 0 || got["probe_timeout_seconds"] > 10 {
				t.Errorf("probe_duration_seconds %v, probe_timeout_seconds %v", got["probe_duration_seconds"], got["probe_timeout_seconds"])
			}
		})
	}
}

// TestBadTargetsAndConfigs: what cannot be probed at all is an error
// naming it; a config blackbox_exporter refuses is refused.
func TestBadTargetsAndConfigs(t *testing.T) {
	e := newTestExporter(t, "modules:\n  tcp_connect:\n    prober: tcp\n")
	ctx := context.Background()
	if _, err := e.CollectTarget(ctx, sdk.Target{Address: "127.0.0.1:1", Module: "nope"}); err == nil || !strings.Contains(err.Error(), `unknown module "nope"; the modules are tcp_connect`) {
		t.Errorf("unknown module: %v", err)
	}
	if _, err := e.CollectTarget(ctx, sdk.Target{Module: "tcp_connect"}); err == nil {
		t.Error("an empty target is probed")
	}
	if _, err := e.Collect(ctx); err == nil || !strings.Contains(err.Error(), "targets") {
		t.Errorf("Collect without a target: %v", err)
	}
	for modules, want := range map[string]string{
		"modules:\n  x:\n    prober: smtp\n":                                                        `prober "smtp" is not valid`,
		"modules:\n  x:\n    prober: dns\n":                                                         "query name must be set",
		"modules:\n  x:\n    prober: http\n    http:\n      metod: GET\n":                           "field metod not found",
		"modules:\n  x:\n    prober: tcp\n    tcp:\n      query_response:\n      - expect: \"(\"\n": "bad regular expression",
		"modules: {}\n": "has no modules",
	} {
		cfg, err := plugin.Schema.Values(map[string]any{"modules": modules, "default_module": "x"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = newExporter(cfg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("modules %q: %v, want an error with %q", modules, err, want)
		}
	}
	cfg, _ := plugin.Schema.Values(map[string]any{"default_module": "nope"})
	if _, err := newExporter(cfg); err == nil || !strings.Contains(err.Error(), `no module is named "nope"`) {
		t.Errorf("unknown default module: %v", err)
	}
}

// TestICMP pings 127.0.0.1: as root (or with ping sockets allowed) it
// succeeds; where neither is possible, the error says what to do.
func TestICMP(t *testing.T) {
	e := newTestExporter(t, "modules:\n  icmp:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip4\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fams, err := e.CollectTarget(ctx, sdk.Target{Address: "127.0.0.1", Module: "icmp"})
	if err != nil {
		if os.Geteuid() == 0 {
			t.Fatalf("as root: %v", err)
		}
		if !strings.Contains(err.Error(), "CAP_NET_RAW") {
			t.Fatalf("without privileges, the error does not say what to do: %v", err)
		}
		t.Skipf("no ICMP socket: %v", err)
	}
	got := series(fams)
	if got["probe_success"] != 1 || got[`probe_icmp_duration_seconds{phase="rtt"}`] <= 0 {
		t.Errorf("ping of 127.0.0.1: %v", got)
	}
}
