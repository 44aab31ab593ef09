package client_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/sdk"
)

// The test binary is also the plugin under test: run with
// VIGIL_TEST_PLUGIN set, it serves the plugin of that kind.
func TestMain(m *testing.M) {
	switch os.Getenv("VIGIL_TEST_PLUGIN") {
	case "exporter":
		sdk.Serve(exporterPlugin)
		return
	case "discoverer":
		sdk.Serve(discovererPlugin)
		return
	case "notifier":
		sdk.Serve(notifierPlugin)
		return
	case "multi-target":
		sdk.Serve(multiTargetPlugin)
		return
	}
	os.Exit(m.Run())
}

// series is an exporter that serves one gauge family of "count" series.
type series struct{ count int }

func (s series) Collect(context.Context) ([]*dto.MetricFamily, error) {
	f := &dto.MetricFamily{Name: proto.String("test_value"), Help: proto.String("A value."), Type: dto.MetricType_GAUGE.Enum()}
	for i := range s.count {
		f.Metric = append(f.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: proto.String("i"), Value: proto.String(fmt.Sprint(i))}},
			Gauge: &dto.Gauge{Value: proto.Float64(float64(i))},
		})
	}
	up := &dto.MetricFamily{Name: proto.String("test_up"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}
	return []*dto.MetricFamily{f, up}, nil
}

var exporterPlugin = sdk.Plugin{
	Info: sdk.Info{Name: "test-exporter", Version: "1.0.0", Description: "Serves many series."},
	Schema: sdk.Schema{
		sdk.Number("series", "How many series.", sdk.Default(3)),
		sdk.String("token", "A secret.", sdk.Sensitive),
		sdk.Duration("interval", "Unused.", sdk.Default("30s")),
	},
	Exporter: func(cfg sdk.Config) (sdk.Exporter, error) {
		if cfg.Number("series") < 0 {
			return nil, sdk.AttributeErrorf("series", "must not be negative")
		}
		return series{count: int(cfg.Number("series"))}, nil
	},
}

// echo is a multi-target exporter whose one series names the target.
type echo struct{ series }

// A target at address "down" gives probe_success 0 and a target error.
func (echo) CollectTarget(_ context.Context, t sdk.Target) ([]*dto.MetricFamily, error) {
	v, err := 1.0, error(nil)
	if t.Address == "down" {
		v, err = 0, sdk.TargetDown(errors.New("connection refused"))
	}
	return []*dto.MetricFamily{{Name: proto.String("probe_success"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{
			Label: []*dto.LabelPair{{Name: proto.String("target"), Value: proto.String(t.Address + " " + t.Module + " " + t.Params["x"])}},
			Gauge: &dto.Gauge{Value: proto.Float64(v)},
		}}}}, err
}

var multiTargetPlugin = sdk.Plugin{
	Info:     sdk.Info{Name: "test-multi", Version: "1.0.0", Capabilities: []string{sdk.CapabilityMultiTarget}},
	Exporter: func(sdk.Config) (sdk.Exporter, error) { return echo{series{1}}, nil },
}

