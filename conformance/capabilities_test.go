package conformance_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
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

// mailNotifier sends each notification as an email through its
// smarthost with net/smtp, refusing a server without STARTTLS when
// requireTLS is set.
type mailNotifier struct {
	addr       string
	requireTLS bool
	mailOptions
}

// mailOptions make a mailNotifier wrong: lax ignores the answer to the
// message, retryAll reports every failure retryable; hostPort gives the
// plugin host and port attributes rather than smarthost.
type mailOptions struct{ lax, retryAll, hostPort bool }

func (n mailNotifier) Notify(ctx context.Context, _ *sdk.Notification) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	host, _, _ := net.SplitHostPort(n.addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok && n.requireTLS {
		return sdk.Permanent(errors.New("the server does not offer STARTTLS"))
	}
	if err := c.Mail("vigil@example.invalid"); err != nil {
		return n.classify(err)
	}
	if err := c.Rcpt("ops@example.invalid"); err != nil {
		return n.classify(err)
	}
	w, err := c.Data()
	if err != nil {
		return n.classify(err)
	}
	if _, err := io.WriteString(w, "Subject: test\r\n\r\nA test.\r\n"); err != nil {
		return err
	}
	if err := w.Close(); err != nil && !n.lax {
		return n.classify(err)
	}
	return c.Quit()
}

// classify marks err permanent when it is a 5xx answer, unless retryAll.
func (n mailNotifier) classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && !n.retryAll {
		return sdk.Permanent(err)
	}
	return err
}

// mailPlugin is a notifier that sends email through the SMTP server of
// its schema, claiming caps.
func mailPlugin(o mailOptions, caps ...string) *sdk.Plugin {
	schema := sdk.Schema{sdk.String("smarthost", "The SMTP server, host:port.", sdk.Required)}
	if o.hostPort {
		schema = sdk.Schema{sdk.String("host", "The SMTP server.", sdk.Required), sdk.Number("port", "Its port.", sdk.Default(25))}
	}
	schema = append(schema,
		sdk.String("from", "The sender.", sdk.Required),
		sdk.StringList("to", "The recipients.", sdk.Required),
		sdk.Bool("require_tls", "Whether the server must offer STARTTLS.", sdk.Default(true)),
	)
	return &sdk.Plugin{
		Info:   sdk.Info{Name: "mail", Version: "1.0.0", Description: "Sends email.", Capabilities: caps},
		Schema: schema,
		Notifier: func(cfg sdk.Config) (sdk.Notifier, error) {
			if _, err := mail.ParseAddress(cfg.String("from")); err != nil {
				return nil, sdk.AttributeErrorf("from", "%v", err)
			}
			addr := cfg.String("smarthost")
			if o.hostPort {
				addr = net.JoinHostPort(cfg.String("host"), strconv.Itoa(int(cfg.Number("port"))))
			}
			return mailNotifier{addr: addr, requireTLS: cfg.Bool("require_tls"), mailOptions: o}, nil
		},
	}
}

