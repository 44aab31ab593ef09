package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
)

// e2eVersion and e2eRevision are the version and revision the tests
// stamp into the binary, as `make build` stamps git's.
const (
	e2eVersion  = "v0.0.0-e2e"
	e2eRevision = "0123456789abcdef0123456789abcdef01234567"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// vigilBinary builds the vigil binary once for the tests of this package,
// with e2eVersion and e2eRevision stamped.
func vigilBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vigil")
		out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+e2eVersion+" -X main.revision="+e2eRevision, "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// runningServer is a vigil server process started by a test.
type runningServer struct {
	cmd  *exec.Cmd
	addr string
	logs *strings.Builder
	mu   *sync.Mutex
	done chan error
}

// startServer runs `vigil server` with args on a free loopback port and
// waits until it listens.
func startServer(t *testing.T, args ...string) *runningServer {
	t.Helper()
	return startVigil(t, "server", args...)
}

// startVigil runs `vigil command` (server or agent) with args on a free
// loopback port, unless args name one with --listen, and waits until it
// listens.
func startVigil(t *testing.T, command string, args ...string) *runningServer {
	t.Helper()
	cmd := exec.Command(vigilBinary(t), append([]string{command, "--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &runningServer{cmd: cmd, logs: &strings.Builder{}, mu: &sync.Mutex{}, done: make(chan error, 1)}
	addrCh := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening: address=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
	})
	select {
	case s.addr = <-addrCh:
	case err := <-s.done:
		t.Fatalf("server exited before listening: %v\n%s", err, s.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not listen within 30s:\n%s", s.logText())
	}
	return s
}

func (s *runningServer) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// reload asks the server to reload its configuration and returns the
// status and body of its answer.
func (s *runningServer) reload(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+s.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// stop sends SIGTERM and waits, at most 30s, for a clean exit.
func (s *runningServer) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logText())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("server still running 30s after SIGTERM:\n%s", s.logText())
	}
}

func (s *runningServer) api(t *testing.T) v1.API {
	client, err := api.NewClient(api.Config{Address: "http://" + s.addr})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(client)
}

// waitFor polls cond every 100ms for at most two minutes, which a
// loaded machine may need; a passing test returns as soon as cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServerEndToEnd(t *testing.T) {
	var mu sync.Mutex
	count := 0
	fixture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		count += 10
		c := count
		mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP fixture_requests_total Requests served.\n# TYPE fixture_requests_total counter\nfixture_requests_total{code=\"200\"} %d\n", c)
	}))
	defer fixture.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "vigil.hcl")
	writeConfig := func(body string) {
		if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := func(interval string) string {
		return fmt.Sprintf(`server {
  data_dir         = %q
  enable_lifecycle = true
}

scrape "fixture" {
  targets         = [%q]
  scrape_interval = %q
  scrape_timeout  = "1s"
}
`, filepath.Join(dir, "data"), strings.TrimPrefix(fixture.URL, "http://"), interval)
	}
	writeConfig(config("1s"))
	srv := startServer(t, "--config", cfgPath)
	prom := srv.api(t)
	ctx := context.Background()

	waitFor(t, "up == 1 for the fixture", func() bool {
		v, _, _, err := prom.Query(ctx, `up{job="fixture"}`, time.Now())
		vec, ok := v.(model.Vector)
		return err == nil && ok && len(vec) == 1 && vec[0].Value == 1
	})
	waitFor(t, "a rate over the fixture's counter", func() bool {
		v, _, _, err := prom.Query(ctx, `rate(fixture_requests_total[1m])`, time.Now())
		vec, ok := v.(model.Vector)
		return err == nil && ok && len(vec) == 1 && vec[0].Value > 0
	})
	values, _, _, err := prom.LabelValues(ctx, "job", nil, time.Now().Add(-time.Hour), time.Now())
	if err != nil || len(values) != 1 || values[0] != "fixture" {
		t.Fatalf("label values of job: %v, %v", values, err)
	}
	series, _, _, err := prom.Series(ctx, []string{`fixture_requests_total`}, time.Now().Add(-time.Hour), time.Now())
	if err != nil || len(series) != 1 || series[0]["code"] != "200" {
		t.Fatalf("series: %v, %v", series, err)
	}
	targets, err := prom.Targets(ctx)
	if err != nil || len(targets.Active) != 1 || targets.Active[0].Health != v1.HealthGood {
		t.Fatalf("targets: %+v, %v", targets, err)
	}
	tm, err := prom.TargetsMetadata(ctx, `{job="fixture"}`, "fixture_requests_total", "")
	if err != nil || len(tm) != 1 || tm[0].Type != "counter" || tm[0].Help != "Requests served." || tm[0].Target["job"] != "fixture" {
		t.Fatalf("targets/metadata: %+v, %v", tm, err)
	}
	md, err := prom.Metadata(ctx, "fixture_requests_total", "")
	if err != nil || len(md["fixture_requests_total"]) != 1 || md["fixture_requests_total"][0].Type != "counter" {
		t.Fatalf("metadata: %+v, %v", md, err)
	}
	if cfg, err := prom.Config(ctx); err != nil || !strings.Contains(cfg.YAML, `scrape "fixture"`) {
		t.Fatalf("status/config: %+v, %v", cfg, err)
	}
	if flags, err := prom.Flags(ctx); err != nil || flags["config"] != cfgPath {
		t.Fatalf("status/flags: %v, %v", flags, err)
	}
	if _, _, _, err := prom.Query(ctx, `rate(`, time.Now()); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Fatalf("a bad query: %v, want a bad_data error", err)
	}

	for path, want := range map[string]string{
		"/metrics":      `vigil_http_requests_total{code="200",handler="POST /api/v1/query"}`,
		"/debug/pprof/": "goroutine",
		"/":             "<title>Vigil</title>",
	} {
		resp, err := http.Get("http://" + srv.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d, lacks %q", path, resp.StatusCode, want)
		}
	}

	// A bad configuration is refused and the running one stays.
	writeConfig(`scrape "fixture" { targets = "not a list" }`)
	if status, body := srv.reload(t); status != http.StatusInternalServerError || !strings.Contains(body, "vigil.hcl:1:") {
		t.Fatalf("bad reload: %d %s", status, body)
	}
	if targets, err := prom.Targets(ctx); err != nil || len(targets.Active) != 1 {
		t.Fatalf("targets after a refused reload: %+v, %v", targets, err)
	}

	// SIGHUP applies a good one.
	writeConfig(config("2s"))
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new scrape interval", func() bool {
		targets, err := prom.Targets(ctx)
		return err == nil && len(targets.Active) == 1 && targets.Active[0].DiscoveredLabels["__scrape_interval__"] == "2s"
	})

	// SIGTERM shuts down cleanly.
	srv.stop(t)
}

