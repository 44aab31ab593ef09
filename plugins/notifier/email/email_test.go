package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// delivery is a message the test server accepted.
type delivery struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

// server is an SMTP server on 127.0.0.1 that records what it accepts.
type server struct {
	srv  *smtp.Server
	addr string

	mu         sync.Mutex
	user, pass string                     // AUTH PLAIN is offered when user is set
	fail       map[string]*smtp.SMTPError // by command: "mail", "rcpt", "data"
	deliveries []delivery
}

// newServer starts a server; with tlsConfig set it offers STARTTLS.
func newServer(t *testing.T, tlsConfig *tls.Config, user, pass string) *server {
	t.Helper()
	return startServer(t, tlsConfig, user, pass, false)
}

// startServer starts a server; with implicit, it speaks TLS from the
// first byte (SMTPS) instead of offering STARTTLS.
func startServer(t *testing.T, tlsConfig *tls.Config, user, pass string, implicit bool) *server {
	t.Helper()
	s := &server{user: user, pass: pass, fail: map[string]*smtp.SMTPError{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	s.srv.Domain = "127.0.0.1"
	s.srv.TLSConfig = tlsConfig
	s.srv.AllowInsecureAuth = tlsConfig == nil
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	if implicit {
		l = tls.NewListener(l, tlsConfig)
		s.srv.TLSConfig = nil // no STARTTLS inside TLS
		s.srv.AllowInsecureAuth = true
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = s.srv.Close()
		<-done
	})
	return s
}

func (s *server) failWith(command string, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = map[string]*smtp.SMTPError{}
	if command != "" {
		s.fail[command] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
	}
}

func (s *server) failure(command string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fail[command]; e != nil {
		return e
	}
	return nil
}

func (s *server) last(t *testing.T) delivery {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.deliveries) == 0 {
		t.Fatal("the server got no message")
	}
	return s.deliveries[len(s.deliveries)-1]
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.deliveries)
}

// session is one SMTP session of the server.
type session struct {
	s    *server
	c    *smtp.Conn
	user string
	d    delivery
}

// AuthMechanisms offers PLAIN when the server has a user.
func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials against the server's user.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.user || password != ss.s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ss.user = username
		return nil
	}), nil
}

// Mail starts a message, once the client has authenticated where it must.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && ss.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	if err := ss.s.failure("mail"); err != nil {
		return err
	}
	ss.d = delivery{from: from}
	return nil
}

// Rcpt adds a recipient.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.s.failure("rcpt"); err != nil {
		return err
	}
	ss.d.to = append(ss.d.to, to)
	return nil
}

// Data records the message.
func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.s.failure("data"); err != nil {
		return err
	}
	ss.d.data = data
	_, ss.d.tls = ss.c.TLSConnectionState()
	ss.d.user = ss.user
	ss.s.mu.Lock()
	ss.s.deliveries = append(ss.s.deliveries, ss.d)
	ss.s.mu.Unlock()
	return nil
}

// Reset drops the message in progress.
func (ss *session) Reset() { ss.d = delivery{} }

// Logout ends the session.
func (ss *session) Logout() error { return nil }

// selfSigned returns a server TLS config with a certificate for
// 127.0.0.1 that no one has signed.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func notification(status string) *sdk.Notification {
	alert := func(instance, status string) sdk.Alert {
		a := sdk.Alert{
			Status: status, StartsAt: start, GeneratorURL: "http://vigil:9090/graph?g0.expr=up",
			Labels:      map[string]string{"alertname": "InstanceDown", "instance": instance, "job": "node", "severity": "critical"},
			Annotations: map[string]string{"summary": instance + " is down", "description": "<b>no answer</b>"},
		}
		if status == "resolved" {
			a.EndsAt = start.Add(time.Minute)
		}
		return a
	}
	return &sdk.Notification{
		Version: "4", GroupKey: `{}:{alertname="InstanceDown"}`, Status: status, Receiver: "email",
		GroupLabels:  map[string]string{"alertname": "InstanceDown", "job": "node"},
		CommonLabels: map[string]string{"alertname": "InstanceDown", "job": "node"}, ExternalURL: "http://vigil:9090",
		Alerts: []sdk.Alert{alert("a:9100", status), alert("b:9100", "resolved")},
	}
}

