package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilmon/vigil/bench/harness"
	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

// notifierPackage is the notifier both builds are made from.
const notifierPackage = "github.com/vigilmon/vigil/bench/plugins/notifier"

// notifyTimeout bounds one notification, and loading a plugin.
const notifyTimeout = 2 * time.Minute

// The names of the two notifiers of part 2, as the table heads them.
const (
	notifierWasm = "wasm"
	notifierGRPC = "grpc"
)

// notifierResult is what was measured of one notifier.
type notifierResult struct {
	latencies []time.Duration // warm Notify
	cold      []time.Duration // load or start until the first Notify is done
	load      []time.Duration // LoadWasm or client.Start alone
	size      int64           // of the module or program
}

// notifyResult is the outcome of part 2.
type notifyResult struct {
	notifiers map[string]*notifierResult
	compile   time.Duration // LoadWasm with an empty compilation cache
	received  int64         // messages the receiver accepted
	sent      int64         // notifications delivered without error
}

// wasmLoadSpec is what the parent hands a wasm-load child on its stdin.
type wasmLoadSpec struct {
	Module     string   `json:"module"`
	CacheDir   string   `json:"cache_dir"`
	AllowHosts []string `json:"allow_hosts"`
	Config     string   `json:"config"`
}

// wasmLoadResult is what a wasm-load child reports on its stdout.
type wasmLoadResult struct {
	// Load is the time LoadWasm took; Total the time from its start until
	// the first Notify was done.
	Load  time.Duration `json:"load"`
	Total time.Duration `json:"total"`
}

