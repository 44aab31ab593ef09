package sdk

import (
	"context"
	"errors"
	"strings"
	"testing"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// streamOnly is a discoverer that cannot be polled.
type streamOnly struct{}

func (streamOnly) Discover(ctx context.Context, _ func([]TargetGroup) error) error {
	<-ctx.Done()
	return nil
}

// polled answers its groups, or fails when told to.
type polled struct {
	streamOnly
	fail bool
}

func (p polled) Poll(context.Context) ([]TargetGroup, error) {
	if p.fail {
		return nil, errors.New("poll failed")
	}
	return []TargetGroup{{Source: "s:0", Labels: map[string]string{"l": "v"}, Targets: []map[string]string{{"__address__": "a:1"}}}}, nil
}

func TestServerPoll(t *testing.T) {
	serve := func(d Discoverer) *Server {
		t.Helper()
		s, err := NewServer(Plugin{Info: Info{Name: "sd"}, Discoverer: func(Config) (Discoverer, error) { return d, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Configure(&pb.ConfigureRequest{ConfigJson: []byte(`{}`)}); r.Error != "" {
			t.Fatal(r.Error)
		}
		return s
	}
	ctx := context.Background()
	resp, err := serve(polled{}).Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Groups) != 1 || resp.Groups[0].Source != "s:0" || resp.Groups[0].Labels["l"] != "v" ||
		len(resp.Groups[0].Targets) != 1 || resp.Groups[0].Targets[0].Labels["__address__"] != "a:1" {
		t.Errorf("poll answered %v", resp)
	}
	if _, err := serve(polled{fail: true}).Poll(ctx); err == nil || err.Error() != "poll failed" {
		t.Errorf("a failed poll: %v", err)
	}
	if _, err := serve(streamOnly{}).Poll(ctx); err == nil || !strings.Contains(err.Error(), "sdk.PollingDiscoverer") {
		t.Errorf("a discoverer that cannot be polled: %v", err)
	}
	unconfigured, err := NewServer(Plugin{Info: Info{Name: "sd"}, Discoverer: func(Config) (Discoverer, error) { return polled{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unconfigured.Poll(ctx); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("a poll before Configure: %v", err)
	}
}
