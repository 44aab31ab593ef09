package discovery

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/internal/testfixture"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a sink that keeps every call.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(kind, name string, groups []sdk.TargetGroup) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := kind + " " + name
	for _, g := range groups {
		s += " " + g.Source
	}
	r.calls = append(r.calls, s)
	return nil
}

func (r *recorder) SetDiscovered(name string, g []sdk.TargetGroup) error {
	return r.add("set", name, g)
}

func (r *recorder) ReplaceDiscovered(name string, g []sdk.TargetGroup) error {
	return r.add("replace", name, g)
}

func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		calls := append([]string(nil), r.calls...)
		r.mu.Unlock()
		if len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("got calls %q, want %d", calls, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// twoUpdates sends a full update and a change, then waits.
type twoUpdates struct{}

func (twoUpdates) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	send([]sdk.TargetGroup{{Source: "a", Targets: []map[string]string{{"__address__": "x:1"}}}})
	send([]sdk.TargetGroup{{Source: "b", Targets: []map[string]string{{"__address__": "x:2"}}}})
	<-ctx.Done()
	return nil
}

func TestStreamsFollowTheConfig(t *testing.T) {
	rec := &recorder{}
	d := twoUpdates{}
	m := New(Options{Sink: rec, Discoverers: func(name string) (sdk.Discoverer, bool) { return d, name == "d" }})
	testfixture.Run(t, m.Run)
	ctx := t.Context()
	cfg, diags := hclconfig.Parse("t.hcl", []byte(`plugin "p" { source = "p" }
discovery "d" { plugin = "p" }`))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	apply := func(cfg *hclconfig.Config) {
		t.Helper()
		if err := m.ApplyConfig(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	apply(cfg)
	if calls := rec.wait(t, 2); calls[0] != "replace d a" || calls[1] != "set d b" {
		t.Fatalf("calls %q", calls)
	}
	apply(cfg) // unchanged: the stream goes on
	empty, _ := hclconfig.Parse("t.hcl", []byte(``))
	apply(empty)
	if calls := rec.wait(t, 3); len(calls) != 3 || calls[2] != "replace d" {
		t.Fatalf("calls after the block went away: %q", calls)
	}
	orphan, _ := hclconfig.Parse("t.hcl", []byte(`plugin "p" { source = "p" }
discovery "other" { plugin = "p" }`))
	if err := m.ApplyConfig(ctx, orphan); err == nil || !strings.Contains(err.Error(), `discovery "other" has no plugin instance`) {
		t.Errorf("a block without an instance: %v", err)
	}
}
