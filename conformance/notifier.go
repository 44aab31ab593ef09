package conformance

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

var notifierChecks = []Check{
	{ID: "notifier.v4-payload", Level: Must, Kind: sdk.KindNotifier, Reason: "A firing notification, Alertmanager's webhook message version 4 with every field set, is delivered without error.", run: checkV4Payload},
	{ID: "notifier.resolved", Level: Must, Kind: sdk.KindNotifier, Reason: "A resolved notification is delivered without error.", run: checkResolved},
	{ID: "notifier.failure-reported", Level: Must, Kind: sdk.KindNotifier, Reason: "When the receiver its URL attribute points at answers 503 or 400, Notify returns an error: the host retries or gives up only on errors.", Capability: sdk.CapabilityDeliversToURL, run: checkFailureReported},
	{ID: "notifier.failure-classified", Level: Should, Kind: sdk.KindNotifier, Reason: "A 503 answer is reported retryable and a 400 answer permanent (sdk.Permanent), as Alertmanager's notifiers judge them.", Capability: sdk.CapabilityDeliversToURL, run: checkFailureClassified},
	{ID: "notifier.idempotent", Level: Must, Kind: sdk.KindNotifier, Reason: "The same notification delivered twice succeeds twice: the host retries, and several Vigils may send the same group.", run: checkIdempotent},
}

// notification is a version-4 notification of one test alert with
// every field set.
func notification(status string) *sdk.Notification {
	now := time.Now().UTC().Truncate(time.Second)
	labels := map[string]string{"alertname": "ConformanceTest", "severity": "warning", "instance": "127.0.0.1:9100", "job": "conformance"}
	annotations := map[string]string{"summary": "A test alert of vigil conformance.", "description": "Sent by the conformance suite; nothing is wrong."}
	a := sdk.Alert{
		Status: status, Labels: labels, Annotations: annotations, StartsAt: now.Add(-5 * time.Minute),
		GeneratorURL: "http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0", Fingerprint: "c0f0a1b2c3d4e5f6",
	}
	if status == "resolved" {
		a.EndsAt = now
	}
	return &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="ConformanceTest"}`, Status: status, Receiver: "conformance",
		GroupLabels: map[string]string{"alertname": "ConformanceTest"}, CommonLabels: labels, CommonAnnotations: annotations,
		ExternalURL: "http://127.0.0.1:9090", Alerts: []sdk.Alert{a},
	}
}

// notify delivers n through the main plugin.
func (s *session) notify(n *sdk.Notification) error {
	ctx, cancel := s.callCtx()
	defer cancel()
	return s.main.Notify(ctx, n)
}

func checkV4Payload(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	return s.notify(notification("firing"))
}

func checkResolved(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	return s.notify(notification("resolved"))
}

// failures notifies while the receiver answers 503, then 400, and
// returns the two errors, for a plugin that claims delivers-to-url; it
// fails when a notification does not reach the receiver.
func (s *session) failures() (unavailable, rejected error, err error) {
	if err := s.needCalls(); err != nil {
		return nil, nil, err
	}
	if !s.notif.done {
		s.notif.done = true
		s.notif.unavailable, s.notif.rejected, s.notif.err = s.provokeFailures()
	}
	return s.notif.unavailable, s.notif.rejected, s.notif.err
}

// notifierState holds what the failure checks saw.
type notifierState struct {
	done                       bool
	unavailable, rejected, err error
}

func (s *session) provokeFailures() (unavailable, rejected error, err error) {
	if err := s.needReceiverAttr(sdk.CapabilityDeliversToURL); err != nil {
		return nil, nil, err
	}
	before := s.recv.posts.Load()
	if err := s.notify(notification("firing")); err != nil {
		return nil, nil, skipf("a notification fails already (see notifier.v4-payload)")
	}
	if s.recv.posts.Load() == before {
		return nil, nil, fmt.Errorf("the plugin claims %s, yet a notification did not reach the suite's receiver, where %s points", sdk.CapabilityDeliversToURL, strings.Join(s.receiverAttrs, ", "))
	}
	defer s.recv.status.Store(http.StatusOK)
	s.recv.status.Store(http.StatusServiceUnavailable)
	unavailable = s.notify(notification("firing"))
	s.recv.status.Store(http.StatusBadRequest)
	rejected = s.notify(notification("firing"))
	return unavailable, rejected, nil
}

func checkFailureReported(s *session) error {
	unavailable, rejected, err := s.failures()
	if err != nil {
		return err
	}
	var errs []error
	if unavailable == nil {
		errs = append(errs, errors.New("Notify succeeded while the receiver answered 503"))
	}
	if rejected == nil {
		errs = append(errs, errors.New("Notify succeeded while the receiver answered 400"))
	}
	return errors.Join(errs...)
}

func checkFailureClassified(s *session) error {
	unavailable, rejected, err := s.failures()
	if err != nil {
		return err
	}
	if unavailable == nil || rejected == nil {
		return skipf("Notify does not fail when the receiver does (see notifier.failure-reported)")
	}
	var errs []error
	if sdk.IsPermanent(unavailable) {
		errs = append(errs, fmt.Errorf("a 503 answer was reported permanent: %v", unavailable))
	}
	if !sdk.IsPermanent(rejected) {
		errs = append(errs, fmt.Errorf("a 400 answer was reported retryable: %v", rejected))
	}
	return errors.Join(errs...)
}

func checkIdempotent(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	n := notification("firing")
	for i := 1; i <= 2; i++ {
		if err := s.notify(n); err != nil {
			return fmt.Errorf("delivery %d of the same notification: %w", i, err)
		}
	}
	return nil
}
