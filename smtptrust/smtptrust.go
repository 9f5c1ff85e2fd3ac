// Package smtptrust puts mailtrust in front of the delivery code of a Go
// SMTP server built on github.com/emersion/go-smtp. New wraps the
// server's Backend: each message is judged while it is read, the
// inbound.Policy answers for it (550 5.7.1, 451 4.7.0, or on to the
// wrapped session), and the wrapped session receives the message with the
// verdict's Authentication-Results and X-Mailtrust-Verdict fields on top
// and every forgery of them removed (RFC 8601 §5) — through Data, or,
// when it implements Deliverer, with the verdict itself.
//
// The session facts come from the connection: the client's address, the
// HELO/EHLO name, MAIL FROM, every RCPT TO, and whether the client
// authenticated with SMTP AUTH (when the wrapped session offers it). A
// client among the receiver's own hosts (Options.Receiver) is not judged
// as the sender: its address and HELO are left unknown, and the
// Evaluator, configured with the same Receiver (trust.Options.Receiver),
// reads the first outside hop from the Received field that the outermost
// of the receiver's hosts wrote (RFC 5321 §4.4); MAIL FROM, RCPT TO and
// the time stay the session's.
//
// The message is held once while it is evaluated: its first
// Options.MaxMemory octets in memory, the rest in a temporary file; bound
// it with smtp.Server.MaxMessageBytes. The package delivers nothing
// itself.
package smtptrust

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/trust"
)

// Options configure the adapter. The zero value works: a default
// Evaluator, every message passed on.
type Options struct {
	// Evaluator judges every message; share one across the server. Nil
	// means one with Receiver alone configured.
	Evaluator *trust.Evaluator
	// Policy decides the reply; the zero Policy accepts every message.
	Policy inbound.Policy
	// Receiver names the receiver's own hosts, never judged as the
	// sender: a client whose address is one of them (Receiver.HasIP) is
	// passed to the Evaluator with its IP and HELO unknown, for the
	// Evaluator to read the first outside hop from the trace. Give the
	// Evaluator the same Receiver (trust.Options.Receiver); without it
	// that hop stays unknown. The zero value names none: every client is
	// judged as itself.
	Receiver received.Receiver
	// Now dates each message's receipt. Nil means time.Now.
	Now func() time.Time
	// Logger receives one record per message. Nil discards.
	Logger *slog.Logger
	// MaxMemory is how much of a message is held in memory while it is
	// judged; the rest goes to a temporary file in SpoolDir (default
	// os.TempDir()), removed once the message is answered. Default
	// DefaultMaxMemory.
	MaxMemory int
	// SpoolDir is where messages beyond MaxMemory are spooled.
	SpoolDir string
}

// Deliverer is implemented by a session of the wrapped backend that wants
// the verdict with the message. Deliver is called instead of Data, with
// the message as Data would get it (the verdict's fields on top); r must
// be consumed before Deliver returns. Its error is the SMTP reply, as
// Data's is.
type Deliverer interface {
	Deliver(v *trust.Verdict, r io.Reader) error
}

// Backend is an smtp.Backend that judges every message before its
// wrapped Backend's sessions see it.
type Backend struct {
	next smtp.Backend
	opts Options
	log  *slog.Logger
}

