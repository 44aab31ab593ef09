package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

var discoveryChecks = []Check{
	{ID: "discovery.initial-update", Level: Must, Kind: sdk.KindDiscoverer, Reason: "A first update arrives within the discovery timeout (10s by default): the host waits for it before scraping.", run: checkInitialUpdate},
	{ID: "discovery.target-address", Level: Must, Kind: sdk.KindDiscoverer, Reason: "Every target has an __address__ label, its own or its group's: the host cannot scrape a target without one.", run: checkTargetAddress},
	{ID: "discovery.sources", Level: Must, Kind: sdk.KindDiscoverer, Reason: "Group sources are non-empty and unique in an update, and a second Discover call sends the same sources: the host replaces groups by source.", run: checkSources},
	{ID: "discovery.removed-group-empty", Level: Must, Kind: sdk.KindDiscoverer, Reason: "A group that goes away is sent with its source and no targets, so the host drops its targets. Run for a plugin that claims polls-url or reads-files, or when Options.RemoveGroup is set.", run: checkRemovedGroup},
	{ID: "discovery.stops-on-cancel", Level: Must, Kind: sdk.KindDiscoverer, Reason: "When its context ends, Discover returns within 1s and sends nothing more, and a new Discover call works.", run: checkStopsOnCancel},
}

// discoveryState holds the discovery the checks share.
type discoveryState struct {
	watch *watch
	// updates are the updates received so far.
	updates [][]sdk.TargetGroup
}

// watch is a Discover call running on its own goroutine.
type watch struct {
	updates  chan []sdk.TargetGroup
	cancel   context.CancelFunc
	done     chan error
	returned atomic.Bool
	late     atomic.Int64
	err      error
	ended    bool
}

// watch starts a Discover call on c.
func (s *session) watch(c *plugConn) *watch {
	ctx, cancel := context.WithCancel(s.ctx)
	w := &watch{updates: make(chan []sdk.TargetGroup, 1024), cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := c.Discover(ctx, func(groups []sdk.TargetGroup) error {
			if w.returned.Load() {
				w.late.Add(1)
			}
			select {
			case w.updates <- groups:
			default:
			}
			return nil
		})
		w.returned.Store(true)
		w.done <- err
	}()
	return w
}

