package conformance

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

// deliveryCapabilities are the capabilities that let the suite make a
// notifier's deliveries fail.
var deliveryCapabilities = []string{sdk.CapabilityDeliversToURL, sdk.CapabilityDeliversSMTP}

var notifierChecks = []Check{
	{ID: "notifier.v4-payload", Level: Must, Kind: sdk.KindNotifier, Reason: "A firing notification, Alertmanager's webhook message version 4 with every field set, is delivered without error.", run: checkV4Payload},
	{ID: "notifier.resolved", Level: Must, Kind: sdk.KindNotifier, Reason: "A resolved notification is delivered without error.", run: checkResolved},
	{ID: "notifier.failure-reported", Level: Must, Kind: sdk.KindNotifier, Reason: "When the receiver it delivers to refuses a notification (HTTP 503 or 400, SMTP 451 or 554), Notify returns an error: the host retries or gives up only on errors.", Capabilities: deliveryCapabilities, run: checkFailureReported},
	{ID: "notifier.failure-classified", Level: Should, Kind: sdk.KindNotifier, Reason: "A temporary refusal (HTTP 503, SMTP 451) is reported retryable and a permanent one (HTTP 400, SMTP 554) permanent (sdk.Permanent), as Alertmanager's HTTP notifiers and SMTP's reply codes (RFC 5321) judge them.", Capabilities: deliveryCapabilities, run: checkFailureClassified},
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

// failures notifies while the receivers answer with a temporary
// failure, then a permanent one, and returns the two errors, for a
// plugin that claims delivers-to-url or delivers-smtp; it fails when a
// notification does not reach the receiver of each capability claimed.
func (s *session) failures() (temporary, permanent error, err error) {
	if err := s.needCalls(); err != nil {
		return nil, nil, err
	}
	if !s.notif.done {
		s.notif.done = true
		s.notif.temporary, s.notif.permanent, s.notif.err = s.provokeFailures()
	}
	return s.notif.temporary, s.notif.permanent, s.notif.err
}

// notifierState holds what the failure checks saw.
type notifierState struct {
	done                      bool
	temporary, permanent, err error
}

// failureAnswers name the answers of the receivers the plugin claims to
// deliver to: a temporary failure and a permanent one.
func (s *session) failureAnswers() (temporary, permanent string) {
	var t, p []string
	if s.info.HasCapability(sdk.CapabilityDeliversToURL) {
		t, p = append(t, "503"), append(p, "400")
	}
	if s.info.HasCapability(sdk.CapabilityDeliversSMTP) {
		t, p = append(t, "451 (SMTP)"), append(p, "554 (SMTP)")
	}
	return strings.Join(t, " and "), strings.Join(p, " and ")
}

func (s *session) provokeFailures() (temporary, permanent error, err error) {
	toURL, toSMTP := s.info.HasCapability(sdk.CapabilityDeliversToURL), s.info.HasCapability(sdk.CapabilityDeliversSMTP)
	if toURL {
		if err := s.needReceiverAttr(sdk.CapabilityDeliversToURL); err != nil {
			return nil, nil, err
		}
	}
	if toSMTP {
		if err := s.needSMTPAttrs(); err != nil {
			return nil, nil, err
		}
	}
	posts, messages := s.recv.posts.Load(), s.smtpMessages()
	if err := s.notify(notification("firing")); err != nil {
		return nil, nil, skipf("a notification fails already (see notifier.v4-payload)")
	}
	var missed []error
	if toURL && s.recv.posts.Load() == posts {
		missed = append(missed, fmt.Errorf("the plugin claims %s, yet a notification did not reach the suite's receiver, where %s points", sdk.CapabilityDeliversToURL, strings.Join(s.receiverAttrs, ", ")))
	}
	if toSMTP && s.smtpMessages() == messages {
		missed = append(missed, fmt.Errorf("the plugin claims %s, yet a notification did not reach the suite's SMTP server, where %s points", sdk.CapabilityDeliversSMTP, strings.Join(s.smtpAttrs, " and ")))
	}
	if len(missed) > 0 {
		return nil, nil, errors.Join(missed...)
	}
	defer s.answerWith(answerOK)
	s.answerWith(answerTemporary)
	temporary = s.notify(notification("firing"))
	s.answerWith(answerPermanent)
	permanent = s.notify(notification("firing"))
	return temporary, permanent, nil
}

// smtpMessages is how many messages the SMTP receiver has read; 0
// without one.
func (s *session) smtpMessages() int64 {
	if s.smtp == nil {
		return 0
	}
	return s.smtp.messages.Load()
}

func checkFailureReported(s *session) error {
	temporary, permanent, err := s.failures()
	if err != nil {
		return err
	}
	t, p := s.failureAnswers()
	var errs []error
	if temporary == nil {
		errs = append(errs, fmt.Errorf("Notify succeeded while the receiver answered %s", t))
	}
	if permanent == nil {
		errs = append(errs, fmt.Errorf("Notify succeeded while the receiver answered %s", p))
	}
	return errors.Join(errs...)
}

func checkFailureClassified(s *session) error {
	temporary, permanent, err := s.failures()
	if err != nil {
		return err
	}
	if temporary == nil || permanent == nil {
		return skipf("Notify does not fail when the receiver does (see notifier.failure-reported)")
	}
	t, p := s.failureAnswers()
	var errs []error
	if sdk.IsPermanent(temporary) {
		errs = append(errs, fmt.Errorf("a %s answer was reported permanent: %v", t, temporary))
	}
	if !sdk.IsPermanent(permanent) {
		errs = append(errs, fmt.Errorf("a %s answer was reported retryable: %v", p, permanent))
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