// New wraps next; opts nil means the zero Options.
func New(next smtp.Backend, opts *Options) *Backend {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Evaluator == nil {
		o.Evaluator = trust.New(&trust.Options{Receiver: o.Receiver})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxMemory <= 0 {
		o.MaxMemory = DefaultMaxMemory
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Backend{next: next, opts: o, log: log}
}

// NewSession opens a session of the wrapped backend and wraps it. A
// wrapped session that offers SMTP AUTH (smtp.AuthSession) keeps offering
// it, and a client that authenticates is judged as the receiver's own
// connector (trust.Conn.Authenticated).
func (b *Backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	next, err := b.next.NewSession(c)
	if err != nil {
		return nil, err
	}
	s := &session{b: b, c: c, next: next}
	if a, ok := next.(smtp.AuthSession); ok {
		return &authSession{session: s, auth: a}, nil
	}
	return s, nil
}

type session struct {
	b      *Backend
	c      *smtp.Conn
	next   smtp.Session
	authed bool
	from   string
	rcpt   []string
}

func (s *session) Reset() {
	s.from, s.rcpt = "", nil
	s.next.Reset()
}

func (s *session) Logout() error { return s.next.Logout() }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if err := s.next.Mail(from, opts); err != nil {
		return err
	}
	s.from, s.rcpt = from, nil
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if err := s.next.Rcpt(to, opts); err != nil {
		return err
	}
	s.rcpt = append(s.rcpt, to)
	return nil
}

// Data judges the message while reading it, answers as the policy says,
// and passes an accepted message on.
func (s *session) Data(r io.Reader) error {
	conn := trust.Conn{
		IP: remoteIP(s.c.Conn()), HELO: s.c.Hostname(), MailFrom: s.from,
		RcptTo: s.rcpt, Time: s.b.opts.Now(), Authenticated: s.authed,
	}
	buf := &spool{max: s.b.opts.MaxMemory, dir: s.b.opts.SpoolDir}
	defer buf.close()
	if s.b.opts.Receiver.HasIP(conn.IP) {
		// One of the receiver's own hosts handed the message on: its
		// address and HELO are no fact about the sender, and the
		// Evaluator reads the first outside hop from the trace.
		conn.IP, conn.HELO = netip.Addr{}, ""
	}
	msg := io.TeeReader(r, buf)
	v, err := s.b.opts.Evaluator.Evaluate(context.Background(), conn, msg)
	if err != nil {
		return err // the client's data could not be read, or not spooled
	}
	// Evaluate may stop reading early (a limit): the rest is kept too.
	if _, err := io.Copy(buf, r); err != nil {
		return err
	}
	reply := s.b.opts.Policy.Decide(v)
	conn = v.Conn // with the facts read from the trace
	s.b.log.Info("verdict", "client", conn.IP.String(), "helo", conn.HELO, "mail_from", conn.MailFrom,
		"level", string(v.Level), "score", v.Score, "incomplete", v.Incomplete,
		"reasons", strings.Join(inbound.Codes(v, inbound.TopReasons, false), ","), "action", reply.Action.String())
	if reply.Action != inbound.Accept {
		return SMTPError(reply)
	}
	held, err := buf.reader()
	if err != nil {
		return err
	}
	out := inbound.Prepend(v, held)
	if d, ok := s.next.(Deliverer); ok {
		return d.Deliver(v, out)
	}
	return s.next.Data(out)
}

// SMTPError is the go-smtp error that writes reply.
func SMTPError(reply inbound.Reply) *smtp.SMTPError {
	var ec smtp.EnhancedCode
	for i, p := range strings.SplitN(reply.Enhanced, ".", 3) {
		for _, c := range p {
			ec[i] = ec[i]*10 + int(c-'0')
		}
	}
	return &smtp.SMTPError{Code: reply.Code, EnhancedCode: ec, Message: reply.Text}
}

func remoteIP(c net.Conn) netip.Addr {
	if c == nil {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// authSession is a session whose wrapped session offers SMTP AUTH.
type authSession struct {
	*session
	auth smtp.AuthSession
}

func (s *authSession) AuthMechanisms() []string { return s.auth.AuthMechanisms() }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	srv, err := s.auth.Auth(mech)
	if err != nil {
		return nil, err
	}
	return &watchedAuth{Server: srv, done: func() { s.authed = true }}, nil
}

// watchedAuth notes a SASL exchange that ends in success.
type watchedAuth struct {
	sasl.Server
	done func()
}

func (w *watchedAuth) Next(response []byte) ([]byte, bool, error) {
	challenge, done, err := w.Server.Next(response)
	if done && err == nil {
		w.done()
	}
	return challenge, done, err
}