// configure builds the plugin from a config given as JSON.
func configure(config map[string]any) (*email, error) {
	raw, _ := json.Marshal(config)
	values, err := emailPlugin.Schema.Parse(raw)
	if err != nil {
		return nil, err
	}
	return newEmail(values)
}

func mustConfigure(t *testing.T, config map[string]any) *email {
	t.Helper()
	e, err := configure(config)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// base is a valid config, to which tests add.
func base(addr string, more map[string]any) map[string]any {
	c := map[string]any{"smarthost": addr, "from": "Vigil <vigil@example.com>", "to": []string{"ops@example.com", "Jo Doe <jo@example.com>"}}
	for k, v := range more {
		c[k] = v
	}
	return c
}

// parsed is a received message, decoded.
type parsed struct {
	header     mail.Header
	subject    string
	text, html string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var p parsed
	p.header = m.Header
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=UTF-8":
			p.text = string(body)
		case "text/html; charset=UTF-8":
			p.html = string(body)
		default:
			t.Errorf("a part of type %q", ct)
		}
	}
	return p
}

func TestPlugin(t *testing.T) {
	if _, err := emailPlugin.Kind(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"smarthost", "from", "to"} {
		if a, _ := emailPlugin.Schema.Attribute(name); !a.Required {
			t.Errorf("%s is not required", name)
		}
	}
	if a, _ := emailPlugin.Schema.Attribute("auth_password"); !a.Sensitive {
		t.Error("auth_password is not sensitive")
	}
}

func TestConfigErrors(t *testing.T) {
	const addr = "smtp.example.com:587"
	for _, c := range []struct {
		config map[string]any
		attr   string
	}{
		{map[string]any{"from": "a@example.com", "to": []string{"b@example.com"}}, "smarthost"},
		{base("smtp.example.com", nil), "smarthost"},
		{base(":25", nil), "smarthost"},
		{base(addr, map[string]any{"from": "not an address"}), "from"},
		{base(addr, map[string]any{"to": []string{}}), "to"},
		{base(addr, map[string]any{"to": []string{"ops@example.com", "nobody"}}), "to"},
		{base(addr, map[string]any{"auth_password": "s3cret"}), "auth_password"},
		{base(addr, map[string]any{"hello": "my host"}), "hello"},
		{base(addr, map[string]any{"subject": "{{ .Status"}), "subject"},
		{base(addr, map[string]any{"subject": " "}), "subject"},
		{base(addr, map[string]any{"text": "{{ .NoSuchField }}"}), "text"},
		{base(addr, map[string]any{"html": "{{ nosuchfunc }}"}), "html"},
		{base(addr, map[string]any{"text": "", "html": ""}), "text"},
		{base(addr, map[string]any{"auth_username": "u", "auth_password": 5}), "auth_password"},
	} {
		_, err := configure(c.config)
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != c.attr || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%v: %v, want an error naming %q", c.config, err, c.attr)
		}
	}
	e := mustConfigure(t, base(addr, nil))
	if !e.requireTLS || e.insecureSkipVerify || e.hello != "localhost" || e.host != "smtp.example.com" || e.text == nil || e.html == nil {
		t.Errorf("defaults %+v", e)
	}
}

