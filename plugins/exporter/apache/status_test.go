package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
)

// balancerPage is a status page of an Apache 2.4 with the prefork MPM and
// mod_proxy_balancer, as apache_exporter's tests have it.
const balancerPage = `ServerVersion: Apache/2.4.23 (Unix)
ServerMPM: prefork
ParentServerConfigGeneration: 1
ParentServerMPMGeneration: 0
Load1: 0.02
Load5: 0.02
Load15: 0.00
Total Accesses: 27
Total kBytes: 4
Total Duration: 12
CPUUser: .25
CPUSystem: .15
CPUChildrenUser: 0
CPUChildrenSystem: 0
CPULoad: .00776398
Uptime: 4
BusyWorkers: 1
IdleWorkers: 4
Processes: 5
Stopping: 0
Scoreboard: W_K__....
ProxyBalancer[0]Name: balancer://myproxy1
ProxyBalancer[0]Worker[0]Name: https://app-01:9143
ProxyBalancer[0]Worker[0]Status: Init Ok
ProxyBalancer[0]Worker[0]Elected: 5808
ProxyBalancer[0]Worker[0]Busy: 0
ProxyBalancer[0]Worker[0]Sent: 5588K
ProxyBalancer[0]Worker[0]Rcvd: 8335K
`

// TestParseStatus reads a page with every kind of line into exactly
// apache_exporter's series.
func TestParseStatus(t *testing.T) {
	fs := newFamilies()
	if err := parseStatus(balancerPage, fs); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range fs.list() {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	got := b.String()
	for _, want := range []string{
		"apache_version 2.04023\n",
		`apache_info{version="Apache/2.4.23 (Unix)",mpm="prefork"} 1` + "\n",
		`apache_generation{type="config"} 1` + "\n",
		`apache_load{interval="15min"} 0` + "\n",
		"apache_accesses_total 27\n",
		"apache_sent_kilobytes_total 4\n",
		"apache_duration_ms_total 12\n",
		`apache_cpu_time_ms_total{type="user"} 250` + "\n",
		`apache_cpu_time_ms_total{type="system"} 150` + "\n",
		"apache_cpuload 0.00776398\n",
		"apache_uptime_seconds_total 4\n",
		`apache_workers{state="idle"} 4` + "\n",
		`apache_processes{state="stopping"} 0` + "\n",
		`apache_scoreboard{state="idle"} 3` + "\n",
		`apache_scoreboard{state="reply"} 1` + "\n",
		`apache_scoreboard{state="keepalive"} 1` + "\n",
		`apache_scoreboard{state="open_slot"} 4` + "\n",
		`apache_scoreboard{state="dns"} 0` + "\n",
		`apache_proxy_balancer_status{balancer="balancer://myproxy1",worker="https://app-01:9143",status="Init Ok"} 1` + "\n",
		`apache_proxy_balancer_accesses_total{balancer="balancer://myproxy1",worker="https://app-01:9143"} 5808` + "\n",
		`apache_proxy_balancer_busy{balancer="balancer://myproxy1",worker="https://app-01:9143"} 0` + "\n",
		`apache_proxy_balancer_request_kbytes_total{balancer="balancer://myproxy1",worker="https://app-01:9143"} 5588` + "\n",
		`apache_proxy_balancer_response_kbytes_total{balancer="balancer://myproxy1",worker="https://app-01:9143"} 8335` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s in\n%s", strings.TrimSpace(want), got)
		}
	}
	if strings.Contains(got, "apache_connections") {
		t.Errorf("connections without Conns lines:\n%s", got)
	}
}

// TestParseStatusErrors: a page that is not the status, and a value that
// is not a number, are errors.
func TestParseStatusErrors(t *testing.T) {
	if err := parseStatus("<html><body>It works!</body></html>\n", newFamilies()); !errors.Is(err, errNotStatus) {
		t.Errorf("an HTML page: %v", err)
	}
	if err := parseStatus("Total Accesses: many\n", newFamilies()); err == nil || !strings.Contains(err.Error(), "Total Accesses") {
		t.Errorf("a value that is not a number: %v", err)
	}
}
