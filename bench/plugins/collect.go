package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/vigilmon/vigil/bench/harness"
	"github.com/vigilmon/vigil/core/pluginhost/client"
)

// protobufContentType is the format Vigil parses an exporter plugin's
// collection in, as core/scrape does.
const protobufContentType = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`

// textAccept asks promhttp for the text format.
const textAccept = `text/plain;version=0.0.4;q=1`

// collectTimeout bounds one collection.
const collectTimeout = 10 * time.Second

// The names of the two modes of part 1, as the table heads them.
const (
	modePlugin = "vigil-plugin"
	modeHTTP   = "vigil-http"
)

// consumer is the parent's side of one mode: it collects once, parses
// every entry and returns the number of samples.
type consumer interface {
	collect(ctx context.Context) (int, error)
	// payload is the size of the last collection as parsed: the text
	// body, or the delimited protobuf encoding.
	payload() int
	// pid is the producer's process.
	pid() int
	close() error
}

// modeResult is what was measured of one mode.
type modeResult struct {
	latencies   []time.Duration
	samples     int64   // parsed in the timed collections
	consumerCPU float64 // seconds, the parent over the timed collections
	producerCPU float64 // seconds, the child over the timed collections
	payload     int     // bytes of the last collection
}

// cpuPerMillion is the CPU seconds of consumer and producer together per
// million samples.
func (r *modeResult) cpuPerMillion() float64 {
	return (r.consumerCPU + r.producerCPU) / (float64(r.samples) / 1e6)
}

// collectResult is the outcome of part 1.
type collectResult struct {
	series int
	modes  map[string]*modeResult
}

// runCollect starts both producers, warms both modes up and times their
// collections in blocks of alternating order.
func runCollect(ctx context.Context, cfg config) (*collectResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this executable: %w", err)
	}
	if _, err := harness.ProcCPU(os.Getpid()); err != nil {
		return nil, fmt.Errorf("the producer's CPU time is read from /proc/<pid>/stat, on Linux only: %w", err)
	}
	harness.Logf("collect: starting the producers (%d series each)", cfg.series)
	consumers := map[string]consumer{}
	defer func() {
		for name, c := range consumers {
			if err := c.close(); err != nil {
				harness.Logf("collect: stop the %s producer: %v", name, err)
			}
		}
	}()
	args := []string{
		"-series=" + strconv.Itoa(cfg.series), "-seed=" + strconv.FormatUint(cfg.seed, 10),
		"-warmup=" + strconv.Itoa(cfg.warmup), "-collections=" + strconv.Itoa(cfg.collections),
		"-profile-dir=" + cfg.profileDir,
	}
	pc, err := startPluginConsumer(ctx, exe, args)
	if err != nil {
		return nil, err
	}
	consumers[modePlugin] = pc
	hc, err := startHTTPConsumer(ctx, exe, args)
	if err != nil {
		return nil, err
	}
	consumers[modeHTTP] = hc

	res := &collectResult{series: cfg.series, modes: map[string]*modeResult{}}
	for _, name := range []string{modePlugin, modeHTTP} {
		harness.Logf("collect: %s: %d warm-up collections", name, cfg.warmup)
		for range cfg.warmup {
			if _, err := checkedCollect(ctx, consumers[name], cfg.series); err != nil {
				return nil, fmt.Errorf("%s: warm-up: %w", name, err)
			}
		}
		res.modes[name] = &modeResult{}
	}
	order := abba(modePlugin, modeHTTP, cfg.blocks)
	profiled := map[string]bool{}
	for i, name := range order {
		n := blockSize(cfg.collections, cfg.blocks, i)
		harness.Logf("collect: %s: block %d of %d, %d timed collections", name, i+1, len(order), n)
		stopProfile, err := maybeProfile(cfg, profiled, "collect-"+name)
		if err != nil {
			return nil, err
		}
		err = timeBlock(ctx, consumers[name], res.modes[name], n, cfg.series)
		if perr := stopProfile(); err == nil {
			err = perr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, name := range []string{modePlugin, modeHTTP} {
		r := res.modes[name]
		r.payload = consumers[name].payload()
		harness.Logf("collect: %s: p50 %s, p99 %s, %.3f CPU s per million samples", name,
			harness.FormatDuration(harness.Percentile(r.latencies, 50)), harness.FormatDuration(harness.Percentile(r.latencies, 99)), r.cpuPerMillion())
	}
	return res, nil
}

// maybeProfile starts a CPU profile of this process into
// -profile-dir/<name>.cpu.pprof, unless there is no -profile-dir or that
// profile was made already, and returns the function that ends it.
func maybeProfile(cfg config, done map[string]bool, name string) (func() error, error) {
	if done[name] {
		return func() error { return nil }, nil
	}
	done[name] = true
	return harness.StartCPUProfile(cfg.profileDir, name)
}

// abba returns blocks names in the order a, b, b, a, a, b, ...: each
// stands first as often as the other, so that a drift of the machine
// weighs on both.
func abba(a, b string, blocks int) []string {
	out := make([]string, 0, blocks)
	for i := range blocks {
		if (i+1)/2%2 == 0 {
			out = append(out, a)
		} else {
			out = append(out, b)
		}
	}
	return out
}

// blockSize splits total over blocks that alternate between two modes:
// block i gets the share of its mode's total.
func blockSize(total, blocks, i int) int {
	perMode := blocks / 2
	k := i / 2 // the block's rank among its mode's
	return total/perMode + boolInt(k < total%perMode)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// timeBlock times n collections of c, adding their latencies, samples
// and CPU seconds to r.
func timeBlock(ctx context.Context, c consumer, r *modeResult, n, series int) error {
	// Leave the garbage of what ran before out of this block's CPU time.
	runtime.GC()
	self0, err := harness.SelfUsage()
	if err != nil {
		return err
	}
	child0, err := harness.ProcCPU(c.pid())
	if err != nil {
		return err
	}
	for range n {
		began := time.Now()
		got, err := checkedCollect(ctx, c, series)
		if err != nil {
			return err
		}
		r.latencies = append(r.latencies, time.Since(began))
		r.samples += int64(got)
	}
	self1, err := harness.SelfUsage()
	if err != nil {
		return err
	}
	child1, err := harness.ProcCPU(c.pid())
	if err != nil {
		return err
	}
	r.consumerCPU += (self1.CPU() - self0.CPU()).Seconds()
	r.producerCPU += child1 - child0
	return nil
}

// checkedCollect collects once and checks that every series came.
func checkedCollect(ctx context.Context, c consumer, series int) (int, error) {
	n, err := c.collect(ctx)
	if err != nil {
		return n, err
	}
	if n != series {
		return n, fmt.Errorf("a collection held %d samples, want %d", n, series)
	}
	return n, nil
}

// parser parses collections as Vigil's scrape path does: every entry, the
// metric bytes and value of every series, and the labels of a series the
// first time it is seen, keeping them in a cache by metric bytes.
type parser struct {
	cache map[string]labels.Labels
	lset  labels.Labels
	sum   float64 // of every value, so that nothing is optimised away
}

func newParser() *parser { return &parser{cache: map[string]labels.Labels{}} }

// parse parses body of the content type and returns the number of
// samples.
func (ps *parser) parse(body []byte, contentType string) (int, error) {
	p, err := textparse.New(body, contentType, nil, textparse.ParserOptions{})
	if p == nil {
		return 0, fmt.Errorf("cannot parse content type %q: %w", contentType, err)
	}
	n := 0
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("parse the collection: %w", err)
		}
		var met []byte
		switch entry {
		case textparse.EntrySeries:
			var v float64
			met, _, v = p.Series()
			ps.sum += v
		case textparse.EntryHistogram:
			met, _, _, _ = p.Histogram()
		default:
			continue
		}
		n++
		if _, ok := ps.cache[string(met)]; !ok {
			p.Labels(&ps.lset)
			ps.cache[string(met)] = ps.lset.Copy()
		}
	}
}

// pluginConsumer collects an exporter plugin as Vigil does.
type pluginConsumer struct {
	p      *client.Plugin
	size   int // of the last collection
	parser *parser
	pidOf  int
}

// startPluginConsumer starts the producer as a plugin, with args, and
// configures it.
func startPluginConsumer(ctx context.Context, exe string, args []string) (*pluginConsumer, error) {
	p, err := client.Start(client.Options{
		Path: exe, Args: args, Env: []string{harness.ChildEnv(childProducerPlugin)}, Logger: harness.Logger("producer"),
	})
	if err != nil {
		return nil, fmt.Errorf("start the plugin producer: %w", err)
	}
	rc := p.ReattachConfig()
	if rc == nil || rc.Pid == 0 {
		p.Kill()
		return nil, errors.New("the plugin producer has no process id")
	}
	cctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	if err := p.Configure(cctx, []byte(`{}`)); err != nil {
		p.Kill()
		return nil, fmt.Errorf("configure the plugin producer: %w", err)
	}
	return &pluginConsumer{p: p, parser: newParser(), pidOf: rc.Pid}, nil
}

func (c *pluginConsumer) collect(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	// As the scraper does: the delimited protobuf bytes as they came
	// over the wire go to the parser undecoded.
	body, err := c.p.CollectDelimited(ctx)
	if err != nil {
		return 0, fmt.Errorf("collect: %w", err)
	}
	c.size = len(body)
	return c.parser.parse(body, protobufContentType)
}

func (c *pluginConsumer) payload() int { return c.size }
func (c *pluginConsumer) pid() int     { return c.pidOf }
func (c *pluginConsumer) close() error { c.p.Kill(); return nil }

// httpConsumer scrapes the HTTP producer as Vigil does.
type httpConsumer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	url    string
	client *http.Client
	buf    bytes.Buffer
	parser *parser
}

// startHTTPConsumer starts the HTTP producer with args and reads its
// address.
func startHTTPConsumer(ctx context.Context, exe string, args []string) (*httpConsumer, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), harness.ChildEnv(childProducerHTTP))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start the http producer: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start the http producer: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the http producer: %w", err)
	}
	c := &httpConsumer{cmd: cmd, stdin: stdin, parser: newParser()}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			c.close()
			return nil, errors.New("the http producer did not say its address")
		}
		c.url = "http://" + a + "/metrics"
	case <-time.After(30 * time.Second):
		c.close()
		return nil, errors.New("the http producer did not say its address within 30s")
	}
	c.client = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	return c, nil
}

func (c *httpConsumer) collect(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return 0, fmt.Errorf("make the request: %w", err)
	}
	req.Header.Set("Accept", textAccept)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape: %w", err)
	}
	c.buf.Reset()
	_, err = c.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("read the body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape: %s", resp.Status)
	}
	return c.parser.parse(c.buf.Bytes(), resp.Header.Get("Content-Type"))
}

func (c *httpConsumer) payload() int { return c.buf.Len() }
func (c *httpConsumer) pid() int     { return c.cmd.Process.Pid }

// close ends the producer: its stdin closes, then it is killed if it has
// not exited within a few seconds.
func (c *httpConsumer) close() error {
	if c.client != nil {
		c.client.CloseIdleConnections()
	}
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("http producer: %w", err)
		}
		return nil
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
		return errors.New("http producer did not exit within 5s; killed it")
	}
}
