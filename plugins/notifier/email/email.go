package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/vigilmon/vigil/sdk"
)

const (
	// defaultTimeout bounds a delivery whose context has no deadline.
	defaultTimeout = time.Minute
	// maxSubject is the most characters a subject keeps.
	maxSubject = 998
)

// The default templates. The subject reads "[FIRING:2] InstanceDown node".
const (
	defaultSubject = `[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ len (firing .Alerts) }}{{ end }}] {{ join " " (sortedValues .GroupLabels) }}`
	defaultText    = `{{ len (firing .Alerts) }} firing, {{ len (resolved .Alerts) }} resolved` +
		`{{ with .TruncatedAlerts }}, {{ . }} more not shown{{ end }}.
{{ range .Alerts }}
[{{ .Status | toUpper }}] {{ with .Annotations.summary }}{{ . }}{{ else }}{{ .Labels.alertname }}{{ end }}
{{ with .Annotations.description }}{{ . }}
{{ end }}Labels: {{ join ", " (sortedPairs .Labels) }}
Started: {{ .StartsAt.UTC.Format "2006-01-02 15:04:05 MST" }}
{{ if eq .Status "resolved" }}Ended: {{ .EndsAt.UTC.Format "2006-01-02 15:04:05 MST" }}
{{ end }}{{ with .GeneratorURL }}Source: {{ . }}
{{ end }}{{ end }}{{ with .ExternalURL }}
Sent by Vigil, {{ . }}
{{ end }}`
	defaultHTML = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{{ .Status | toUpper }}</title></head>
<body style="font-family: sans-serif">
<p>{{ len (firing .Alerts) }} firing, {{ len (resolved .Alerts) }} resolved{{ with .TruncatedAlerts }}, {{ . }} more not shown{{ end }}.</p>
{{ range .Alerts }}
<div style="border-left: 4px solid {{ if eq .Status "firing" }}#d0021b{{ else }}#2e7d32{{ end }}; padding-left: 8px; margin-bottom: 12px">
<p><strong>[{{ .Status | toUpper }}] {{ with .Annotations.summary }}{{ . }}{{ else }}{{ .Labels.alertname }}{{ end }}</strong></p>
{{ with .Annotations.description }}<p>{{ . }}</p>{{ end }}
<table>
{{ range $pair := sortedPairs .Labels }}<tr><td>{{ $pair }}</td></tr>
{{ end }}</table>
<p>Started: {{ .StartsAt.UTC.Format "2006-01-02 15:04:05 MST" }}{{ if eq .Status "resolved" }}, ended: {{ .EndsAt.UTC.Format "2006-01-02 15:04:05 MST" }}{{ end }}
{{ with .GeneratorURL }}<br><a href="{{ . }}">Source</a>{{ end }}</p>
</div>
{{ end }}
{{ with .ExternalURL }}<p style="color: #777">Sent by <a href="{{ . }}">Vigil</a></p>{{ end }}
</body>
</html>
`
)

var emailPlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:        "email",
		Version:     "0.1.0",
		Description: "Sends notifications as email through an SMTP server.",
		// smarthost names the server; 4xx answers are retryable, 5xx
		// permanent (see classify).
		Capabilities: []string{sdk.CapabilityDeliversSMTP},
	},
	Schema: sdk.Schema{
		sdk.String("smarthost", "The SMTP server, \"host:port\".", sdk.Required),
		sdk.String("from", "The sender's address, \"Vigil <vigil@example.com>\" or \"vigil@example.com\".", sdk.Required),
		sdk.StringList("to", "The recipients' addresses.", sdk.Required),
		sdk.String("auth_username", "The user name to authenticate with (SMTP AUTH PLAIN); none authenticates no one."),
		sdk.String("auth_password", "The password to authenticate with.", sdk.Sensitive),
		sdk.Bool("require_tls", "Whether the server must offer STARTTLS; the connection is always upgraded when it does.", sdk.Default(true)),
		sdk.Bool("implicit_tls", "Whether to speak TLS from the first byte (SMTPS) instead of upgrading with STARTTLS; a smarthost on port 465 always does.", sdk.Default(false)),
		sdk.Bool("tls_insecure_skip_verify", "Whether to accept any certificate of the server. Only for tests.", sdk.Default(false)),
		sdk.String("hello", "The name the plugin gives in EHLO.", sdk.Default("localhost")),
		sdk.String("subject", "A Go text/template over the notification: the subject.", sdk.Default(defaultSubject)),
		sdk.String("text", "A Go text/template over the notification: the plain text body; empty for none.", sdk.Default(defaultText)),
		sdk.String("html", "A Go html/template over the notification: the HTML body; empty for none.", sdk.Default(defaultHTML)),
	},
	Notifier: func(cfg sdk.Config) (sdk.Notifier, error) { return newEmail(cfg) },
}

// funcs are the functions the templates may call, besides the template
// language's own: the SDK's notification template functions.
var funcs = sdk.TemplateFuncs()

// executor is a parsed text/template or html/template.
type executor interface {
	Execute(w io.Writer, data any) error
}

// email sends notifications through one SMTP server.
type email struct {
	addr, host         string
	from               *mail.Address
	to                 []*mail.Address
	username, password string
	requireTLS         bool
	implicitTLS        bool
	insecureSkipVerify bool
	hello              string
	subject            executor
	text, html         executor // nil for none
}

func newEmail(cfg sdk.Config) (*email, error) {
	e := &email{
		addr:               strings.TrimSpace(cfg.String("smarthost")),
		username:           cfg.String("auth_username"),
		password:           cfg.String("auth_password"),
		requireTLS:         cfg.Bool("require_tls"),
		implicitTLS:        cfg.Bool("implicit_tls"),
		insecureSkipVerify: cfg.Bool("tls_insecure_skip_verify"),
		hello:              strings.TrimSpace(cfg.String("hello")),
	}
	host, port, err := net.SplitHostPort(e.addr)
	if err != nil || host == "" || port == "" {
		return nil, sdk.AttributeErrorf("smarthost", "must be \"host:port\", not %q", e.addr)
	}
	e.host = host
	if port == "465" {
		e.implicitTLS = true // SMTPS, as Alertmanager does on this port
	}
	if e.from, err = mail.ParseAddress(cfg.String("from")); err != nil {
		return nil, sdk.AttributeErrorf("from", "is not an email address: %v", err)
	}
	if len(cfg.StringList("to")) == 0 {
		return nil, sdk.AttributeErrorf("to", "must name at least one address")
	}
	for _, s := range cfg.StringList("to") {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, sdk.AttributeErrorf("to", "%q is not an email address: %v", s, err)
		}
		e.to = append(e.to, a)
	}
	if e.password != "" && e.username == "" {
		return nil, sdk.AttributeErrorf("auth_password", "is set without auth_username")
	}
	if e.hello == "" || strings.ContainsAny(e.hello, " \t\r\n") {
		return nil, sdk.AttributeErrorf("hello", "must be a host name, not %q", e.hello)
	}

	if e.subject, err = parseTemplate(cfg, "subject", false); err != nil {
		return nil, err
	}
	if e.text, err = parseTemplate(cfg, "text", false); err != nil {
		return nil, err
	}
	if e.html, err = parseTemplate(cfg, "html", true); err != nil {
		return nil, err
	}
	if e.text == nil && e.html == nil {
		return nil, sdk.AttributeErrorf("text", "and html are both empty: the email would have no body")
	}
	return e, nil
}

// parseTemplate parses the template of attribute name, and tries it on a
// typical notification: one that fails there would fail on every one. It
// returns nil for an empty template.
func parseTemplate(cfg sdk.Config, name string, html bool) (executor, error) {
	src := cfg.String(name)
	if strings.TrimSpace(src) == "" {
		if name == "subject" {
			return nil, sdk.AttributeErrorf(name, "is empty")
		}
		return nil, nil
	}
	var (
		t   executor
		err error
	)
	if html {
		t, err = htmltemplate.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src)
	} else {
		t, err = template.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src)
	}
	if err != nil {
		return nil, sdk.AttributeErrorf(name, "is not a valid template: %v", err)
	}
	if err := t.Execute(io.Discard, sample()); err != nil {
		return nil, sdk.AttributeErrorf(name, "fails: %v", err)
	}
	return t, nil
}

// sample is a notification to try templates on.
func sample() *sdk.Notification {
	labels := map[string]string{"alertname": "InstanceDown", "instance": "host:9100", "job": "node", "severity": "critical"}
	annotations := map[string]string{"summary": "host:9100 is down", "description": "It has not answered for 5 minutes."}
	return &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="InstanceDown"}`, Status: "firing", Receiver: "email",
		GroupLabels: map[string]string{"alertname": "InstanceDown"}, CommonLabels: labels, CommonAnnotations: annotations,
		ExternalURL: "http://vigil.example.com:9090",
		Alerts: []sdk.Alert{{
			Status: "firing", Labels: labels, Annotations: annotations, StartsAt: time.Unix(0, 0).UTC(),
			GeneratorURL: "http://vigil.example.com:9090/graph", Fingerprint: "0123456789abcdef",
		}},
	}
}

