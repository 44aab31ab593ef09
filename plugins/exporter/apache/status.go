package main

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// family describes a metric family as apache_exporter has it.
type family struct {
	name, help string
	typ        dto.MetricType
	labels     []string
}

// apache_exporter's families.
var (
	upFamily          = family{"apache_up", "Could the apache server be reached", dto.MetricType_GAUGE, nil}
	versionFamily     = family{"apache_version", "Apache server version", dto.MetricType_GAUGE, nil}
	infoFamily        = family{"apache_info", "Apache version information", dto.MetricType_GAUGE, []string{"version", "mpm"}}
	generationFamily  = family{"apache_generation", "Apache restart generation", dto.MetricType_GAUGE, []string{"type"}}
	loadFamily        = family{"apache_load", "Apache server load", dto.MetricType_GAUGE, []string{"interval"}}
	accessesFamily    = family{"apache_accesses_total", "Current total apache accesses (*)", dto.MetricType_COUNTER, nil}
	kBytesFamily      = family{"apache_sent_kilobytes_total", "Current total kbytes sent (*)", dto.MetricType_COUNTER, nil}
	durationFamily    = family{"apache_duration_ms_total", "Total duration of all registered requests in ms", dto.MetricType_COUNTER, nil}
	cpuTimeFamily     = family{"apache_cpu_time_ms_total", "Apache CPU time", dto.MetricType_COUNTER, []string{"type"}}
	cpuLoadFamily     = family{"apache_cpuload", "The current percentage CPU used by each worker and in total by all workers combined (*)", dto.MetricType_GAUGE, nil}
	uptimeFamily      = family{"apache_uptime_seconds_total", "Current uptime in seconds (*)", dto.MetricType_COUNTER, nil}
	workersFamily     = family{"apache_workers", "Apache worker statuses", dto.MetricType_GAUGE, []string{"state"}}
	processesFamily   = family{"apache_processes", "Apache process count", dto.MetricType_GAUGE, []string{"state"}}
	connectionsFamily = family{"apache_connections", "Apache connection statuses", dto.MetricType_GAUGE, []string{"state"}}
	scoreboardFamily  = family{"apache_scoreboard", "Apache scoreboard statuses", dto.MetricType_GAUGE, []string{"state"}}

	balancerStatusFamily   = family{"apache_proxy_balancer_status", "Apache Proxy Balancer Statuses", dto.MetricType_GAUGE, []string{"balancer", "worker", "status"}}
	balancerAccessesFamily = family{"apache_proxy_balancer_accesses_total", "Apache Proxy Balancer Request Count", dto.MetricType_COUNTER, []string{"balancer", "worker"}}
	balancerBusyFamily     = family{"apache_proxy_balancer_busy", "Apache Proxy Balancer Active Requests", dto.MetricType_GAUGE, []string{"balancer", "worker"}}
	balancerSentFamily     = family{"apache_proxy_balancer_request_kbytes_total", "Apache Proxy Balancer Request Count", dto.MetricType_COUNTER, []string{"balancer", "worker"}}
	balancerRcvdFamily     = family{"apache_proxy_balancer_response_kbytes_total", "Apache Proxy Balancer Request Count", dto.MetricType_COUNTER, []string{"balancer", "worker"}}
)

// families collects the metrics of one collection by family.
type families map[string]*dto.MetricFamily

func newFamilies() families { return families{} }

// add adds a sample of f with the values of its labels; a series that is
// there already gets the new value.
func (fs families) add(f family, value float64, labelValues ...string) {
	mf := fs[f.name]
	if mf == nil {
		mf = &dto.MetricFamily{Name: proto.String(f.name), Help: proto.String(f.help), Type: f.typ.Enum()}
		fs[f.name] = mf
	}
	m := &dto.Metric{}
	for i, name := range f.labels {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(name), Value: proto.String(labelValues[i])})
	}
	if f.typ == dto.MetricType_COUNTER {
		m.Counter = &dto.Counter{Value: proto.Float64(value)}
	} else {
		m.Gauge = &dto.Gauge{Value: proto.Float64(value)}
	}
	for i, old := range mf.Metric {
		if slices.EqualFunc(old.Label, m.Label, func(a, b *dto.LabelPair) bool { return a.GetValue() == b.GetValue() }) {
			mf.Metric[i] = m
			return
		}
	}
	mf.Metric = append(mf.Metric, m)
}

// inc adds 1 to the gauge of f with the label values, from 0.
func (fs families) inc(f family, labelValues ...string) {
	if mf := fs[f.name]; mf != nil {
		for _, m := range mf.Metric {
			if slices.EqualFunc(m.Label, labelValues, func(l *dto.LabelPair, v string) bool { return l.GetValue() == v }) {
				m.Gauge.Value = proto.Float64(m.Gauge.GetValue() + 1)
				return
			}
		}
	}
	fs.add(f, 1, labelValues...)
}

// list returns the families sorted by name.
func (fs families) list() []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(fs))
	for _, name := range slices.Sorted(maps.Keys(fs)) {
		out = append(out, fs[name])
	}
	return out
}

// scoreboardStates names the scoreboard's characters as apache_exporter
// does; each state is reported, 0 when no slot is in it.
var scoreboardStates = map[rune]string{
	'_': "idle",
	'S': "startup",
	'R': "read",
	'W': "reply",
	'K': "keepalive",
	'D': "dns",
	'C': "closing",
	'L': "logging",
	'G': "graceful_stop",
	'I': "idle_cleanup",
	'.': "open_slot",
}

