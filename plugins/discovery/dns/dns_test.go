package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// zone is a DNS server on a loopback port answering from records the
// test changes as it goes.
type zone struct {
	addr    string
	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case FQDN
}

func newZone(t *testing.T) *zone {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z := &zone{addr: pc.LocalAddr().String(), records: map[string][]dns.RR{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: z, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return z
}

// set replaces the records of the zone with those written in zone-file
// syntax.
func (z *zone) set(t *testing.T, rrs ...string) {
	t.Helper()
	records := map[string][]dns.RR{}
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	z.mu.Lock()
	z.records = records
	z.mu.Unlock()
}

// ServeDNS answers a question with the records of its name and type:
// NXDOMAIN for a name the zone does not hold.
func (z *zone) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	z.mu.Lock()
	rrs, ok := z.records[strings.ToLower(r.Question[0].Name)]
	z.mu.Unlock()
	if !ok {
		m.Rcode = dns.RcodeNameError
	}
	for _, rr := range rrs {
		if rr.Header().Rrtype == r.Question[0].Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	_ = w.WriteMsg(m)
}

func TestSRV(t *testing.T) {
	z := newZone(t)
	z.set(t,
		"_api._tcp.example.test. 60 IN SRV 10 5 9100 a.example.test.",
		"_api._tcp.example.test. 60 IN SRV 10 5 9101 b.example.test.",
	)
	s := upstreamtest.Start(t, mechanism, map[string]any{
		"names": []string{"_api._tcp.example.test"}, "refresh_interval": "100ms", "nameservers": []string{z.addr},
	})
	s.Await(t, "both SRV targets", upstreamtest.HasAddresses("a.example.test:9100", "b.example.test:9101"))
	want := map[string]string{
		"__address__":                  "a.example.test:9100",
		"__meta_dns_name":              "_api._tcp.example.test",
		"__meta_dns_srv_record_target": "a.example.test.",
		"__meta_dns_srv_record_port":   "9100",
		"__meta_dns_mx_record_target":  "",
		"__meta_dns_ns_record_target":  "",
	}
	if got := upstreamtest.Target(s.Groups(), "a.example.test:9100"); !equalMaps(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	if g := s.Groups()["_api._tcp.example.test"]; len(g.Targets) != 2 {
		t.Errorf("group %+v, want both targets under the name as source", g)
	}

	// One target moves to another port, one goes, one comes.
	z.set(t,
		"_api._tcp.example.test. 60 IN SRV 10 5 9200 a.example.test.",
		"_api._tcp.example.test. 60 IN SRV 10 5 9100 c.example.test.",
	)
	s.Await(t, "the changed SRV targets", upstreamtest.HasAddresses("a.example.test:9200", "c.example.test:9100"))
	// The name goes from the zone: no targets are left.
	z.set(t)
	s.Await(t, "no targets", upstreamtest.HasAddresses())
}

func TestAAndAAAA(t *testing.T) {
	z := newZone(t)
	z.set(t,
		"web.example.test. 60 IN A 192.0.2.1",
		"web.example.test. 60 IN A 192.0.2.2",
		"web.example.test. 60 IN AAAA 2001:db8::1",
	)
	a := upstreamtest.Start(t, mechanism, map[string]any{
		"names": []string{"web.example.test"}, "type": "A", "port": 8080, "refresh_interval": "100ms", "nameservers": []string{z.addr},
	})
	aaaa := upstreamtest.Start(t, mechanism, map[string]any{
		"names": []string{"web.example.test"}, "type": "AAAA", "port": 8080, "refresh_interval": "100ms", "nameservers": []string{z.addr},
	})
	a.Await(t, "the A targets", upstreamtest.HasAddresses("192.0.2.1:8080", "192.0.2.2:8080"))
	aaaa.Await(t, "the AAAA target", upstreamtest.HasAddresses("[2001:db8::1]:8080"))
	if got := upstreamtest.Target(aaaa.Groups(), "[2001:db8::1]:8080")["__meta_dns_name"]; got != "web.example.test" {
		t.Errorf("__meta_dns_name %q", got)
	}

	z.set(t, "web.example.test. 60 IN A 192.0.2.2", "web.example.test. 60 IN AAAA 2001:db8::2")
	a.Await(t, "one A target gone", upstreamtest.HasAddresses("192.0.2.2:8080"))
	aaaa.Await(t, "the new AAAA target", upstreamtest.HasAddresses("[2001:db8::2]:8080"))
}

// TestServerDown keeps the last targets while no server answers, and
// sends an empty first update when none ever did.
func TestServerDown(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	silent := pc.LocalAddr().String()
	defer pc.Close()
	p := upstream.Plugin(mechanism)
	cfg, err := p.Schema.Values(map[string]any{"names": []string{"x.test"}, "nameservers": []string{silent}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Discoverer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []sdk.TargetGroup, 1)
	go func() {
		_ = d.Discover(ctx, func(g []sdk.TargetGroup) error { got <- g; cancel(); return nil })
	}()
	if u := <-got; len(u) != 0 {
		t.Errorf("first update %+v, want an empty one", u)
	}
}

func TestConfig(t *testing.T) {
	schema, err := upstream.Schema(mechanism)
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]sdk.AttributeType{
		"names": sdk.TypeStringList, "type": sdk.TypeString, "port": sdk.TypeNumber,
		"refresh_interval": sdk.TypeDuration, "nameservers": sdk.TypeStringList,
	} {
		if a, ok := schema.Attribute(name); !ok || a.Type != typ {
			t.Errorf("attribute %q: %+v, want type %s", name, a, typ)
		}
	}
	if len(schema) != 5 {
		t.Errorf("schema %+v, want 5 attributes", schema)
	}

	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{}`:                                     "names",
		`{"names": ["a"], "type": "A"}`:          "port",
		`{"names": ["a"], "type": "TXT"}`:        "type",
		`{"names": ["a"], "nameservers": ["x"]}`: "nameservers",
		`{"names": ["a"], "nameservers": []}`:    "nameservers",
	} {
		cfg, err := p.Schema.Parse([]byte(config))
		if err == nil {
			_, err = p.Discoverer(cfg)
		}
		if err == nil {
			t.Errorf("%s: no error", config)
			continue
		}
		var ae *sdk.AttributeError
		if attr != "names" && attr != "port" && (!errors.As(err, &ae) || ae.Attribute != attr) {
			t.Errorf("%s: %v, want an error naming %q", config, err, attr)
		}
	}
	cfg, err := p.Schema.Parse([]byte(`{"names": ["_x._tcp.a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := upstream.Decode(mechanism, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Upstream's defaults.
	if j, _ := json.Marshal(c); !strings.Contains(string(j), `"Type":"SRV"`) || !strings.Contains(string(j), `"RefreshInterval":"30s"`) {
		t.Errorf("decoded %s, want upstream's defaults", j)
	}
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	z := newZone(t)
	z.set(t,
		"_a._tcp.example.test. 60 IN SRV 10 5 9100 a.example.test.",
		"_b._tcp.example.test. 60 IN SRV 10 5 9100 b.example.test.",
	)
	config, _ := json.Marshal(map[string]any{
		"names": []string{"_a._tcp.example.test", "_b._tcp.example.test"}, "refresh_interval": "1s", "nameservers": []string{z.addr},
	})
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/dns")), conformance.Options{
		ConfigJSON: config,
		RemoveGroup: func(context.Context) error {
			z.set(t, "_a._tcp.example.test. 60 IN SRV 10 5 9100 a.example.test.")
			return nil
		},
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
