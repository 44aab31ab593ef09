package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	pconfig "github.com/prometheus/common/config"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// probeGRPC asks target's gRPC health service about the module's
// service.
func probeGRPC(ctx context.Context, target string, m Module, reg *prometheus.Registry, log hclog.Logger) (bool, error) {
	durations := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_grpc_duration_seconds", Help: "Duration of gRPC request by phase"}, []string{"phase"})
	isSSL := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_grpc_ssl", Help: "Indicates if SSL was used for the connection"})
	statusCode := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_grpc_status_code", Help: "Response gRPC status code"})
	healthResponse := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_grpc_healthcheck_response", Help: "Response HealthCheck response"}, []string{"serving_status"})
	durations.WithLabelValues("resolve")
	reg.MustRegister(durations, isSSL, statusCode, healthResponse)

	g := m.GRPC
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil {
		log.Debug("cannot parse the target", "error", err)
		return false, nil
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host = u.Host
	}
	tlsCfg, err := pconfig.NewTLSConfig(&g.TLSConfig)
	if err != nil {
		return false, fmt.Errorf("tls_config: %w", err)
	}
	ip, lookup, err := resolve(ctx, g.PreferredIPProtocol, g.IPProtocolFallback, host, reg, log)
	if err != nil {
		log.Debug("cannot resolve the target", "error", err)
		return false, nil
	}
	durations.WithLabelValues("resolve").Add(lookup)
	start := time.Now()
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = host
	}
	creds := insecure.NewCredentials()
	if port == "" {
		port = "80"
	}
	if g.TLS {
		creds = credentials.NewTLS(tlsCfg)
		if u.Port() == "" {
			port = "443"
		}
	}
	conn, err := grpc.NewClient(net.JoinHostPort(ip.String(), port), grpc.WithTransportCredentials(creds), grpc.WithAuthority(net.JoinHostPort(host, port)))
	if err != nil {
		return false, fmt.Errorf("cannot make the gRPC client: %w", err)
	}
	defer conn.Close()
	if len(g.Metadata) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, metadata.New(g.Metadata))
	}
	var p peer.Peer
	resp, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: g.Service}, grpc.Peer(&p))
	durations.WithLabelValues("check").Add(time.Since(start).Seconds())
	for name := range grpc_health_v1.HealthCheckResponse_ServingStatus_value {
		healthResponse.WithLabelValues(name).Set(0)
	}
	ok := false
	if err != nil {
		log.Debug("health check failed", "error", err)
		if s, isStatus := status.FromError(err); isStatus {
			statusCode.Set(float64(s.Code()))
		}
	} else {
		healthResponse.WithLabelValues(resp.GetStatus().String()).Set(1)
		ok = resp.GetStatus() == grpc_health_v1.HealthCheckResponse_SERVING
	}
	if p.AuthInfo != nil {
		if info, isTLS := p.AuthInfo.(credentials.TLSInfo); isTLS {
			isSSL.Set(1)
			newTLSGauges().report(reg, &info.State, false, false)
		}
	}
	return ok, nil
}
