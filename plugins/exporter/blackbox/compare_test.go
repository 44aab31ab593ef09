package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/sdk"
)

// blackboxExporter returns the path of Debian's blackbox_exporter, or
// skips the test without it (fails it when VIGIL_REQUIRE_BLACKBOX_EXPORTER
// is set, as in CI).
func blackboxExporter(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("prometheus-blackbox-exporter")
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_BLACKBOX_EXPORTER") != "" {
			t.Fatalf("prometheus-blackbox-exporter is required: %v", err)
		}
		t.Skip("prometheus-blackbox-exporter is not installed (apt-get install prometheus-blackbox-exporter)")
	}
	return path
}

// startBlackboxExporter runs blackbox_exporter on 127.0.0.1 with the
// modules and returns its address once it answers.
func startBlackboxExporter(t *testing.T, modules string) string {
	t.Helper()
	bin := blackboxExporter(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(cfg, []byte(modules), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("blackbox_exporter does not answer on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// familyShapes maps each family to its label names, sorted and joined.
func familyShapes(fams []*dto.MetricFamily) map[string]string {
	out := map[string]string{}
	for _, f := range fams {
		names := map[string]bool{}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				names[l.GetName()] = true
			}
		}
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		out[f.GetName()] = strings.Join(list, ",")
	}
	return out
}

// names lists the set's names, sorted, or says none.
func names(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}

// changedSince023 are what blackbox_exporter changed after 0.23, the
// version Debian packages, which the plugin follows: the serial number
// label of probe_ssl_last_chain_info, and no probe_ssl_earliest_cert_expiry
// of 0 for a gRPC probe without TLS.
var changedSince023 = map[string]string{
	"probe_ssl_last_chain_info":      "fingerprint_sha256,issuer,serialnumber,subject,subjectalternative",
	"probe_ssl_earliest_cert_expiry": "grpc without TLS",
}

// TestCompareWithBlackboxExporter probes the same targets with the same
// modules through the plugin and through Debian's blackbox_exporter:
// every family blackbox_exporter answers, the plugin answers too, with
// the same label names, and the same probe_success. It logs the table
// of families per module.
func TestCompareWithBlackboxExporter(t *testing.T) {
	s := startServers(t)
	modules := modulesYAML(s)
	addr := startBlackboxExporter(t, modules)
	e := newTestExporter(t, modules)

	type row struct {
		anchor, vigil int
		missing       map[string]bool
		extra         map[string]bool
	}
	rows := map[string]*row{}
	cases := probes(s)
	if os.Geteuid() == 0 {
		cases = append(cases, probe{module: "icmp", target: "127.0.0.1", success: 1})
	}
	for _, p := range cases {
		q := url.Values{"module": {p.module}, "target": {p.target}}
		resp, err := http.Get("http://" + addr + "/probe?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		parsed, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: blackbox_exporter's answer: %v", p.module, p.target, err)
		}
		var anchorFams []*dto.MetricFamily
		for _, f := range parsed {
			anchorFams = append(anchorFams, f)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		vigilFams, err := e.CollectTarget(ctx, sdk.Target{Address: p.target, Module: p.module})
		cancel()
		if err != nil {
			t.Fatalf("%s %s: %v", p.module, p.target, err)
		}
		anchor, vigil := familyShapes(anchorFams), familyShapes(vigilFams)
		if a, v := series(anchorFams)["probe_success"], series(vigilFams)["probe_success"]; a != v {
			t.Errorf("%s %s: probe_success %v, blackbox_exporter's %v", p.module, p.target, v, a)
		}
		r := rows[p.module]
		if r == nil {
			r = &row{missing: map[string]bool{}, extra: map[string]bool{}}
			rows[p.module] = r
		}
		r.anchor, r.vigil = max(r.anchor, len(anchor)), max(r.vigil, len(vigil))
		for name := range vigil {
			if _, ok := anchor[name]; !ok {
				r.extra[name] = true
			}
		}
		for name, labels := range anchor {
			got, ok := vigil[name]
			switch {
			case !ok && name == "probe_ssl_earliest_cert_expiry" && strings.HasPrefix(p.module, "grpc") && series(vigilFams)["probe_grpc_ssl"] == 0:
				r.missing[name+" (0 without TLS in 0.23; gone since)"] = true
			case ok && got != labels && changedSince023[name] == got:
			case !ok:
				r.missing[name] = true
				t.Errorf("%s %s: family %s of blackbox_exporter is missing", p.module, p.target, name)
			case got != labels:
				t.Errorf("%s %s: family %s has labels %q, blackbox_exporter's %q", p.module, p.target, name, got, labels)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintln(&b, "| module | anchor families | Vigil families | missing | Vigil only |")
	fmt.Fprintln(&b, "|---|---|---|---|---|")
	for _, n := range slices.Sorted(maps.Keys(rows)) {
		r := rows[n]
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s |\n", n, r.anchor, r.vigil, names(r.missing), names(r.extra))
	}
	t.Logf("families per module, the most of any target:\n%s", b.String())
}