// TestServerDefaultConfigScrapesItself also checks status/buildinfo: the
// version is the bare version stamped at build time, and the revision the
// revision stamped; and that --log.level debug logs debug lines.
func TestServerDefaultConfigScrapesItself(t *testing.T) {
	srv := startServer(t, "--data", t.TempDir(), "--log.level", "debug")
	if !strings.Contains(srv.logText(), "[DEBUG] vigil.") {
		t.Errorf("no debug line with --log.level debug:\n%s", srv.logText())
	}
	prom := srv.api(t)
	info, err := prom.Buildinfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != e2eVersion || strings.ContainsAny(info.Version, " \t\n") {
		t.Errorf("buildinfo version %q, want the bare version %q", info.Version, e2eVersion)
	}
	if info.Revision != e2eRevision {
		t.Errorf("buildinfo revision %q, want %q", info.Revision, e2eRevision)
	}
	// The curl lines of the README for the HTTP API work when pasted: run
	// by a shell, each gets a successful answer. (Those of the push API,
	// off by default, are run by the push tests.)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("no curl: the README's curl lines are not run")
	} else {
		for _, l := range docCurlLines(t) {
			if filepath.Base(l.file) != "README.md" || filepath.Dir(l.file) != repoRoot || !strings.Contains(l.text, "/api/") {
				continue
			}
			line := strings.ReplaceAll(l.text, "http://127.0.0.1:9090", "http://"+srv.addr)
			out, err := exec.Command("sh", "-c", line).Output()
			var answer struct{ Status string }
			if err != nil || json.Unmarshal(out, &answer) != nil || answer.Status != "success" {
				t.Errorf("%s:%d: %s: %v\n%s", l.file, l.line, line, err, out)
			}
		}
	}
	// The default scrape interval is 15s; the first scrape comes within it.
	waitFor(t, "the server scraping itself", func() bool {
		v, _, _, err := prom.Query(context.Background(), `up{job="vigil"}`, time.Now())
		vec, ok := v.(model.Vector)
		return err == nil && ok && len(vec) == 1 && vec[0].Value == 1
	})
	srv.stop(t)
}

// repoRoot is the repository's root, seen from this package.
var repoRoot = filepath.Join("..", "..")

// docLine is a line of a Markdown file.
type docLine struct {
	file string
	line int
	text string
}

