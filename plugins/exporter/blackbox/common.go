package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// resolve looks up target's address in the preferred IP protocol ("ip4"
// or "ip6", ip6 when unset), falling back to the other when fallback is
// set, as blackbox_exporter does, and reports probe_ip_protocol,
// probe_ip_addr_hash and probe_dns_lookup_time_seconds.
func resolve(ctx context.Context, proto string, fallback bool, target string, reg *prometheus.Registry, log hclog.Logger) (*net.IPAddr, float64, error) {
	lookupTime := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_dns_lookup_time_seconds", Help: "Returns the time taken for probe dns lookup in seconds"})
	ipProtocol := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_ip_protocol", Help: "Specifies whether probe ip protocol is IP4 or IP6"})
	addrHash := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_ip_addr_hash", Help: "Specifies the hash of IP address. It's useful to detect if the IP address changes."})
	reg.MustRegister(ipProtocol, lookupTime, addrHash)

	want, other := "ip6", "ip4"
	if proto == "ip4" {
		want, other = "ip4", "ip6"
	}
	start := time.Now()
	defer func() { lookupTime.Add(time.Since(start).Seconds()) }()
	set := func(ip net.IP, p string) *net.IPAddr {
		ipProtocol.Set(map[string]float64{"ip4": 4, "ip6": 6}[p])
		addrHash.Set(ipHash(ip))
		return &net.IPAddr{IP: ip}
	}
	resolver := &net.Resolver{}
	if !fallback {
		ips, err := resolver.LookupIP(ctx, want, target)
		if err != nil || len(ips) == 0 {
			log.Debug("resolution failed", "ip_protocol", want, "error", err)
			return nil, 0, fmt.Errorf("cannot resolve %q in %s: %v", target, want, err)
		}
		return set(ips[0], want), time.Since(start).Seconds(), nil
	}
	ips, err := resolver.LookupIPAddr(ctx, target)
	if err != nil {
		log.Debug("resolution failed", "error", err)
		return nil, 0, err
	}
	var alt net.IP
	for _, ip := range ips {
		is4 := ip.IP.To4() != nil
		if is4 == (want == "ip4") {
			return set(ip.IP, want), time.Since(start).Seconds(), nil
		}
		alt = ip.IP
	}
	if alt == nil {
		return nil, 0, fmt.Errorf("cannot resolve %q: no address", target)
	}
	return set(alt, other), time.Since(start).Seconds(), nil
}

func ipHash(ip net.IP) float64 {
	h := fnv.New32a()
	if ip.To4() != nil {
		h.Write(ip.To4())
	} else {
		h.Write(ip.To16())
	}
	return float64(h.Sum32())
}

// tlsGauges are the series of a TLS connection, as blackbox_exporter
// names them.
type tlsGauges struct {
	earliestExpiry, lastChainExpiry prometheus.Gauge
	chainInfo, version, cipher      *prometheus.GaugeVec
}

func newTLSGauges() *tlsGauges {
	return &tlsGauges{
		earliestExpiry:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_ssl_earliest_cert_expiry", Help: "Returns last SSL chain expiry in unixtime"}),
		lastChainExpiry: prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_ssl_last_chain_expiry_timestamp_seconds", Help: "Returns last SSL chain expiry in timestamp"}),
		chainInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_ssl_last_chain_info", Help: "Contains SSL leaf certificate information"},
			[]string{"fingerprint_sha256", "subject", "issuer", "subjectalternative", "serialnumber"}),
		version: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_tls_version_info", Help: "Returns the TLS version used or NaN when unknown"}, []string{"version"}),
		cipher:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_tls_cipher_info", Help: "Returns the TLS cipher negotiated during handshake"}, []string{"cipher"}),
	}
}

// report registers the gauges the prober reports (withChain: the last
// chain's expiry; withCipher: the cipher) and sets them from state.
func (g *tlsGauges) report(reg *prometheus.Registry, state *tls.ConnectionState, withChain, withCipher bool) {
	register(reg, g.earliestExpiry, g.version, g.chainInfo)
	if withChain {
		register(reg, g.lastChainExpiry)
		g.lastChainExpiry.Set(float64(lastChainExpiry(state).Unix()))
	}
	if withCipher {
		register(reg, g.cipher)
		g.cipher.WithLabelValues(tls.CipherSuiteName(state.CipherSuite)).Set(1)
	}
	g.earliestExpiry.Set(float64(earliestCertExpiry(state).Unix()))
	g.version.WithLabelValues(tlsVersion(state)).Set(1)
	if len(state.PeerCertificates) > 0 {
		c := state.PeerCertificates[0]
		sum := sha256.Sum256(c.Raw)
		g.chainInfo.WithLabelValues(hex.EncodeToString(sum[:]), c.Subject.String(), c.Issuer.String(),
			strings.Join(c.DNSNames, ","), fmt.Sprintf("%x", c.SerialNumber.Bytes())).Set(1)
	}
}

// register registers cs, each once: a STARTTLS after a TLS connection
// reports the same gauges again.
func register(reg *prometheus.Registry, cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = reg.Register(c) // only AlreadyRegisteredError, for the same collector
	}
}

func earliestCertExpiry(state *tls.ConnectionState) time.Time {
	var earliest time.Time
	for _, c := range state.PeerCertificates {
		if (earliest.IsZero() || c.NotAfter.Before(earliest)) && !c.NotAfter.IsZero() {
			earliest = c.NotAfter
		}
	}
	return earliest
}

func lastChainExpiry(state *tls.ConnectionState) time.Time {
	var last time.Time
	for _, chain := range state.VerifiedChains {
		var earliest time.Time
		for _, c := range chain {
			if (earliest.IsZero() || c.NotAfter.Before(earliest)) && !c.NotAfter.IsZero() {
				earliest = c.NotAfter
			}
		}
		if last.IsZero() || last.Before(earliest) {
			last = earliest
		}
	}
	return last
}

func tlsVersion(state *tls.ConnectionState) string {
	switch state.Version {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return "unknown"
}