// next waits up to d for the next update.
func (w *watch) next(d time.Duration) ([]sdk.TargetGroup, error) {
	if w.ended {
		select {
		case g := <-w.updates:
			return g, nil
		default:
			return nil, fmt.Errorf("Discover had ended: %v", w.err)
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case g := <-w.updates:
		return g, nil
	case err := <-w.done:
		w.ended, w.err = true, err
		if err == nil {
			err = errors.New("Discover returned without an update")
		}
		return nil, fmt.Errorf("Discover ended: %w", err)
	case <-t.C:
		return nil, fmt.Errorf("no update within %s", d)
	}
}

// stop cancels the call and waits up to grace for it to return.
func (w *watch) stop() (returned bool, err error) {
	w.cancel()
	if w.ended {
		return true, w.err
	}
	select {
	case err := <-w.done:
		w.ended, w.err = true, err
		return true, err
	case <-time.After(grace):
		return false, nil
	}
}

// drain adds the updates received so far to the state.
func (s *session) drain() {
	for {
		select {
		case g := <-s.disc.watch.updates:
			s.disc.updates = append(s.disc.updates, g)
		default:
			return
		}
	}
}

func (s *session) needDiscovery() error {
	if err := s.needCalls(); err != nil {
		return err
	}
	if s.disc.watch == nil {
		return skipf("there was no first update (see discovery.initial-update)")
	}
	s.drain()
	return nil
}

func checkInitialUpdate(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	w := s.watch(s.main)
	first, err := w.next(s.opts.DiscoveryTimeout)
	if err != nil {
		w.stop()
		return err
	}
	s.disc.watch, s.disc.updates = w, [][]sdk.TargetGroup{first}
	return nil
}

func checkTargetAddress(s *session) error {
	if err := s.needDiscovery(); err != nil {
		return err
	}
	n := 0
	var errs []error
	for _, u := range s.disc.updates {
		for _, g := range u {
			for i, t := range g.Targets {
				n++
				if t["__address__"] == "" && g.Labels["__address__"] == "" {
					errs = append(errs, fmt.Errorf("target %d of group %q has no __address__: %v", i+1, g.Source, t))
				}
			}
		}
	}
	if n == 0 && len(errs) == 0 {
		return skipf("no update so far has a target")
	}
	return limitErrors(errs)
}

// sources are the sources of groups with targets in an update.
func sources(groups []sdk.TargetGroup) []string {
	var out []string
	for _, g := range groups {
		if len(g.Targets) > 0 {
			out = append(out, g.Source)
		}
	}
	slices.Sort(out)
	return out
}

func checkSources(s *session) error {
	if err := s.needDiscovery(); err != nil {
		return err
	}
	var errs []error
	for i, u := range s.disc.updates {
		seen := map[string]bool{}
		for _, g := range u {
			if g.Source == "" {
				errs = append(errs, fmt.Errorf("update %d has a group without a source", i+1))
			} else if seen[g.Source] {
				errs = append(errs, fmt.Errorf("update %d has source %q twice", i+1, g.Source))
			}
			seen[g.Source] = true
		}
	}
	if len(errs) > 0 {
		return limitErrors(errs)
	}
	w := s.watch(s.main)
	defer w.stop()
	again, err := w.next(s.opts.DiscoveryTimeout)
	if err != nil {
		return fmt.Errorf("a second Discover call: %w", err)
	}
	if a, b := sources(s.disc.updates[0]), sources(again); !slices.Equal(a, b) {
		return fmt.Errorf("the first update of a second Discover call has sources %q, the first call's had %q", b, a)
	}
	return nil
}

func checkRemovedGroup(s *session) error {
	if err := s.needDiscovery(); err != nil {
		return err
	}
	had := map[string]bool{}
	for _, u := range s.disc.updates {
		for _, g := range u {
			had[g.Source] = len(g.Targets) > 0
		}
	}
	defer s.recv.groups.Store(int32(len(receiverGroups)))
	if err := s.removeGroup(); err != nil {
		return err
	}
	deadline := time.Now().Add(s.opts.DiscoveryTimeout)
	for {
		u, err := s.disc.watch.next(time.Until(deadline))
		if err != nil {
			return fmt.Errorf("no group was sent empty after one went away: %w", err)
		}
		s.disc.updates = append(s.disc.updates, u)
		for _, g := range u {
			if had[g.Source] && len(g.Targets) == 0 {
				return nil
			}
		}
	}
}

func checkStopsOnCancel(s *session) error {
	if err := s.needDiscovery(); err != nil {
		return err
	}
	w := s.disc.watch
	returned, err := w.stop()
	if !returned {
		return fmt.Errorf("Discover did not return within %s of its context ending", grace)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("Discover returned an error when its context ended: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := w.late.Load(); n > 0 {
		return fmt.Errorf("the plugin sent %d updates after Discover returned", n)
	}
	if err := s.probe(s.main); err != nil {
		return fmt.Errorf("a new Discover call after a cancelled one: %w", err)
	}
	return nil
}

// removeGroup makes one of the groups the plugin has sent go away: with
// Options.RemoveGroup when set, else as the plugin's claims allow.
func (s *session) removeGroup() error {
	switch {
	case s.opts.RemoveGroup != nil:
		ctx, cancel := s.callCtx()
		defer cancel()
		if err := s.opts.RemoveGroup(ctx); err != nil {
			return fmt.Errorf("Options.RemoveGroup: %w", err)
		}
		return nil
	case s.info.HasCapability(sdk.CapabilityPollsURL):
		if err := s.needReceiverAttr(sdk.CapabilityPollsURL); err != nil {
			return err
		}
		if s.recv.gets.Load() == 0 {
			return fmt.Errorf("the plugin claims %s, yet has not polled the suite's receiver, where %s points", sdk.CapabilityPollsURL, strings.Join(s.receiverAttrs, ", "))
		}
		s.recv.groups.Store(1)
		return nil
	case s.info.HasCapability(sdk.CapabilityReadsFiles):
		if s.filesDir == "" {
			return fmt.Errorf("the plugin claims %s, yet has no string list attribute \"files\"", sdk.CapabilityReadsFiles)
		}
		if err := os.Remove(filepath.Join(s.filesDir, filesGroupNames[len(filesGroupNames)-1])); err != nil {
			return fmt.Errorf("cannot remove a file of %s: %w", sdk.CapabilityReadsFiles, err)
		}
		return nil
	}
	return skipf("the plugin does not claim %s or %s, and Options.RemoveGroup is not set", sdk.CapabilityPollsURL, sdk.CapabilityReadsFiles)
}