// message renders n as an email, headers and body, with CRLF line ends.
func (e *email) message(n *sdk.Notification, now time.Time) ([]byte, error) {
	render := func(t executor) (string, error) {
		var b strings.Builder
		if err := t.Execute(&b, n); err != nil {
			return "", err
		}
		return b.String(), nil
	}
	subject, err := render(e.subject)
	if err != nil {
		return nil, fmt.Errorf("the subject template fails: %w", err)
	}
	subject = strings.Join(strings.Fields(subject), " ")
	if utf8.RuneCountInString(subject) > maxSubject {
		subject = string([]rune(subject)[:maxSubject-1]) + "…"
	}

	var b bytes.Buffer
	to := make([]string, len(e.to))
	for i, a := range e.to {
		to[i] = a.String()
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	domain := e.hello
	if at := strings.LastIndexByte(e.from.Address, '@'); at >= 0 {
		domain = e.from.Address[at+1:]
	}
	fmt.Fprintf(&b, "From: %s\r\n", e.from)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ", "))
	// Encoded words are folded onto lines of their own, to keep lines
	// short.
	fmt.Fprintf(&b, "Subject: %s\r\n", strings.ReplaceAll(mime.QEncoding.Encode("utf-8", subject), "?= =?", "?=\r\n =?"))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-Id: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	b.WriteString("X-Mailer: Vigil\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")

	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", mw.Boundary())
	// Plain text first: a mail reader shows the last part it can.
	for _, part := range []struct {
		t           executor
		name, ctype string
	}{{e.text, "text", "text/plain"}, {e.html, "html", "text/html"}} {
		if part.t == nil {
			continue
		}
		body, err := render(part.t)
		if err != nil {
			return nil, fmt.Errorf("the %s template fails: %w", part.name, err)
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("cannot write the %s part: %w", part.name, err)
		}
		qw := quotedprintable.NewWriter(w)
		if _, err := io.WriteString(qw, body); err != nil {
			return nil, fmt.Errorf("cannot write the %s part: %w", part.name, err)
		}
		if err := qw.Close(); err != nil {
			return nil, fmt.Errorf("cannot write the %s part: %w", part.name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("cannot end the message: %w", err)
	}
	return b.Bytes(), nil
}

// Notify implements sdk.Notifier: it sends the notification as one email
// to every recipient. Network failures and 4xx answers of the server are
// retryable; 5xx answers, and a server without STARTTLS or AUTH PLAIN
// where the config needs them, are permanent.
func (e *email) Notify(ctx context.Context, n *sdk.Notification) error {
	msg, err := e.message(n, time.Now())
	if err != nil {
		return sdk.Permanent(err)
	}
	if err := e.send(ctx, msg); err != nil {
		switch {
		case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		case errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded):
			// The connection's deadline is the context's.
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		return classify(err)
	}
	return nil
}

// classify marks err permanent when it is an SMTP answer of 5xx, or
// already permanent, and leaves it retryable otherwise.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && !sdk.IsPermanent(err) {
		return sdk.Permanent(err)
	}
	return err
}

