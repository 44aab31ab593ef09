package rustnotifier

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/internal/testplugins"
)

var compare = flag.Bool("compare", false, "measure the Rust module beside Go guests and log a table (run with -v, without -race)")

// Rounds of each measure: loads are slow, calls quick.
const (
	coldRounds = 3
	warmCalls  = 1000
)

// guest is a notifier module to measure, with its config for a receiver.
type guest struct {
	name, module, config string
}

// measures are what TestCompareGuests finds for a guest.
type measures struct {
	size             int64
	cold, cached     time.Duration // medians of load, configure and first call
	load             time.Duration // median of the load alone, compiling
	warmP50, warmP99 time.Duration
}

// TestCompareGuests measures the Rust notifier beside the Go guests, as
// the server runs them (pluginhost.LoadWasm, wazero's compiler): the
// module's size; a cold start, from loading the module (compiling it into
// an empty cache, instantiating it, asking its info and schema) to the end
// of its first notification; the same from a compilation cache on disk,
// as a server's restart loads it; and the latency of notifications once
// warm. Every notification is posted to a receiver on loopback. It
// measures only with -compare:
//
//	go test ./examples/rust-notifier -run TestCompareGuests -compare -v
func TestCompareGuests(t *testing.T) {
	if !*compare {
		t.Skip("measures with -compare")
	}
	r := newReceiver(t)
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	guests := []guest{
		{"rswebhook (Rust, wasm32-wasi)", testplugins.BuildRustWasm(t, Source), `{"url": "` + r.URL + `/hook"}`},
		{"slack (Go, wasip1)", testplugins.BuildWasm(t, "plugins/notifier/slack"), `{"webhook_url": "` + r.URL + `/hook"}`},
		{"hello (Go, wasip1)", testplugins.BuildWasm(t, "examples/wasm-notifier"), `{"url": "` + r.URL + `/hook"}`},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var table strings.Builder
	table.WriteString("\n| guest | module size | load (compile) | cold start | start from cache | warm p50 | warm p99 |\n|---|---|---|---|---|---|---|\n")
	for _, g := range guests {
		m := measure(ctx, t, g, u.Host)
		fmt.Fprintf(&table, "| %s | %.2f MB | %s | %s | %s | %s | %s |\n", g.name, float64(m.size)/1e6,
			round(m.load), round(m.cold), round(m.cached), round(m.warmP50), round(m.warmP99))
	}
	t.Log(table.String())
}

// measure loads g in fresh caches coldRounds times, then from a filled
// cache, and makes warmCalls notifications.
func measure(ctx context.Context, t *testing.T, g guest, allow string) measures {
	t.Helper()
	info, err := os.Stat(g.module)
	if err != nil {
		t.Fatal(err)
	}
	m := measures{size: info.Size()}
	start := func(cache string) (p *pluginhost.WasmPlugin, load, first time.Duration) {
		begin := time.Now()
		p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{Path: g.module, CacheDir: cache, AllowHosts: []string{allow}})
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		load = time.Since(begin)
		if err := p.Configure(ctx, []byte(g.config)); err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		if err := p.Notify(ctx, notification("firing")); err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		return p, load, time.Since(begin)
	}
	var loads, colds, cached []time.Duration
	var cache string
	for range coldRounds {
		cache = t.TempDir()
		p, load, first := start(cache)
		p.Close()
		loads, colds = append(loads, load), append(colds, first)
	}
	for range coldRounds {
		p, _, first := start(cache)
		p.Close()
		cached = append(cached, first)
	}
	m.load, m.cold, m.cached = median(loads), median(colds), median(cached)

	p, _, _ := start(cache)
	defer p.Close()
	calls := make([]time.Duration, 0, warmCalls)
	for range warmCalls {
		begin := time.Now()
		if err := p.Notify(ctx, notification("firing")); err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		calls = append(calls, time.Since(begin))
	}
	slices.Sort(calls)
	m.warmP50, m.warmP99 = calls[len(calls)/2], calls[len(calls)*99/100]
	return m
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// round keeps three significant digits or so.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(100 * time.Nanosecond)
	}
}
