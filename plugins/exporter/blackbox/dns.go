package main

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	pconfig "github.com/prometheus/common/config"
)

// probeDNS asks the DNS server target (host or host:port, port 53 or
// 853 for DNS over TLS) the module's question, and checks the answer.
func probeDNS(ctx context.Context, target string, m Module, reg *prometheus.Registry, log hclog.Logger) (bool, error) {
	durations := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_dns_duration_seconds", Help: "Duration of DNS request by phase"}, []string{"phase"})
	answerRRs := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_dns_answer_rrs", Help: "Returns number of entries in the answer resource record list"})
	authorityRRs := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_dns_authority_rrs", Help: "Returns number of entries in the authority resource record list"})
	additionalRRs := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_dns_additional_rrs", Help: "Returns number of entries in the additional resource record list"})
	succeeded := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_dns_query_succeeded", Help: "Displays whether or not the query was executed successfully"})
	for _, phase := range []string{"resolve", "connect", "request"} {
		durations.WithLabelValues(phase)
	}
	reg.MustRegister(durations, answerRRs, authorityRRs, additionalRRs, succeeded)

	d := m.DNS
	qc := uint16(dns.ClassINET)
	if d.QueryClass != "" {
		qc = dns.StringToClass[d.QueryClass]
	}
	qt := dns.TypeANY
	if d.QueryType != "" {
		qt = dns.StringToType[d.QueryType]
	}
	transport := d.TransportProtocol
	if transport == "" {
		transport = "udp"
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		host, port = target, "53"
		if d.DNSOverTLS {
			port = "853"
		}
	}
	ip, lookup, err := resolve(ctx, d.IPProtocol, d.IPProtocolFallback, host, reg, log)
	if err != nil {
		log.Debug("cannot resolve the target", "error", err)
		return false, nil
	}
	durations.WithLabelValues("resolve").Add(lookup)
	network := transport + "4"
	if ip.IP.To4() == nil {
		network = transport + "6"
	}
	client := &dns.Client{Net: network}
	if d.DNSOverTLS {
		if transport != "tcp" {
			return false, fmt.Errorf("dns_over_tls needs transport_protocol tcp")
		}
		client.Net += "-tls"
		cfg, err := pconfig.NewTLSConfig(&d.TLSConfig)
		if err != nil {
			return false, fmt.Errorf("tls_config: %w", err)
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		client.TLSConfig = cfg
	}
	if d.SourceIPAddress != "" {
		src := net.ParseIP(d.SourceIPAddress)
		if src == nil {
			return false, fmt.Errorf("source_ip_address %q is not an IP address", d.SourceIPAddress)
		}
		client.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: src}}
		if transport == "tcp" {
			client.Dialer.LocalAddr = &net.TCPAddr{IP: src}
		}
	}
	msg := &dns.Msg{}
	msg.Id = dns.Id()
	msg.RecursionDesired = d.Recursion
	msg.Question = []dns.Question{{Name: dns.Fqdn(d.QueryName), Qtype: qt, Qclass: qc}}
	if deadline, ok := ctx.Deadline(); ok {
		client.Timeout = time.Until(deadline)
	}
	start := time.Now()
	resp, rtt, err := client.ExchangeContext(ctx, msg, net.JoinHostPort(ip.String(), port))
	durations.WithLabelValues("connect").Set((time.Since(start) - rtt).Seconds())
	durations.WithLabelValues("request").Set(rtt.Seconds())
	if err != nil {
		log.Debug("DNS query failed", "error", err)
		return false, nil
	}
	answerRRs.Set(float64(len(resp.Answer)))
	authorityRRs.Set(float64(len(resp.Ns)))
	additionalRRs.Set(float64(len(resp.Extra)))
	succeeded.Set(1)
	if qt == dns.TypeSOA {
		serial := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_dns_serial", Help: "Returns the serial number of the zone"})
		reg.MustRegister(serial)
		for _, a := range resp.Answer {
			if soa, ok := a.(*dns.SOA); ok {
				serial.Set(float64(soa.Serial))
			}
		}
	}
	valid := []int{dns.RcodeSuccess}
	if d.ValidRcodes != nil {
		valid = nil
		for _, rc := range d.ValidRcodes {
			valid = append(valid, dns.StringToRcode[rc])
		}
	}
	if !slices.Contains(valid, resp.Rcode) {
		log.Debug("rcode not valid", "rcode", dns.RcodeToString[resp.Rcode])
		return false, nil
	}
	return validRRs(resp.Answer, d.ValidateAnswer) && validRRs(resp.Ns, d.ValidateAuthority) && validRRs(resp.Extra, d.ValidateAdditional), nil
}

// validRRs checks the records of one section against v, as
// blackbox_exporter does. The expressions were checked with the config.
func validRRs(rrs []dns.RR, v DNSRRValidator) bool {
	match := func(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
	if len(rrs) == 0 && len(v.FailIfNoneMatchesRegexp) > 0 {
		return false
	}
	allMatch, anyMatch := true, false
	for _, rr := range rrs {
		s := rr.String()
		for _, re := range v.FailIfMatchesRegexp {
			if match(re, s) {
				return false
			}
		}
		for _, re := range v.FailIfAllMatchRegexp {
			if !match(re, s) {
				allMatch = false
			}
		}
		for _, re := range v.FailIfNotMatchesRegexp {
			if !match(re, s) {
				return false
			}
		}
		for _, re := range v.FailIfNoneMatchesRegexp {
			if match(re, s) {
				anyMatch = true
			}
		}
	}
	if len(v.FailIfAllMatchRegexp) > 0 && !allMatch {
		return false
	}
	return len(v.FailIfNoneMatchesRegexp) == 0 || anyMatch
}
