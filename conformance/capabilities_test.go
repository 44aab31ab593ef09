package conformance_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/sdk"
)

// postNotifier POSTs each notification to its url; when lax it ignores
// the answer.
type postNotifier struct {
	url  string
	lax  bool
	http *http.Client
}

func (n postNotifier) Notify(ctx context.Context, _ *sdk.Notification) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, strings.NewReader("{}"))
	if err != nil {
		return sdk.Permanent(err)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if n.lax {
		return nil
	}
	return sdk.ResponseError("receiver", resp)
}

// postPlugin is a notifier that POSTs to its url, claiming caps.
func postPlugin(lax bool, caps ...string) *sdk.Plugin {
	return &sdk.Plugin{
		Info:   sdk.Info{Name: "post", Version: "1.0.0", Description: "POSTs to its url.", Capabilities: caps},
		Schema: sdk.Schema{sdk.String("url", "Where to POST.", sdk.Required)},
		Notifier: func(cfg sdk.Config) (sdk.Notifier, error) {
			return postNotifier{url: cfg.String("url"), lax: lax, http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}, nil
		},
	}
}

func runSuite(t *testing.T, target conformance.Target, opts conformance.Options) conformance.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := conformance.Run(ctx, target, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func wantStatus(t *testing.T, rep conformance.Report, id string, status conformance.Status, detail string) {
	t.Helper()
	res, ok := rep.Result(id)
	if !ok {
		t.Fatalf("%s did not run", id)
	}
	if res.Status != status || !strings.Contains(res.Detail, detail) {
		t.Errorf("%s: %s %q, want %s with %q", id, res.Status, res.Detail, status, detail)
	}
}

// TestCapabilityClaims checks that what a plugin claims, not what it
// happens to do, decides whether the checks needing a capability run.
func TestCapabilityClaims(t *testing.T) {
	t.Run("unclaimed", func(t *testing.T) {
		// It delivers to the receiver, yet does not claim to.
		rep := runSuite(t, conformance.InProcess(postPlugin(false)), conformance.Options{})
		for _, id := range []string{"notifier.failure-reported", "notifier.failure-classified"} {
			wantStatus(t, rep, id, conformance.Skip, "the plugin does not claim delivers-to-url")
		}
		wantStatus(t, rep, "plugin.capabilities", conformance.Skip, "claims no capabilities")
		if rep.Failed() {
			t.Errorf("failed checks %q", failed(rep))
		}
	})
	t.Run("claimed", func(t *testing.T) {
		rep := runSuite(t, conformance.InProcess(postPlugin(false, sdk.CapabilityDeliversToURL)), conformance.Options{})
		for _, id := range []string{"plugin.capabilities", "notifier.failure-reported", "notifier.failure-classified"} {
			wantStatus(t, rep, id, conformance.Pass, "")
		}
		if rep.Failed() {
			t.Errorf("failed checks %q", failed(rep))
		}
	})
	t.Run("claimed-not-kept", func(t *testing.T) {
		// It claims delivers-to-url and ignores the receiver's answers.
		rep := runSuite(t, conformance.InProcess(postPlugin(true, sdk.CapabilityDeliversToURL)), conformance.Options{})
		wantStatus(t, rep, "notifier.failure-reported", conformance.Fail, "Notify succeeded while the receiver answered 503")
		if got := failed(rep); len(got) != 1 || !rep.Failed() {
			t.Errorf("failed checks %q, want only notifier.failure-reported", got)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		rep := runSuite(t, conformance.InProcess(postPlugin(false, sdk.CapabilityDeliversToURL, "teleports", sdk.CapabilityPollsURL)), conformance.Options{})
		wantStatus(t, rep, "plugin.capabilities", conformance.Fail, `capability "teleports" is not one the suite knows`)
		wantStatus(t, rep, "plugin.capabilities", conformance.Fail, `capability "polls-url" is for a discovery plugin`)
		if rep.Failed() {
			t.Errorf("a SHOULD check failed the plugin: %q", failed(rep))
		}
	})
}

// groupsDiscoverer sends groups a and b, and b empty once removed is
// closed.
type groupsDiscoverer struct{ removed chan struct{} }

func (d groupsDiscoverer) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	group := func(name, addr string, empty bool) sdk.TargetGroup {
		g := sdk.TargetGroup{Source: name, Labels: map[string]string{"group": name}}
		if !empty {
			g.Targets = []map[string]string{{"__address__": addr}}
		}
		return g
	}
	isRemoved := func() bool {
		select {
		case <-d.removed:
			return true
		default:
			return false
		}
	}
	if err := send([]sdk.TargetGroup{group("a", "127.0.0.1:9100", false), group("b", "127.0.0.1:9101", isRemoved())}); err != nil {
		return err
	}
	if !isRemoved() {
		select {
		case <-d.removed:
			if err := send([]sdk.TargetGroup{group("b", "", true)}); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

// TestRemoveGroupOption checks that Options.RemoveGroup drives a
// discoverer that claims no capability, and that without it the check
// says what is missing.
func TestRemoveGroupOption(t *testing.T) {
	removed := make(chan struct{})
	var once sync.Once
	p := &sdk.Plugin{
		Info:       sdk.Info{Name: "groups", Version: "1.0.0", Description: "Two groups."},
		Discoverer: func(sdk.Config) (sdk.Discoverer, error) { return groupsDiscoverer{removed}, nil },
	}
	rep := runSuite(t, conformance.InProcess(p), conformance.Options{Kind: sdk.KindDiscoverer})
	wantStatus(t, rep, "discovery.removed-group-empty", conformance.Skip, "the plugin does not claim polls-url or reads-files, and Options.RemoveGroup is not set")
	rep = runSuite(t, conformance.InProcess(p), conformance.Options{Kind: sdk.KindDiscoverer, RemoveGroup: func(context.Context) error {
		once.Do(func() { close(removed) })
		return nil
	}})
	wantStatus(t, rep, "discovery.removed-group-empty", conformance.Pass, "")
	if rep.Failed() {
		t.Errorf("failed checks %q", failed(rep))
	}
}