// TestDeliversSMTP checks the SMTP receiver of delivers-smtp: the suite
// points the server's attributes at it, whatever the config given says,
// and makes it answer 451 and 554.
func TestDeliversSMTP(t *testing.T) {
	// Configs for another server, which requires TLS: a closed port of
	// 127.0.0.1, so that a test that fails stays on loopback too.
	elsewhere := func(server string) conformance.Options {
		return conformance.Options{ConfigJSON: []byte(`{` + server + `, "require_tls": true, "from": "Vigil <vigil@example.com>"}`)}
	}
	for name, tc := range map[string]struct {
		plugin *sdk.Plugin
		opts   conformance.Options
	}{
		"smarthost":       {mailPlugin(mailOptions{}, sdk.CapabilityDeliversSMTP), conformance.Options{}},
		"host-port":       {mailPlugin(mailOptions{hostPort: true}, sdk.CapabilityDeliversSMTP), conformance.Options{}},
		"other-smarthost": {mailPlugin(mailOptions{}, sdk.CapabilityDeliversSMTP), elsewhere(`"smarthost": "127.0.0.1:1"`)},
		"other-host-port": {mailPlugin(mailOptions{hostPort: true}, sdk.CapabilityDeliversSMTP), elsewhere(`"host": "127.0.0.1", "port": 1`)},
	} {
		t.Run(name, func(t *testing.T) {
			rep := runSuite(t, conformance.InProcess(tc.plugin), tc.opts)
			for _, id := range []string{"plugin.capabilities", "config.sample", "notifier.v4-payload", "notifier.failure-reported", "notifier.failure-classified"} {
				wantStatus(t, rep, id, conformance.Pass, "")
			}
			if rep.Failed() {
				t.Errorf("failed checks %q", failed(rep))
			}
		})
	}
	t.Run("unclaimed", func(t *testing.T) {
		rep := runSuite(t, conformance.InProcess(mailPlugin(mailOptions{})), conformance.Options{})
		// Without the claim the suite runs no SMTP server, so the
		// placeholders it gives cannot work.
		wantStatus(t, rep, "config.sample", conformance.Fail, `attribute "from": mail: missing '@'`)
		wantStatus(t, rep, "notifier.failure-reported", conformance.Skip, "the plugin does not claim delivers-to-url or delivers-smtp")
	})
	t.Run("claimed-not-kept", func(t *testing.T) {
		// It claims delivers-smtp and ignores the answer to the message.
		rep := runSuite(t, conformance.InProcess(mailPlugin(mailOptions{lax: true}, sdk.CapabilityDeliversSMTP)), conformance.Options{})
		wantStatus(t, rep, "notifier.failure-reported", conformance.Fail, "Notify succeeded while the receiver answered 451 (SMTP)")
		wantStatus(t, rep, "notifier.failure-reported", conformance.Fail, "Notify succeeded while the receiver answered 554 (SMTP)")
		if got := failed(rep); len(got) != 1 {
			t.Errorf("failed checks %q, want only notifier.failure-reported", got)
		}
	})
	t.Run("misclassified", func(t *testing.T) {
		rep := runSuite(t, conformance.InProcess(mailPlugin(mailOptions{retryAll: true}, sdk.CapabilityDeliversSMTP)), conformance.Options{})
		wantStatus(t, rep, "notifier.failure-classified", conformance.Fail, "a 554 (SMTP) answer was reported retryable")
		if rep.Failed() {
			t.Errorf("a SHOULD check failed the plugin: %q", failed(rep))
		}
	})
	t.Run("no-server-attributes", func(t *testing.T) {
		p := postPlugin(false, sdk.CapabilityDeliversSMTP)
		rep := runSuite(t, conformance.InProcess(p), conformance.Options{})
		wantStatus(t, rep, "notifier.failure-reported", conformance.Fail, "yet has neither a string attribute smarthost nor a string host")
	})
	t.Run("not-reached", func(t *testing.T) {
		// It claims delivers-smtp yet posts to its url.
		p := postPlugin(false, sdk.CapabilityDeliversSMTP)
		p.Schema = append(p.Schema, sdk.String("smarthost", "Unused.", sdk.Required))
		rep := runSuite(t, conformance.InProcess(p), conformance.Options{})
		wantStatus(t, rep, "notifier.failure-reported", conformance.Fail, "a notification did not reach the suite's SMTP server, where smarthost points")
	})
}

// TestClaimedAttributesWin checks that the config given does not move
// the attributes a claimed capability drives off the suite's receivers.
func TestClaimedAttributesWin(t *testing.T) {
	rep := runSuite(t, conformance.InProcess(postPlugin(false, sdk.CapabilityDeliversToURL)), conformance.Options{ConfigJSON: []byte(`{"url": "http://127.0.0.1:1/alerts"}`)})
	for _, id := range []string{"config.sample", "notifier.v4-payload", "notifier.failure-reported", "notifier.failure-classified"} {
		wantStatus(t, rep, id, conformance.Pass, "")
	}
}