// errNotStatus is the error of a page that is not mod_status's
// machine-readable output.
var errNotStatus = errors.New("the page is not mod_status's machine-readable status (the URL needs ?auto)")

// parseStatus reads the lines "Key: value" of the ?auto page into fs, as
// apache_exporter does. A value that is not a number is an error naming
// its key, as is a page without a single line of the status.
func parseStatus(page string, fs families) error {
	version, mpm := "UNKNOWN", "UNKNOWN"
	balancer, worker := "UNKNOWN", "UNKNOWN"
	var cpuUser, cpuSystem, cpuLoad float64
	cpuFound, known := false, false
	number := func(key, v string) (float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a number", key, v)
		}
		return f, nil
	}
	// gauges are the keys that are a sample each.
	gauges := map[string]struct {
		f     family
		label string
	}{
		"ParentServerConfigGeneration": {generationFamily, "config"},
		"ParentServerMPMGeneration":    {generationFamily, "mpm"},
		"Load1":                        {loadFamily, "1min"},
		"Load5":                        {loadFamily, "5min"},
		"Load15":                       {loadFamily, "15min"},
		"Total Accesses":               {accessesFamily, ""},
		"Total kBytes":                 {kBytesFamily, ""},
		"Total Duration":               {durationFamily, ""},
		"Uptime":                       {uptimeFamily, ""},
		"BusyWorkers":                  {workersFamily, "busy"},
		"IdleWorkers":                  {workersFamily, "idle"},
		"Processes":                    {processesFamily, "all"},
		"Stopping":                     {processesFamily, "stopping"},
		"ConnsTotal":                   {connectionsFamily, "total"},
		"ConnsAsyncWriting":            {connectionsFamily, "writing"},
		"ConnsAsyncKeepAlive":          {connectionsFamily, "keepalive"},
		"ConnsAsyncClosing":            {connectionsFamily, "closing"},
	}
	sc := bufio.NewScanner(strings.NewReader(page))
	sc.Buffer(nil, maxBody)
	for sc.Scan() {
		key, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, v = strings.TrimSpace(key), strings.TrimSpace(v)
		if g, ok := gauges[key]; ok {
			known = true
			f, err := number(key, v)
			if err != nil {
				return err
			}
			if g.label == "" {
				fs.add(g.f, f)
			} else {
				fs.add(g.f, f, g.label)
			}
			continue
		}
		switch {
		case key == "ServerVersion":
			known = true
			version = v
			if f, ok := versionNumber(v); ok {
				fs.add(versionFamily, f)
			}
		case key == "CPULoad":
			// mod_status leaves it out while the CPU times are 0.
			known = true
			f, err := number(key, v)
			if err != nil {
				return err
			}
			cpuLoad = f
		case key == "ServerMPM":
			known = true
			mpm = v
		case key == "CPUUser" || key == "CPUChildrenUser" || key == "CPUSystem" || key == "CPUChildrenSystem":
			known = true
			f, err := number(key, v)
			if err != nil {
				return err
			}
			if strings.HasSuffix(key, "User") {
				cpuUser += f
			} else {
				cpuSystem += f
			}
			cpuFound = true
		case key == "Scoreboard":
			known = true
			for _, state := range scoreboardStates {
				fs.add(scoreboardFamily, 0, state)
			}
			for _, c := range v {
				state, ok := scoreboardStates[c]
				if !ok {
					state = string(c)
				}
				fs.inc(scoreboardFamily, state)
			}
		case strings.HasPrefix(key, "ProxyBalancer["):
			// ProxyBalancer[0]Name, then ProxyBalancer[0]Worker[0]Name,
			// Status, Elected, Busy, Sent and Rcvd of each worker.
			switch {
			case strings.HasSuffix(key, "]Name") && strings.Contains(key, "]Worker["):
				worker = v
			case strings.HasSuffix(key, "]Name"):
				balancer = v
			case strings.HasSuffix(key, "]Status"):
				fs.add(balancerStatusFamily, 1, balancer, worker, v)
			case strings.HasSuffix(key, "]Elected"), strings.HasSuffix(key, "]Busy"),
				strings.HasSuffix(key, "]Sent"), strings.HasSuffix(key, "]Rcvd"):
				f, err := number(key, strings.TrimRight(v, "kK"))
				if err != nil {
					return err
				}
				fam := map[string]family{"Elected": balancerAccessesFamily, "Busy": balancerBusyFamily, "Sent": balancerSentFamily, "Rcvd": balancerRcvdFamily}[key[strings.LastIndex(key, "]")+1:]]
				fs.add(fam, f, balancer, worker)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !known {
		return errNotStatus
	}
	if cpuFound {
		fs.add(cpuTimeFamily, 1000*cpuUser, "user")
		fs.add(cpuTimeFamily, 1000*cpuSystem, "system")
	}
	fs.add(cpuLoadFamily, cpuLoad)
	fs.add(infoFamily, 1, version, mpm)
	return nil
}

// versionNumber makes "Apache/2.4.71 (Debian)" 2.04071, as
// apache_exporter's apache_version has it: the minor version in two
// digits and the patch in three.
func versionNumber(server string) (float64, bool) {
	_, rest, ok := strings.Cut(server, "/")
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, " ")
	parts := strings.Split(rest, ".")
	if len(parts) < 3 {
		return 0, false
	}
	f, err := strconv.ParseFloat(fmt.Sprintf("%s.%02s%03s", parts[0], parts[1], parts[2]), 64)
	return f, err == nil
}
