package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// icmpSequence numbers the echo requests of the plugin.
var icmpSequence atomic.Uint32

// errICMPPrivilege explains an ICMP socket that cannot be opened.
var errICMPPrivilege = errors.New("run vigil as root, give the plugin CAP_NET_RAW (setcap cap_net_raw+ep), or allow unprivileged ping sockets for vigil's group with the sysctl net.ipv4.ping_group_range")

// probeICMP sends one echo request to target and waits for its reply.
// It uses an unprivileged ping socket where the system allows one, and a
// raw socket otherwise (root or CAP_NET_RAW); when neither can be
// opened the probe cannot run, which is an error saying why, not a
// failed probe.
func probeICMP(ctx context.Context, target string, m Module, reg *prometheus.Registry, log hclog.Logger) (bool, error) {
	durations := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_icmp_duration_seconds", Help: "Duration of icmp request by phase"}, []string{"phase"})
	hopLimitGauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_icmp_reply_hop_limit", Help: "Replied packet hop limit (TTL for ipv4)"})
	for _, phase := range []string{"resolve", "setup", "rtt"} {
		durations.WithLabelValues(phase)
	}
	reg.MustRegister(durations)

	c := m.ICMP
	dst, lookup, err := resolve(ctx, c.IPProtocol, c.IPProtocolFallback, target, reg, log)
	if err != nil {
		log.Debug("cannot resolve the target", "error", err)
		return false, nil
	}
	durations.WithLabelValues("resolve").Add(lookup)
	if c.DontFragment {
		return false, errors.New("dont_fragment is not supported by this plugin")
	}
	v6 := dst.IP.To4() == nil
	src := "0.0.0.0"
	if v6 {
		src = "::"
	}
	if c.SourceIPAddress != "" {
		if net.ParseIP(c.SourceIPAddress) == nil {
			return false, fmt.Errorf("source_ip_address %q is not an IP address", c.SourceIPAddress)
		}
		src = c.SourceIPAddress
	}

	setupStart := time.Now()
	unprivNet, privNet := "udp4", "ip4:icmp"
	requestType, replyType := icmp.Type(ipv4.ICMPTypeEcho), icmp.Type(ipv4.ICMPTypeEchoReply)
	if v6 {
		unprivNet, privNet = "udp6", "ip6:ipv6-icmp"
		requestType, replyType = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	privileged := false
	conn, uerr := icmp.ListenPacket(unprivNet, src)
	if uerr != nil {
		var perr error
		conn, perr = icmp.ListenPacket(privNet, src)
		if perr != nil {
			if errors.Is(perr, syscall.EPERM) || errors.Is(perr, syscall.EACCES) || os.IsPermission(perr) {
				return false, fmt.Errorf("cannot open an ICMP socket: %v (unprivileged: %v): %w", perr, uerr, errICMPPrivilege)
			}
			return false, fmt.Errorf("cannot open an ICMP socket: %w", perr)
		}
		privileged = true
	}
	defer conn.Close()
	hopLimitSet := true
	if v6 {
		if err := conn.IPv6PacketConn().SetControlMessage(ipv6.FlagHopLimit, true); err != nil {
			hopLimitSet = false
		}
		if c.TTL > 0 {
			conn.IPv6PacketConn().SetHopLimit(c.TTL)
		}
	} else {
		if err := conn.IPv4PacketConn().SetControlMessage(ipv4.FlagTTL, true); err != nil {
			hopLimitSet = false
		}
		if c.TTL > 0 {
			conn.IPv4PacketConn().SetTTL(c.TTL)
		}
	}
	var to net.Addr = dst
	if !privileged {
		to = &net.UDPAddr{IP: dst.IP, Zone: dst.Zone}
	}
	data := []byte("Prometheus Blackbox Exporter")
	if c.PayloadSize > 0 {
		data = make([]byte, c.PayloadSize)
		copy(data, "Prometheus Blackbox Exporter")
	}
	echo := &icmp.Echo{ID: rand.IntN(1 << 16), Seq: int(uint16(icmpSequence.Add(1))), Data: data}
	wm := icmp.Message{Type: requestType, Body: echo}
	wb, err := wm.Marshal(nil)
	if err != nil {
		return false, fmt.Errorf("cannot make the echo request: %w", err)
	}
	durations.WithLabelValues("setup").Add(time.Since(setupStart).Seconds())
	rttStart := time.Now()
	if _, err := conn.WriteTo(wb, to); err != nil {
		log.Debug("cannot send the echo request", "error", err)
		return false, nil
	}

	// The reply expected, bytes compared with the ID and checksum
	// zeroed where the kernel sets them (an unprivileged socket on
	// Linux rewrites the ID; ICMPv6 checksums are the kernel's).
	wm.Type = replyType
	idUnknown := !privileged && runtime.GOOS == "linux"
	if idUnknown {
		echo.ID = 0
	}
	want, err := wm.Marshal(nil)
	if err != nil {
		return false, err
	}
	want[2], want[3] = 0, 0
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(deadline)
	}
	rb := make([]byte, 65536)
	for {
		var (
			n        int
			peer     net.Addr
			hopLimit = -1
		)
		if v6 {
			var cm *ipv6.ControlMessage
			n, cm, peer, err = conn.IPv6PacketConn().ReadFrom(rb)
			if cm != nil && hopLimitSet {
				hopLimit = cm.HopLimit
			}
		} else {
			var cm *ipv4.ControlMessage
			n, cm, peer, err = conn.IPv4PacketConn().ReadFrom(rb)
			if cm != nil && hopLimitSet {
				hopLimit = cm.TTL
			}
		}
		if err != nil {
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() {
				log.Debug("no echo reply in time")
				return false, nil
			}
			if ctx.Err() != nil {
				return false, nil
			}
			continue
		}
		if peer.String() != to.String() || n < 4 {
			continue
		}
		if idUnknown && n >= 6 {
			rb[4], rb[5] = 0, 0
		}
		rb[2], rb[3] = 0, 0
		if bytes.Equal(rb[:n], want) {
			durations.WithLabelValues("rtt").Add(time.Since(rttStart).Seconds())
			if hopLimit >= 0 {
				hopLimitGauge.Set(float64(hopLimit))
				reg.MustRegister(hopLimitGauge)
			}
			return true, nil
		}
	}
}