// runNotify builds the notifier both ways, and measures warm Notify
// latency and cold start of each.
func runNotify(ctx context.Context, cfg config) (*notifyResult, error) {
	dir, err := os.MkdirTemp(cfg.dir, "plugins-bench-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	module, program, err := buildNotifiers(ctx, dir)
	if err != nil {
		return nil, err
	}
	recv, err := startReceiver()
	if err != nil {
		return nil, err
	}
	defer recv.stop()
	res := &notifyResult{notifiers: map[string]*notifierResult{notifierWasm: {}, notifierGRPC: {}}}
	for name, path := range map[string]string{notifierWasm: module, notifierGRPC: program} {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("stat the %s build: %w", name, err)
		}
		res.notifiers[name].size = fi.Size()
	}
	configJSON, err := json.Marshal(map[string]string{"url": recv.url})
	if err != nil {
		return nil, fmt.Errorf("encode the config: %w", err)
	}
	spec := wasmLoadSpec{Module: module, CacheDir: filepath.Join(dir, "cache"), AllowHosts: []string{recv.host}, Config: string(configJSON)}

	// A first load fills the compilation cache: the compile time.
	harness.Logf("notify: compiling the module (%s) without a cache", harness.HumanBytes(float64(res.notifiers[notifierWasm].size)))
	first, err := runWasmLoadChild(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	res.compile = first.Load
	harness.Logf("notify: compiled in %s", harness.FormatDuration(res.compile))

	w := res.notifiers[notifierWasm]
	harness.Logf("notify: %s: %d cold starts, each in a fresh process with the warm compilation cache", notifierWasm, cfg.coldRuns)
	for range cfg.coldRuns {
		r, err := runWasmLoadChild(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("cold start: %w", err)
		}
		w.cold, w.load = append(w.cold, r.Total), append(w.load, r.Load)
	}
	g := res.notifiers[notifierGRPC]
	harness.Logf("notify: %s: %d cold starts", notifierGRPC, cfg.coldRuns)
	for range cfg.coldRuns {
		began := time.Now()
		p, err := startGRPCNotifier(ctx, program, configJSON)
		if err != nil {
			return nil, err
		}
		load := time.Since(began)
		err = notifyOnce(ctx, p)
		total := time.Since(began)
		p.Kill()
		if err != nil {
			return nil, fmt.Errorf("grpc cold start: %w", err)
		}
		g.cold, g.load = append(g.cold, total), append(g.load, load)
	}

	lctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	wp, err := pluginhost.LoadWasm(lctx, pluginhost.WasmOptions{Path: module, CacheDir: spec.CacheDir, AllowHosts: spec.AllowHosts, Logger: harness.Logger("notifier")})
	if err != nil {
		return nil, fmt.Errorf("load the module: %w", err)
	}
	defer wp.Close()
	if err := wp.Configure(lctx, configJSON); err != nil {
		return nil, fmt.Errorf("configure the module: %w", err)
	}
	gp, err := startGRPCNotifier(ctx, program, configJSON)
	if err != nil {
		return nil, err
	}
	defer gp.Kill()
	conns := map[string]sdk.Notifier{notifierWasm: wp, notifierGRPC: gp}

	var sent int64
	for _, name := range []string{notifierWasm, notifierGRPC} {
		harness.Logf("notify: %s: %d warm-up notifications", name, cfg.notifyWarmup)
		for range cfg.notifyWarmup {
			if err := notifyOnce(ctx, conns[name]); err != nil {
				return nil, fmt.Errorf("%s: warm-up: %w", name, err)
			}
		}
	}
	recv.reset()
	profiled := map[string]bool{}
	for i, name := range abba(notifierWasm, notifierGRPC, cfg.blocks) {
		n := blockSize(cfg.notifies, cfg.blocks, i)
		harness.Logf("notify: %s: block %d of %d, %d timed notifications", name, i+1, cfg.blocks, n)
		stopProfile, err := maybeProfile(cfg, profiled, "notify-"+name)
		if err != nil {
			return nil, err
		}
		r := res.notifiers[name]
		for range n {
			began := time.Now()
			if err = notifyOnce(ctx, conns[name]); err != nil {
				break
			}
			r.latencies = append(r.latencies, time.Since(began))
			sent++
		}
		if perr := stopProfile(); err == nil {
			err = perr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	res.sent, res.received = sent, recv.count()
	if bad := recv.badCount(); bad > 0 {
		return nil, fmt.Errorf("the receiver got %d messages it could not read", bad)
	}
	for _, name := range []string{notifierWasm, notifierGRPC} {
		r := res.notifiers[name]
		harness.Logf("notify: %s: warm p50 %s, p99 %s; cold start %s", name,
			harness.FormatDuration(harness.Percentile(r.latencies, 50)), harness.FormatDuration(harness.Percentile(r.latencies, 99)), harness.FormatDuration(harness.Median(r.cold)))
	}
	return res, nil
}

// buildNotifiers builds the notifier as a module and as a program into
// dir, at once.
func buildNotifiers(ctx context.Context, dir string) (module, program string, err error) {
	module, program = filepath.Join(dir, "notifier.wasm"), filepath.Join(dir, "notifier")
	harness.Logf("notify: building the notifier as a Wasm module and as a gRPC plugin")
	builds := []struct {
		out  string
		args []string
		env  []string
	}{
		// As make plugins builds the first-party modules.
		{module, []string{"build", "-buildmode=c-shared", "-ldflags=-s -w", "-o", module, notifierPackage}, []string{"GOOS=wasip1", "GOARCH=wasm"}},
		{program, []string{"build", "-o", program, notifierPackage}, nil},
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, "go", b.args...)
			cmd.Env = append(os.Environ(), b.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go %s: %w\n%s", strings.Join(b.args, " "), err, out)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", "", fmt.Errorf("build the notifier: %w", err)
	}
	return module, program, nil
}

// startGRPCNotifier starts the notifier program and configures it.
func startGRPCNotifier(ctx context.Context, program string, configJSON []byte) (*client.Plugin, error) {
	p, err := client.Start(client.Options{Path: program, Logger: harness.Logger("notifier")})
	if err != nil {
		return nil, fmt.Errorf("start the grpc notifier: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	if err := p.Configure(ctx, configJSON); err != nil {
		p.Kill()
		return nil, fmt.Errorf("configure the grpc notifier: %w", err)
	}
	return p, nil
}

// benchNotification is the notification every call delivers: three
// firing alerts of a group.
var benchNotification = func() *sdk.Notification {
	n := &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="InstanceDown"}`, Status: "firing", Receiver: "bench",
		GroupLabels:       map[string]string{"alertname": "InstanceDown"},
		CommonLabels:      map[string]string{"alertname": "InstanceDown", "job": "node", "severity": "critical"},
		CommonAnnotations: map[string]string{"summary": "An instance is down."},
		ExternalURL:       "http://vigil.example.com:9090",
	}
	for i, host := range []string{"a", "b", "c"} {
		n.Alerts = append(n.Alerts, sdk.Alert{
			Status:       "firing",
			Labels:       map[string]string{"alertname": "InstanceDown", "instance": host + ":9100", "job": "node", "severity": "critical"},
			Annotations:  map[string]string{"summary": host + ":9100 is down", "description": "It has not answered for 5 minutes."},
			StartsAt:     time.Date(2025, 1, 1, 12, i, 0, 0, time.UTC),
			GeneratorURL: "http://vigil.example.com:9090/graph?g0.expr=up+%3D%3D+0",
			Fingerprint:  fmt.Sprintf("%016x", i+1),
		})
	}
	return n
}()

// notifyOnce delivers the benchmark's notification.
func notifyOnce(ctx context.Context, n sdk.Notifier) error {
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	if err := n.Notify(ctx, benchNotification); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// runWasmLoadChild runs this program as a wasm-load child with spec, and
// returns its report.
func runWasmLoadChild(ctx context.Context, spec wasmLoadSpec) (wasmLoadResult, error) {
	var res wasmLoadResult
	_, err := harness.RunChild(ctx, harness.Child{Mode: childWasmLoad, Spec: spec, Timeout: notifyTimeout}, &res)
	return res, err
}

// runWasmLoad is the wasm-load child: it loads the module of its spec,
// configures it, notifies once and reports the times as its result.
func runWasmLoad() error {
	var spec wasmLoadSpec
	if err := harness.ReadSpec(&spec); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	logger := harness.Logger("notifier")
	began := time.Now()
	p, err := pluginhost.LoadWasm(ctx, pluginhost.WasmOptions{Path: spec.Module, CacheDir: spec.CacheDir, AllowHosts: spec.AllowHosts, Logger: logger})
	if err != nil {
		return fmt.Errorf("load the module: %w", err)
	}
	defer p.Close()
	res := wasmLoadResult{Load: time.Since(began)}
	if err := p.Configure(ctx, []byte(spec.Config)); err != nil {
		return fmt.Errorf("configure the module: %w", err)
	}
	if err := notifyOnce(ctx, p); err != nil {
		return err
	}
	res.Total = time.Since(began)
	return harness.WriteResult(res)
}

// receiver takes the notifiers' messages on 127.0.0.1.
type receiver struct {
	url  string
	host string // host:port, for allow_hosts
	srv  *harness.Server

	received atomic.Int64
	bad      atomic.Int64
}

// receivedMessage is what a notifier posts, as the receiver checks it.
type receivedMessage struct {
	Text   string   `json:"text"`
	Status string   `json:"status"`
	Alerts []string `json:"alerts"`
}

// startReceiver starts a receiver on a port of 127.0.0.1.
func startReceiver() (*receiver, error) {
	r := &receiver{}
	srv, err := harness.Serve("the receiver", r)
	if err != nil {
		return nil, err
	}
	r.srv, r.host, r.url = srv, srv.Addr, "http://"+srv.Addr+"/hook"
	return r, nil
}

// ServeHTTP takes one message and checks that it is the one expected.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var m receivedMessage
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err != nil || req.Method != http.MethodPost || m.Status != "firing" || !strings.HasPrefix(m.Text, "[FIRING] ") || len(m.Alerts) != len(benchNotification.Alerts) {
		r.bad.Add(1)
		http.Error(w, "unexpected message", http.StatusBadRequest)
		return
	}
	r.received.Add(1)
	_, _ = io.WriteString(w, "ok")
}

func (r *receiver) count() int64    { return r.received.Load() }
func (r *receiver) badCount() int64 { return r.bad.Load() }
func (r *receiver) reset()          { r.received.Store(0) }

func (r *receiver) stop() { r.srv.Close() }