// TestMultiTarget collects targets over gRPC: the plugin gets each, and
// a plugin that is not multi-target refuses one.
func TestMultiTarget(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"multi-target", "exporter"} {
		p := start(t, kind)
		if err := p.Configure(ctx, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		b, err := p.CollectTargetDelimited(ctx, sdk.Target{Address: "http://a:1/x", Module: "http_2xx", Params: map[string]string{"x": "y"}})
		if kind == "exporter" {
			if err == nil || !strings.Contains(err.Error(), "not a multi-target exporter") {
				t.Errorf("a single-target exporter collected a target: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		families, err := client.DecodeFamilies(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := families[0].Metric[0].Label[0].GetValue(); got != "http://a:1/x http_2xx y" {
			t.Errorf("the plugin got target %q", got)
		}
		// Without a target, the plugin's own Collect answers.
		if families, err := p.Collect(ctx); err != nil || families[0].GetName() != "test_value" {
			t.Errorf("collect without a target: %v", err)
		}
	}
}

// TestTargetError carries a target error over gRPC: the families come
// with an *sdk.TargetError holding the plugin's message.
func TestTargetError(t *testing.T) {
	ctx := context.Background()
	p := start(t, "multi-target")
	if err := p.Configure(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	b, err := p.CollectTargetDelimited(ctx, sdk.Target{Address: "down"})
	te := sdk.AsTargetError(err)
	if te == nil || te.Err.Error() != "connection refused" {
		t.Fatalf("collect of a down target: err = %v, want a target error %q", err, "connection refused")
	}
	families, err := client.DecodeFamilies(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 1 || families[0].GetName() != "probe_success" || families[0].Metric[0].GetGauge().GetValue() != 0 {
		t.Errorf("families with the target error = %v, want probe_success 0", families)
	}
	// A target that is up has no error.
	if _, err := p.CollectTargetDelimited(ctx, sdk.Target{Address: "up"}); err != nil {
		t.Errorf("collect of an up target: %v", err)
	}
}

type staticGroups struct{}

func (staticGroups) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	if err := send([]sdk.TargetGroup{{Source: "a", Labels: map[string]string{"zone": "x"}, Targets: []map[string]string{{"__address__": "127.0.0.1:1"}}}}); err != nil {
		return err
	}
	if err := send([]sdk.TargetGroup{{Source: "a"}}); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

var discovererPlugin = sdk.Plugin{
	Info:       sdk.Info{Name: "test-discoverer", Version: "1.0.0"},
	Discoverer: func(sdk.Config) (sdk.Discoverer, error) { return staticGroups{}, nil },
}

type failing struct{}

func (failing) Notify(_ context.Context, n *sdk.Notification) error {
	switch n.Receiver {
	case "permanent":
		return sdk.Permanent(errors.New("rejected"))
	case "retryable":
		return errors.New("try later")
	case "panic":
		panic("boom")
	}
	if len(n.Alerts) != 1 || n.Alerts[0].Labels["alertname"] != "Up" || n.Alerts[0].StartsAt.IsZero() {
		return sdk.Permanent(fmt.Errorf("unexpected notification %+v", n))
	}
	return nil
}

var notifierPlugin = sdk.Plugin{
	Info:     sdk.Info{Name: "test-notifier", Version: "1.0.0"},
	Schema:   sdk.Schema{sdk.String("url", "Where to.", sdk.Required)},
	Notifier: func(sdk.Config) (sdk.Notifier, error) { return failing{}, nil },
}

func start(t *testing.T, kind string) *client.Plugin {
	t.Helper()
	p, err := client.Start(client.Options{Path: os.Args[0], Env: []string{"VIGIL_TEST_PLUGIN=" + kind}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// TestRelativePathWithDir: a program given by a path relative to the
// host's working directory, with a folder, starts in another folder,
// Dir, where that path leads nowhere.
func TestRelativePathWithDir(t *testing.T) {
	host := t.TempDir()
	if err := os.Mkdir(filepath.Join(host, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.Args[0], filepath.Join(host, "plugins", "exporter")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(host)
	p, err := client.Start(client.Options{Path: filepath.Join("plugins", "exporter"), Dir: t.TempDir(), Env: []string{"VIGIL_TEST_PLUGIN=exporter"}})
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
}

func TestExporter(t *testing.T) {
	ctx := context.Background()
	p := start(t, "exporter")
	info, kind, err := p.Info(ctx)
	if err != nil || kind != sdk.KindExporter || info.Name != "test-exporter" {
		t.Fatalf("info %+v kind %v: %v", info, kind, err)
	}
	schema, err := p.Schema(ctx)
	if err != nil || len(schema) != 3 || schema[0].Default != float64(3) || !schema[1].Sensitive || schema[2].Type != sdk.TypeDuration {
		t.Fatalf("schema %+v: %v", schema, err)
	}
	if _, err := p.Collect(ctx); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("collect before configure: %v", err)
	}

	var ae *sdk.AttributeError
	for config, attr := range map[string]string{
		`{"series": "many"}`:   "series",
		`{"seriez": 1}`:        "seriez",
		`{"series": -1}`:       "series",
		`{"interval": "soon"}`: "interval",
	} {
		if err := p.Configure(ctx, []byte(config)); !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("configure %s: %v, want an error naming %q", config, err, attr)
		}
	}
	if err := p.Configure(ctx, []byte(`{"token": 5}`)); err == nil || strings.Contains(err.Error(), "5") {
		t.Errorf("a sensitive attribute's value is echoed: %v", err)
	}

	// 200k series do not fit one gRPC message; they come in chunks and
	// are joined into one family again.
	if err := p.Configure(ctx, []byte(`{"series": 200000}`)); err != nil {
		t.Fatal(err)
	}
	families, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 2 || len(families[0].Metric) != 200000 || families[0].GetName() != "test_value" || families[1].GetName() != "test_up" {
		t.Fatalf("got %d families, the first with %d metrics", len(families), len(families[0].Metric))
	}
	if got := families[0].Metric[199999].GetGauge().GetValue(); got != 199999 {
		t.Errorf("last metric %v", got)
	}
}

func TestDiscoverer(t *testing.T) {
	p := start(t, "discoverer")
	if err := p.Configure(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var updates [][]sdk.TargetGroup
	err := p.Discover(ctx, func(groups []sdk.TargetGroup) error {
		updates = append(updates, groups)
		if len(updates) == 2 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 2 || updates[0][0].Targets[0]["__address__"] != "127.0.0.1:1" || updates[0][0].Labels["zone"] != "x" || len(updates[1][0].Targets) != 0 {
		t.Fatalf("updates %+v", updates)
	}
}

func TestNotifier(t *testing.T) {
	ctx := context.Background()
	p := start(t, "notifier")
	var ae *sdk.AttributeError
	if err := p.Configure(ctx, []byte(`{}`)); !errors.As(err, &ae) || ae.Attribute != "url" || !strings.Contains(err.Error(), "required") {
		t.Fatalf("configure without a required attribute: %v", err)
	}
	if err := p.Configure(ctx, []byte(`{"url": "http://127.0.0.1:1"}`)); err != nil {
		t.Fatal(err)
	}
	n := &sdk.Notification{Version: "4", Status: "firing", Receiver: "ok", Alerts: []sdk.Alert{{
		Status: "firing", Labels: map[string]string{"alertname": "Up"}, StartsAt: time.Now(),
	}}}
	if err := p.Notify(ctx, n); err != nil {
		t.Fatalf("notify: %v", err)
	}
	for receiver, permanent := range map[string]bool{"permanent": true, "retryable": false, "panic": false} {
		n.Receiver = receiver
		err := p.Notify(ctx, n)
		if err == nil || sdk.IsPermanent(err) != permanent {
			t.Errorf("%s: %v (permanent %v)", receiver, err, sdk.IsPermanent(err))
		}
	}
	// The panic was contained: the plugin still answers.
	n.Receiver = "ok"
	if err := p.Notify(ctx, n); err != nil {
		t.Fatalf("notify after a panic: %v", err)
	}
}

func TestChecksumMismatchIsRefused(t *testing.T) {
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, f)
	f.Close()
	good := h.Sum(nil)
	p, err := client.Start(client.Options{Path: os.Args[0], Env: []string{"VIGIL_TEST_PLUGIN=exporter"}, Checksum: good})
	if err != nil {
		t.Fatalf("the right checksum: %v", err)
	}
	p.Kill()
	bad := make([]byte, len(good))
	_, err = client.Start(client.Options{Path: os.Args[0], Env: []string{"VIGIL_TEST_PLUGIN=exporter"}, Checksum: bad})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%x", good)) || !strings.Contains(err.Error(), fmt.Sprintf("but %x is expected", bad)) {
		t.Fatalf("a wrong checksum: %v", err)
	}
}

// TestReattach runs a plugin on its own, as under a debugger, and
// attaches to it through the line it prints.
func TestReattach(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "VIGIL_TEST_PLUGIN=exporter", sdk.DebugEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	var value string
	for value == "" && lines.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), sdk.ReattachEnv+"="); ok {
			value = strings.Trim(v, "'")
		}
	}
	if value == "" {
		t.Fatal("the plugin printed no reattach line")
	}
	t.Setenv(sdk.ReattachEnv, value)
	rc, err := sdk.ReattachConfig("test-exporter")
	if err != nil || rc == nil {
		t.Fatalf("reattach config: %v %v", rc, err)
	}
	p, err := client.Start(client.Options{Reattach: rc})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	if info, _, err := p.Info(context.Background()); err != nil || info.Name != "test-exporter" {
		t.Fatalf("info over a reattached plugin: %+v %v", info, err)
	}
	if err := p.Healthy(context.Background()); err != nil {
		t.Fatal(err)
	}
}