// docCurlLines returns the lines of the repository's Markdown files that
// run curl.
func docCurlLines(t *testing.T) []docLine {
	t.Helper()
	var lines []docLine
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, text := range strings.Split(string(data), "\n") {
			if text = strings.TrimSpace(text); strings.HasPrefix(text, "curl ") {
				lines = append(lines, docLine{path, i + 1, text})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestDocCurlLinesDoNotGlob checks the curl lines of the documentation: a
// URL with [, ], { or } needs -g (--globoff), or curl reads them as its
// URL patterns and fails ("bad range in URL").
func TestDocCurlLinesDoNotGlob(t *testing.T) {
	urls := regexp.MustCompile(`https?://[^'"\s]+`)
	lines := docCurlLines(t)
	if len(lines) == 0 {
		t.Fatal("no curl line in the documentation; the README has some")
	}
	for _, l := range lines {
		words := strings.Fields(l.text)
		if slices.Contains(words, "-g") || slices.Contains(words, "--globoff") {
			continue
		}
		for _, u := range urls.FindAllString(l.text, -1) {
			if strings.ContainsAny(u, "[]{}") {
				t.Errorf("%s:%d: curl globs %s: add -g, or pass the parameter with -G --data-urlencode", l.file, l.line, u)
			}
		}
	}
}

// queryValue returns the value of the single series expr gives now, or
// false when it gives none or an error.
func queryValue(t *testing.T, prom v1.API, expr string) (float64, bool) {
	v, _, _, err := prom.Query(context.Background(), expr, time.Now())
	vec, ok := v.(model.Vector)
	if err != nil || !ok || len(vec) != 1 {
		return 0, false
	}
	return float64(vec[0].Value), true
}

func TestServerFormatsRelabelingLimitsAndStaleness(t *testing.T) {
	serve := func(ctype, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ctype)
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	openMetrics := serve("application/openmetrics-text; version=1.0.0; charset=utf-8",
		"# TYPE om_events counter\nom_events_total 5 # {trace_id=\"e2e\"} 1.5 1600000000.123\n# EOF\n")
	text := serve("text/plain; version=0.0.4", "keep_me 1\ndrop_me 2\n")
	limited := serve("text/plain; version=0.0.4", "a 1\nb 2\n")

	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latency_seconds", Help: "Latency.", NativeHistogramBucketFactor: 1.1})
	reg.MustRegister(hist)
	for _, v := range []float64{0.1, 0.2, 0.4} {
		hist.Observe(v)
	}
	protoSrv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer protoSrv.Close()
	protobuf := strings.TrimPrefix(protoSrv.URL, "http://")

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "vigil.hcl")
	block := func(name, addr, extra string) string {
		return fmt.Sprintf("scrape %q {\n  targets = [%q]\n  scrape_interval = \"1s\"\n  scrape_timeout = \"1s\"\n%s}\n", name, addr, extra)
	}
	base := fmt.Sprintf("server {\n  data_dir = %q\n}\n", filepath.Join(dir, "data")) +
		block("text", text, `  metric_relabel {
    source_labels = ["__name__"]
    regex         = "drop_.*"
    action        = "drop"
  }
`) + block("protobuf", protobuf, "") + block("limited", limited, "  sample_limit = 1\n")
	if err := os.WriteFile(cfgPath, []byte(base+block("openmetrics", openMetrics, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", cfgPath)
	prom := srv.api(t)

	waitFor(t, "all four targets scraped", func() bool {
		targets, err := prom.Targets(context.Background())
		if err != nil || len(targets.Active) != 4 {
			return false
		}
		for _, tg := range targets.Active {
			if tg.Health == v1.HealthUnknown {
				return false
			}
		}
		return true
	})
	if v, ok := queryValue(t, prom, `om_events_total`); !ok || v != 5 {
		t.Errorf("OpenMetrics counter: %v, %v", v, ok)
	}
	exemplars, err := prom.QueryExemplars(context.Background(), `om_events_total`, time.Unix(1600000000, 0), time.Unix(1600000001, 0))
	if err != nil || len(exemplars) != 1 || len(exemplars[0].Exemplars) != 1 ||
		exemplars[0].Exemplars[0].Labels["trace_id"] != "e2e" || exemplars[0].Exemplars[0].Value != 1.5 ||
		exemplars[0].Exemplars[0].Timestamp.Time() != time.UnixMilli(1600000000123) {
		t.Errorf("the OpenMetrics counter's exemplar: %+v, %v", exemplars, err)
	}
	if v, ok := queryValue(t, prom, `histogram_count(latency_seconds)`); !ok || v != 3 {
		t.Errorf("native histogram from protobuf: %v, %v", v, ok)
	}
	if _, ok := queryValue(t, prom, `keep_me`); !ok {
		t.Error("keep_me is missing")
	}
	if _, ok := queryValue(t, prom, `drop_me`); ok {
		t.Error("metric_relabel did not drop drop_me")
	}
	if v, ok := queryValue(t, prom, `up{job="limited"}`); !ok || v != 0 {
		t.Errorf("up of the target over its sample limit: %v, %v", v, ok)
	}
	targets, err := prom.Targets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets.Active {
		if tg.ScrapePool == "limited" && !strings.Contains(tg.LastError, "sample limit exceeded") {
			t.Errorf("lastError of the limited target: %q", tg.LastError)
		}
	}

	// The OpenMetrics target leaves the configuration: its series go stale.
	if err := os.WriteFile(cfgPath, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed target's series to go stale", func() bool {
		_, ok := queryValue(t, prom, `om_events_total`)
		return !ok
	})
}