// send delivers msg through one SMTP session.
func (e *email) send(ctx context.Context, msg []byte) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return fmt.Errorf("cannot connect to the SMTP server: %w", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("cannot set the connection's deadline: %w", err)
	}
	// Cancelling ctx ends any exchange in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tc := &tls.Config{ServerName: e.host, InsecureSkipVerify: e.insecureSkipVerify, MinVersion: tls.VersionTLS12}
	if e.implicitTLS {
		tlsConn := tls.Client(conn, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake with the SMTP server: %w", err)
		}
		conn = tlsConn
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return fmt.Errorf("the SMTP server's greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(e.hello); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	switch starttls, _ := c.Extension("STARTTLS"); {
	case e.implicitTLS: // encrypted from the start
	case starttls:
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	case e.requireTLS:
		return sdk.Permanent(fmt.Errorf("the SMTP server %s does not offer STARTTLS, and require_tls is true", e.addr))
	}
	if e.username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok || !slices.Contains(strings.Fields(strings.ToUpper(mechs)), "PLAIN") {
			return sdk.Permanent(fmt.Errorf("the SMTP server %s does not offer AUTH PLAIN, and auth_username is set", e.addr))
		}
		if err := c.Auth(smtp.PlainAuth("", e.username, e.password, e.host)); err != nil {
			var te *textproto.Error
			if !errors.As(err, &te) {
				// net/smtp's own refusal, such as to send a password
				// unencrypted to another host: a config error.
				return sdk.Permanent(fmt.Errorf("AUTH: %w", err))
			}
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, a := range e.to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("RCPT TO <%s>: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("cannot send the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("the message: %w", err)
	}
	// The message was accepted; a failed goodbye does not undo it.
	_ = c.Quit()
	return nil
}