func TestMessage(t *testing.T) {
	e := mustConfigure(t, base("smtp.example.com:587", nil))
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	data, err := e.message(notification("firing"), now)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("the message has a bare LF")
	}
	p := parse(t, data)
	for name, want := range map[string]string{
		"From":           `"Vigil" <vigil@example.com>`,
		"To":             `<ops@example.com>, "Jo Doe" <jo@example.com>`,
		"Date":           "Wed, 04 Mar 2026 05:06:07 +0000",
		"Mime-Version":   "1.0",
		"Auto-Submitted": "auto-generated",
	} {
		if got := p.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if id := p.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-Id %q", id)
	}
	if p.subject != "[FIRING:1] InstanceDown node" {
		t.Errorf("subject %q", p.subject)
	}
	for _, want := range []string{
		"1 firing, 1 resolved.",
		"[FIRING] a:9100 is down\n<b>no answer</b>\nLabels: alertname=InstanceDown, instance=a:9100, job=node, severity=critical\nStarted: 2026-01-02 03:04:05 UTC\nSource: http://vigil:9090/graph?g0.expr=up\n",
		"[RESOLVED] b:9100 is down",
		"Ended: 2026-01-02 03:05:05 UTC",
		"Sent by Vigil, http://vigil:9090",
	} {
		if !strings.Contains(strings.ReplaceAll(p.text, "\r\n", "\n"), want) {
			t.Errorf("text lacks %q:\n%s", want, p.text)
		}
	}
	for _, want := range []string{
		"<strong>[FIRING] a:9100 is down</strong>",
		"<p>&lt;b&gt;no answer&lt;/b&gt;</p>",
		`<a href="http://vigil:9090/graph?g0.expr=up">Source</a>`,
		"<td>instance=b:9100</td>",
	} {
		if !strings.Contains(p.html, want) {
			t.Errorf("html lacks %q:\n%s", want, p.html)
		}
	}

	// Resolved; a subject with line breaks and non-ASCII text; no HTML.
	e = mustConfigure(t, base("smtp.example.com:587", map[string]any{
		"subject": "{{ .Status }}\n{{ .CommonLabels.alertname }} — {{ .CommonLabels.missing }}é\r\nBcc: x@example.com", "html": "",
	}))
	data, err = e.message(notification("resolved"), now)
	if err != nil {
		t.Fatal(err)
	}
	p = parse(t, data)
	if p.subject != "resolved InstanceDown — é Bcc: x@example.com" || p.header.Get("Bcc") != "" || p.html != "" || p.text == "" {
		t.Errorf("subject %q, Bcc %q, html %q", p.subject, p.header.Get("Bcc"), p.html)
	}

	// A long subject is cut, and its encoded words are folded.
	e = mustConfigure(t, base("smtp.example.com:587", map[string]any{"subject": strings.Repeat("é", 2000)}))
	data, err = e.message(notification("firing"), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("a line of %d bytes", len(line))
		}
	}
	if p = parse(t, data); p.subject != strings.Repeat("é", maxSubject-1)+"…" {
		t.Errorf("a long subject: %q", p.subject)
	}
}

func TestSend(t *testing.T) {
	s := newServer(t, selfSigned(t), "user", "s3cret")
	e := mustConfigure(t, base(s.addr, map[string]any{
		"auth_username": "user", "auth_password": "s3cret", "tls_insecure_skip_verify": true, "hello": "vigil.example.com",
	}))
	if err := e.Notify(context.Background(), notification("firing")); err != nil {
		t.Fatal(err)
	}
	d := s.last(t)
	if d.from != "vigil@example.com" || strings.Join(d.to, " ") != "ops@example.com jo@example.com" || !d.tls || d.user != "user" {
		t.Errorf("delivery from %q to %q, tls %v, user %q", d.from, d.to, d.tls, d.user)
	}
	if p := parse(t, d.data); p.subject != "[FIRING:1] InstanceDown node" || !strings.Contains(p.text, "a:9100 is down") || !strings.Contains(p.html, "a:9100 is down") {
		t.Errorf("message %q", d.data)
	}

	// A wrong password: the server's 535 is permanent.
	e = mustConfigure(t, base(s.addr, map[string]any{"auth_username": "user", "auth_password": "wrong", "tls_insecure_skip_verify": true}))
	err := e.Notify(context.Background(), notification("firing"))
	if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("a wrong password: %v", err)
	}

	// The certificate is checked unless told not to.
	e = mustConfigure(t, base(s.addr, map[string]any{"auth_username": "user", "auth_password": "s3cret"}))
	err = e.Notify(context.Background(), notification("firing"))
	var cve *tls.CertificateVerificationError
	if err == nil || !errors.As(err, &cve) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("a self-signed certificate: %v", err)
	}
	if s.count() != 1 {
		t.Errorf("%d messages delivered, want 1", s.count())
	}
}

