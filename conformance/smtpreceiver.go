package conformance

import (
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpReceiver is the suite's loopback SMTP server, on 127.0.0.1 only,
// for a notifier that claims delivers-smtp. It speaks plain SMTP (no
// STARTTLS, no SMTPS), offers AUTH PLAIN and takes any credentials, and
// accepts every sender and recipient. It reads every message to its end
// and answers it with 250, or with the reply a check sets (451, 554).
type smtpReceiver struct {
	// Addr is the server's "127.0.0.1:port".
	Addr string
	srv  *smtp.Server
	done chan struct{}

	// reply is the answer to the next messages; nil accepts them.
	reply atomic.Pointer[smtp.SMTPError]
	// messages counts the messages read to their end, accepted or not.
	messages  atomic.Int64
	closeOnce sync.Once
}

// The answers the failure checks make the SMTP receiver give: a
// temporary failure and a permanent one (RFC 5321, 4yz and 5yz).
var (
	smtpUnavailable = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure of the conformance suite's receiver, try again later"}
	smtpRejected    = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "The conformance suite's receiver refuses this message"}
)

func newSMTPReceiver() (*smtpReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot start the loopback SMTP receiver: %w", err)
	}
	r := &smtpReceiver{Addr: ln.Addr().String(), done: make(chan struct{})}
	r.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{r: r}, nil }))
	r.srv.Domain = "127.0.0.1"
	// AUTH without TLS, as 127.0.0.1 is the only address it listens on.
	r.srv.AllowInsecureAuth = true
	r.srv.ReadTimeout = 10 * time.Second
	r.srv.WriteTimeout = 10 * time.Second
	r.srv.MaxMessageBytes = 16 << 20
	r.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		defer close(r.done)
		r.srv.Serve(ln)
	}()
	return r, nil
}

// close stops the server, ending the sessions in progress.
func (r *smtpReceiver) close() {
	r.closeOnce.Do(func() {
		r.srv.Close()
		<-r.done
	})
}

// smtpSession is one SMTP session of the receiver.
type smtpSession struct{ r *smtpReceiver }

// AuthMechanisms offers AUTH PLAIN.
func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth takes any credentials.
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

// Mail accepts any sender.
func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt accepts any recipient.
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

// Data reads the message to its end, then answers as the receiver is
// set to.
func (s *smtpSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("cannot read the message: %w", err)
	}
	s.r.messages.Add(1)
	if reply := s.r.reply.Load(); reply != nil {
		return reply
	}
	return nil
}

// Reset drops nothing: the session keeps no message.
func (s *smtpSession) Reset() {}

// Logout ends the session.
func (s *smtpSession) Logout() error { return nil }

var _ smtp.AuthSession = (*smtpSession)(nil)
