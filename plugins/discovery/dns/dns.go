package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	dnssd "github.com/prometheus/prometheus/discovery/dns"
	"github.com/prometheus/prometheus/discovery/refresh"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

// The labels of a DNS target, named as upstream names them.
const (
	nameLabel            = model.MetaLabelPrefix + "dns_name"
	srvRecordTargetLabel = model.MetaLabelPrefix + "dns_srv_record_target"
	srvRecordPortLabel   = model.MetaLabelPrefix + "dns_srv_record_port"
	mxRecordTargetLabel  = model.MetaLabelPrefix + "dns_mx_record_target"
	nsRecordTargetLabel  = model.MetaLabelPrefix + "dns_ns_record_target"
)

// queryTimeout bounds one question to one name server.
const queryTimeout = 5 * time.Second

var mechanism = upstream.Mechanism{
	Config:      &dnssd.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers targets from DNS SRV, A, AAAA, MX or NS records, as Prometheus's dns_sd_configs do.",
	Extra: sdk.Schema{
		sdk.StringList("nameservers", "Vigil's addition: the name servers to ask, each \"host:port\", in order, "+
			"in place of those of /etc/resolv.conf. The names are asked as they are, without resolv.conf's search list."),
	},
	Check: func(_ discovery.Config, cfg sdk.Config) error {
		for _, s := range cfg.StringList("nameservers") {
			host, port, err := net.SplitHostPort(s)
			if err != nil || host == "" || port == "" {
				return sdk.AttributeErrorf("nameservers", "%q is not a \"host:port\" address", s)
			}
		}
		if cfg.Has("nameservers") && len(cfg.StringList("nameservers")) == 0 {
			return sdk.AttributeErrorf("nameservers", "is empty: leave it out to use /etc/resolv.conf")
		}
		return nil
	},
	New: func(c discovery.Config, cfg sdk.Config, opts discovery.DiscovererOptions, rm discovery.RefreshMetricsInstantiator) (discovery.Discoverer, error) {
		if !cfg.Has("nameservers") {
			return c.NewDiscoverer(opts)
		}
		return newServerDiscovery(*c.(*dnssd.SDConfig), cfg.StringList("nameservers"), opts, rm), nil
	},
}

// serverDiscovery asks given name servers, with upstream's record
// handling and labels.
type serverDiscovery struct {
	*refresh.Discovery
	names   []string
	servers []string
	qtype   uint16
	port    int
	logger  *slog.Logger
}

func newServerDiscovery(c dnssd.SDConfig, servers []string, opts discovery.DiscovererOptions, rm discovery.RefreshMetricsInstantiator) *serverDiscovery {
	d := &serverDiscovery{names: c.Names, servers: servers, port: c.Port, logger: opts.Logger}
	switch strings.ToUpper(c.Type) {
	case "A":
		d.qtype = dns.TypeA
	case "AAAA":
		d.qtype = dns.TypeAAAA
	case "MX":
		d.qtype = dns.TypeMX
	case "NS":
		d.qtype = dns.TypeNS
	default:
		d.qtype = dns.TypeSRV
	}
	d.Discovery = refresh.NewDiscovery(refresh.Options{
		Logger:              opts.Logger,
		Mech:                "dns",
		SetName:             opts.SetName,
		Interval:            time.Duration(c.RefreshInterval),
		RefreshF:            d.refresh,
		MetricsInstantiator: rm,
	})
	return d
}

// refresh asks for every name at once; a name that cannot be resolved
// keeps its last group, as upstream's does.
func (d *serverDiscovery) refresh(ctx context.Context) ([]*targetgroup.Group, error) {
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		groups = make([]*targetgroup.Group, 0, len(d.names))
	)
	for _, name := range d.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := d.lookup(ctx, name)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					d.logger.Error("Error refreshing DNS targets", "err", err)
				}
				return
			}
			mu.Lock()
			groups = append(groups, g)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return groups, nil
}

// lookup asks the servers in turn for name, and makes its group of the
// first viable answer: success, or "no such name".
func (d *serverDiscovery) lookup(ctx context.Context, name string) (*targetgroup.Group, error) {
	var answer *dns.Msg
	for _, server := range d.servers {
		msg, err := ask(ctx, name, d.qtype, server)
		if err != nil {
			d.logger.Warn("DNS resolution failed", "server", server, "name", name, "err", err)
			continue
		}
		if msg.Rcode == dns.RcodeSuccess || msg.Rcode == dns.RcodeNameError {
			answer = msg
			break
		}
	}
	if answer == nil {
		return nil, fmt.Errorf("could not resolve %s: no servers returned a viable answer", name)
	}
	tg := &targetgroup.Group{Source: name}
	hostPort := func(a string, p int) model.LabelValue {
		return model.LabelValue(net.JoinHostPort(a, strconv.Itoa(p)))
	}
	for _, record := range answer.Answer {
		var target, srvTarget, srvPort, mxTarget, nsTarget model.LabelValue
		switch r := record.(type) {
		case *dns.SRV:
			srvTarget = model.LabelValue(r.Target)
			srvPort = model.LabelValue(strconv.Itoa(int(r.Port)))
			target = hostPort(strings.TrimRight(r.Target, "."), int(r.Port))
		case *dns.MX:
			mxTarget = model.LabelValue(r.Mx)
			target = hostPort(strings.TrimRight(r.Mx, "."), d.port)
		case *dns.NS:
			nsTarget = model.LabelValue(r.Ns)
			target = hostPort(strings.TrimRight(r.Ns, "."), d.port)
		case *dns.A:
			target = hostPort(r.A.String(), d.port)
		case *dns.AAAA:
			target = hostPort(r.AAAA.String(), d.port)
		case *dns.CNAME:
			continue // an A question can be answered with the CNAME first
		default:
			d.logger.Warn("Invalid record", "record", record)
			continue
		}
		tg.Targets = append(tg.Targets, model.LabelSet{
			model.AddressLabel:   target,
			nameLabel:            model.LabelValue(name),
			srvRecordTargetLabel: srvTarget,
			srvRecordPortLabel:   srvPort,
			mxRecordTargetLabel:  mxTarget,
			nsRecordTargetLabel:  nsTarget,
		})
	}
	return tg, nil
}

// ask puts one question to one server over UDP, and again over TCP when
// the answer is truncated.
func ask(ctx context.Context, name string, qtype uint16, server string) (*dns.Msg, error) {
	msg := &dns.Msg{}
	msg.SetQuestion(dns.Fqdn(name), qtype)
	msg.SetEdns0(dns.DefaultMsgSize, false)
	client := &dns.Client{Timeout: queryTimeout}
	resp, _, err := client.ExchangeContext(ctx, msg, server)
	if err != nil {
		return nil, err
	}
	if resp.Truncated {
		client.Net = "tcp"
		msg.Extra = nil
		if resp, _, err = client.ExchangeContext(ctx, msg, server); err != nil {
			return nil, err
		}
	}
	return resp, nil
}
