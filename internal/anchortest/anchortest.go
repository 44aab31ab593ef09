// Package anchortest helps the end-to-end tests of exporter plugins
// compare the plugin with the established exporter it follows (its
// anchor) on the same target: it runs the software a test needs as child
// processes that end with the test (Start), scrapes the anchor exporter
// (Scrape), and compares the metric families and their label names
// (Compare).
package anchortest

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Need returns the path of the program name, looked up on $PATH and in
// /usr/sbin (where Debian puts daemons). Without it, it skips the test,
// or fails it when the environment variable requireEnv is set, naming
// the Debian package that has it.
func Need(t testing.TB, name, pkg, requireEnv string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/" + name); serr == nil {
			return "/usr/sbin/" + name
		}
		if os.Getenv(requireEnv) != "" {
			t.Fatalf("%s is required (%s is set) but missing: %v", name, requireEnv, err)
		}
		t.Skipf("needs %s (apt-get install %s); set %s=1 to fail instead of skipping", name, pkg, requireEnv)
	}
	return path
}

// FreePort returns a loopback address with a port free at the time.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Process is a child process a test started.
type Process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}

	mu   sync.Mutex
	logs bytes.Buffer
	err  error
}

// Start runs the program path with args until the test ends: then it is
// sent SIGTERM, and SIGKILL if it has not exited 20 seconds later. Its
// output is kept for Logs.
func Start(t testing.TB, path string, args ...string) *Process {
	t.Helper()
	return StartEnv(t, nil, path, args...)
}

// StartEnv is Start with the variables env (NAME=value) added to the
// process's environment.
func StartEnv(t testing.TB, env []string, path string, args ...string) *Process {
	t.Helper()
	p := &Process{name: path, cmd: exec.Command(path, args...), exited: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout, p.cmd.Stderr = syncWriter{p}, syncWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", path, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// syncWriter appends to a process's logs; exec copies each stream in a
// goroutine of its own.
type syncWriter struct{ p *Process }

func (w syncWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.logs.Write(b)
}

// Logs returns what the process has written so far.
func (p *Process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// WaitReady calls ready until it succeeds, for at most a minute, and
// fails the test if the process exits or ready never succeeds.
func (p *Process) WaitReady(t testing.TB, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited: %v\n%s", p.name, p.err, p.Logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within a minute: %v\n%s", p.name, err, p.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Scrape fetches url and parses it in the text format.
func Scrape(url string) ([]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return slices.Collect(maps.Values(families)), nil
}

// Report is the comparison of a plugin's families with its anchor's.
type Report struct {
	// Anchor and Got are the family names of each, sorted.
	Anchor, Got []string
	// Missing are the anchor's families the plugin lacks.
	Missing []string
	// Labels are the families of both whose label names differ, each
	// with both sets.
	Labels []string
}

// Coverage is the share of the anchor's families the plugin has.
func (r Report) Coverage() float64 {
	if len(r.Anchor) == 0 {
		return 1
	}
	return float64(len(r.Anchor)-len(r.Missing)) / float64(len(r.Anchor))
}

// String summarises the report as a line of the table: anchor families,
// plugin families, missing, and the names of those missing.
func (r Report) String() string {
	return fmt.Sprintf("anchor families %d, plugin families %d, missing %d (%.1f%% covered): %s",
		len(r.Anchor), len(r.Got), len(r.Missing), 100*r.Coverage(), strings.Join(r.Missing, ", "))
}

// Compare compares the families of got with the anchor's, leaving out
// the families whose names start with one of skip (the anchor's own
// process metrics, go_ and process_, say).
func Compare(anchor, got []*dto.MetricFamily, skip ...string) Report {
	keep := func(name string) bool {
		return !slices.ContainsFunc(skip, func(p string) bool { return strings.HasPrefix(name, p) })
	}
	labels := func(fs []*dto.MetricFamily) map[string][]string {
		m := map[string][]string{}
		for _, f := range fs {
			if !keep(f.GetName()) || len(f.Metric) == 0 {
				continue
			}
			set := map[string]bool{}
			for _, s := range f.Metric {
				for _, l := range s.Label {
					set[l.GetName()] = true
				}
			}
			m[f.GetName()] = slices.Sorted(maps.Keys(set))
		}
		return m
	}
	a, g := labels(anchor), labels(got)
	r := Report{Anchor: slices.Sorted(maps.Keys(a)), Got: slices.Sorted(maps.Keys(g))}
	for _, name := range r.Anchor {
		gl, ok := g[name]
		switch {
		case !ok:
			r.Missing = append(r.Missing, name)
		case !slices.Equal(a[name], gl):
			r.Labels = append(r.Labels, fmt.Sprintf("%s: anchor {%s}, plugin {%s}", name, strings.Join(a[name], ","), strings.Join(gl, ",")))
		}
	}
	return r
}

// DiffValues compares the values of the series of the families keep
// selects: it lists each series of the anchor's that got lacks or has
// with another value, as "name{labels}: anchor A, plugin B".
func DiffValues(anchor, got []*dto.MetricFamily, keep func(name string) bool) []string {
	values := func(fs []*dto.MetricFamily) map[string]float64 {
		m := map[string]float64{}
		for _, f := range fs {
			if !keep(f.GetName()) {
				continue
			}
			for _, s := range f.Metric {
				var labels []string
				for _, l := range s.Label {
					labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
				}
				slices.Sort(labels)
				v := s.GetGauge().GetValue() + s.GetCounter().GetValue() + s.GetUntyped().GetValue()
				m[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
			}
		}
		return m
	}
	a, g := values(anchor), values(got)
	var diffs []string
	for _, series := range slices.Sorted(maps.Keys(a)) {
		switch v, ok := g[series]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: anchor %v, plugin none", series, a[series]))
		case v != a[series]:
			diffs = append(diffs, fmt.Sprintf("%s: anchor %v, plugin %v", series, a[series], v))
		}
	}
	return diffs
}
