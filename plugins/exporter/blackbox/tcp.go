package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	pconfig "github.com/prometheus/common/config"
)

// probeTCP connects to target (host:port), with TLS when the module
// says, and runs the module's query_response dialogue.
func probeTCP(ctx context.Context, target string, m Module, reg *prometheus.Registry, log hclog.Logger) (bool, error) {
	// Registered before connecting, as blackbox_exporter up to 0.23 did,
	// so that a target that refuses has the family too.
	failedRegex := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_failed_due_to_regex", Help: "Indicates if probe failed due to regex"})
	reg.MustRegister(failedRegex)
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		log.Debug("the target is not host:port", "error", err)
		return false, nil
	}
	ip, _, err := resolve(ctx, m.TCP.IPProtocol, m.TCP.IPProtocolFallback, host, reg, log)
	if err != nil {
		log.Debug("cannot resolve the target", "error", err)
		return false, nil
	}
	network := "tcp4"
	if ip.IP.To4() == nil {
		network = "tcp6"
	}
	dialer := &net.Dialer{}
	if m.TCP.SourceIPAddress != "" {
		src := net.ParseIP(m.TCP.SourceIPAddress)
		if src == nil {
			return false, fmt.Errorf("source_ip_address %q is not an IP address", m.TCP.SourceIPAddress)
		}
		dialer.LocalAddr = &net.TCPAddr{IP: src}
	}
	addr := net.JoinHostPort(ip.String(), port)
	var conn net.Conn
	if m.TCP.TLS {
		cfg, err := pconfig.NewTLSConfig(&m.TCP.TLSConfig)
		if err != nil {
			return false, fmt.Errorf("tls_config: %w", err)
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: cfg}).DialContext(ctx, network, addr)
		if err != nil {
			log.Debug("cannot connect", "error", err)
			return false, nil
		}
	} else {
		conn, err = dialer.DialContext(ctx, network, addr)
		if err != nil {
			log.Debug("cannot connect", "error", err)
			return false, nil
		}
	}
	defer conn.Close()
	return queryResponses(ctx, host, conn, m.TCP, reg, failedRegex, log)
}

// queryResponses runs the dialogue of a tcp probe on conn.
func queryResponses(ctx context.Context, host string, conn net.Conn, tp TCPProbe, reg *prometheus.Registry, failedRegex prometheus.Gauge, log hclog.Logger) (bool, error) {
	failedBytes := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_failed_due_to_bytes", Help: "Indicates if probe failed due to bytes"})
	reg.MustRegister(failedBytes)
	gauges := newTLSGauges()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return false, nil
		}
	}
	if tc, ok := conn.(*tls.Conn); ok {
		state := tc.ConnectionState()
		gauges.report(reg, &state, true, false)
	}
	scanner := bufio.NewScanner(conn)
	for i, qr := range tp.QueryResponse {
		send := qr.Send
		if qr.Expect.Regexp != nil {
			var match []int
			for scanner.Scan() {
				if match = qr.Expect.FindSubmatchIndex(scanner.Bytes()); match != nil {
					break
				}
			}
			if scanner.Err() != nil {
				log.Debug("cannot read", "step", i, "error", scanner.Err())
				return false, nil
			}
			if match == nil {
				log.Debug("expect did not match", "step", i, "regexp", qr.Expect.String())
				failedRegex.Set(1)
				return false, nil
			}
			failedRegex.Set(0)
			send = string(qr.Expect.Expand(nil, []byte(send), scanner.Bytes(), match))
			if qr.Labels != nil {
				expectInfo(reg, qr, scanner.Bytes(), match)
			}
		}
		if qr.ExpectBytes != "" {
			want := []byte(qr.ExpectBytes)
			got := make([]byte, len(want))
			n, err := conn.Read(got)
			if err != nil || n < len(want) {
				log.Debug("cannot read the expected bytes", "step", i, "error", err)
				return false, nil
			}
			if !bytes.Equal(want, got) {
				failedBytes.Set(1)
				return false, nil
			}
			failedBytes.Set(0)
		}
		if send != "" {
			if _, err := fmt.Fprintf(conn, "%s\n", send); err != nil {
				log.Debug("cannot send", "step", i, "error", err)
				return false, nil
			}
		}
		if qr.StartTLS {
			cfg, err := pconfig.NewTLSConfig(&tp.TLSConfig)
			if err != nil {
				return false, fmt.Errorf("tls_config: %w", err)
			}
			if cfg.ServerName == "" {
				cfg.ServerName = host
			}
			tc := tls.Client(conn, cfg)
			defer tc.Close()
			if err := tc.HandshakeContext(ctx); err != nil {
				log.Debug("STARTTLS handshake failed", "error", err)
				return false, nil
			}
			conn = tc
			scanner = bufio.NewScanner(conn)
			state := tc.ConnectionState()
			gauges.report(reg, &state, true, false)
		}
	}
	return true, nil
}

// expectInfo reports probe_expect_info with the labels of a matched
// expect.
func expectInfo(reg *prometheus.Registry, qr QueryResponse, line []byte, match []int) {
	var names, values []string
	for _, l := range qr.Labels {
		names = append(names, l.Name)
		values = append(values, string(qr.Expect.Expand(nil, []byte(l.Value), line, match)))
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_expect_info", Help: "Explicit content matched"}, names)
	if err := reg.Register(g); err == nil {
		g.WithLabelValues(values...).Set(1)
	}
}