// TestImplicitTLS sends through a server that speaks TLS from the
// first byte, as SMTPS on port 465 does: with implicit_tls the message is
// sent encrypted; without it the plugin, waiting for a greeting in
// plain text, fails.
func TestImplicitTLS(t *testing.T) {
	s := startServer(t, selfSigned(t), "user", "s3cret", true)
	e := mustConfigure(t, base(s.addr, map[string]any{
		"implicit_tls": true, "auth_username": "user", "auth_password": "s3cret", "tls_insecure_skip_verify": true,
	}))
	if err := e.Notify(context.Background(), notification("firing")); err != nil {
		t.Fatal(err)
	}
	if d := s.last(t); !d.tls || d.user != "user" {
		t.Errorf("delivery %+v", d)
	}
	// Without it, the plugin waits for a plain greeting that never comes.
	e = mustConfigure(t, base(s.addr, map[string]any{"tls_insecure_skip_verify": true}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.Notify(ctx, notification("firing")); err == nil {
		t.Error("a plain-text session with an SMTPS server succeeded")
	}
	// Port 465 turns it on by itself.
	if e := mustConfigure(t, base("smtp.example.com:465", nil)); !e.implicitTLS {
		t.Error("implicit TLS is off on port 465")
	}
}

func TestRequireTLS(t *testing.T) {
	s := newServer(t, nil, "", "")
	e := mustConfigure(t, base(s.addr, nil))
	err := e.Notify(context.Background(), notification("firing"))
	if err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("a server without STARTTLS: %v, want a permanent error", err)
	}
	e = mustConfigure(t, base(s.addr, map[string]any{"require_tls": false}))
	if err := e.Notify(context.Background(), notification("firing")); err != nil {
		t.Fatal(err)
	}
	if d := s.last(t); d.tls || d.user != "" {
		t.Errorf("delivery %+v", d)
	}

	// AUTH without TLS, to the local host only, as net/smtp allows.
	s = newServer(t, nil, "user", "pass")
	e = mustConfigure(t, base(s.addr, map[string]any{"require_tls": false, "auth_username": "user", "auth_password": "pass"}))
	if err := e.Notify(context.Background(), notification("firing")); err != nil {
		t.Fatal(err)
	}
	if d := s.last(t); d.user != "user" {
		t.Errorf("delivery %+v", d)
	}

	// A server without AUTH, when the config authenticates.
	s = newServer(t, nil, "", "")
	e = mustConfigure(t, base(s.addr, map[string]any{"require_tls": false, "auth_username": "user", "auth_password": "pass"}))
	if err := e.Notify(context.Background(), notification("firing")); err == nil || !sdk.IsPermanent(err) || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("a server without AUTH: %v", err)
	}
}

func TestErrors(t *testing.T) {
	s := newServer(t, selfSigned(t), "", "")
	e := mustConfigure(t, base(s.addr, map[string]any{"tls_insecure_skip_verify": true}))
	for _, c := range []struct {
		command   string
		code      int
		permanent bool
	}{
		{"mail", 451, false},
		{"mail", 421, false},
		{"mail", 553, true},
		{"rcpt", 450, false},
		{"rcpt", 550, true},
		{"data", 452, false},
		{"data", 552, true},
		{"data", 554, true},
	} {
		s.failWith(c.command, c.code, "refused for a test")
		err := e.Notify(context.Background(), notification("firing"))
		if err == nil || sdk.IsPermanent(err) != c.permanent || !strings.Contains(err.Error(), "refused for a test") {
			t.Errorf("%s answered %d: %v (permanent %v), want permanent %v", c.command, c.code, err, sdk.IsPermanent(err), c.permanent)
		}
	}
	s.failWith("", 0, "")
	if err := e.Notify(context.Background(), notification("firing")); err != nil {
		t.Errorf("after the failures: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e := mustConfigure(t, base(addr, nil))
	if err := e.Notify(context.Background(), notification("firing")); err == nil || sdk.IsPermanent(err) {
		t.Errorf("a refused connection: %v, want a retryable error", err)
	}
}

func TestTimeout(t *testing.T) {
	// A server that accepts and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	e := mustConfigure(t, base(l.Addr().String(), nil))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	err = e.Notify(ctx, notification("firing"))
	if err == nil || sdk.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a silent server: %v, want a retryable deadline error", err)
	}
	if elapsed := time.Since(began); elapsed > 5*time.Second {
		t.Errorf("Notify took %s with a deadline of 200ms", elapsed)
	}
}
