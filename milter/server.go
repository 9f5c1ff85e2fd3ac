package milter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	gomilter "github.com/emersion/go-milter"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/trust"
)

// Options configure a Server. The zero value works: a default Evaluator,
// every message accepted.
type Options struct {
	// Evaluator judges every message; share one (and its caches) across
	// the server. Nil means one with Receiver alone configured.
	Evaluator *trust.Evaluator
	// Policy decides the reply; the zero Policy accepts every message.
	Policy inbound.Policy
	// Receiver names the receiver's own hosts, never judged as the
	// sender: a client whose address (Receiver.HasIP) or verified host
	// name (Receiver.HasName) is one of them is passed to the Evaluator
	// with its IP and HELO unknown, and the Evaluator reads the first
	// outside hop from the trace. Give the Evaluator the same Receiver
	// (trust.Options.Receiver); without it that hop stays unknown. The
	// zero value names none: every client is judged as itself.
	Receiver received.Receiver
	// MaxConcurrent bounds the evaluations running at once; a message
	// beyond it waits, and so does the MTA. Default 4 × GOMAXPROCS.
	MaxConcurrent int
	// MessageTimeout bounds one message from MAIL FROM to the end of its
	// data; a message the MTA never finishes is given up then (one whose
	// connection closes, at once). Default 10 minutes, above Postfix's
	// milter_content_timeout of 300 s.
	MessageTimeout time.Duration
	// Now is the clock that dates each message's receipt, against which
	// signatures are judged. Nil means time.Now.
	Now func() time.Time
	// Logger receives one record per message (queue id, client, level,
	// score, top reasons, action). Nil discards.
	Logger *slog.Logger
}

// Server is a milter server. Its methods are safe for concurrent use.
type Server struct {
	ev     *trust.Evaluator
	opts   Options
	log    *slog.Logger
	sem    chan struct{}
	base   context.Context
	stop   context.CancelFunc
	mu     sync.Mutex
	conns  map[net.Conn]bool
	lns    []net.Listener
	closed bool
	flight sync.WaitGroup
}

// NewServer returns a server configured by opts (nil means the zero
// Options).
func NewServer(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Evaluator == nil {
		o.Evaluator = trust.New(&trust.Options{Receiver: o.Receiver})
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 4 * runtime.GOMAXPROCS(0)
	}
	if o.MessageTimeout <= 0 {
		o.MessageTimeout = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, stop := context.WithCancel(context.Background())
	return &Server{
		ev: o.Evaluator, opts: o, log: log,
		sem:  make(chan struct{}, o.MaxConcurrent),
		base: base, stop: stop,
		conns: map[net.Conn]bool{},
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("milter: server closed")

// Serve accepts MTA connections on ln until Shutdown, and returns
// ErrServerClosed then.
func (s *Server) Serve(ln net.Listener) error {
	l := &listener{Listener: ln, s: s}
	srv := &gomilter.Server{
		NewMilter: l.newSession,
		Actions:   gomilter.OptAddHeader | gomilter.OptChangeHeader,
		// The header as received: the space after the colon kept.
		Protocol: gomilter.OptHeaderLeadingSpace | gomilter.OptNoUnknown,
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	// Shutdown closes ln itself: go-milter's Close flags the server
	// without synchronization.
	err := srv.Serve(l)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	return fmt.Errorf("milter: %w", err)
}

// Shutdown stops accepting connections and waits until the messages in
// flight are answered, or ctx ends; then it closes every MTA connection
// and cancels what still runs. A message the MTA had not finished when its
// connection closes is answered by the MTA's own default (Postfix:
// milter_default_action).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	lns := s.lns
	s.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	done := make(chan struct{})
	go func() { s.flight.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("milter: shutdown: %w", ctx.Err())
	}
	s.stop()
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return err
}

// listener tracks the connections it accepts, so that Shutdown can close
// them, and gives each its session.
type listener struct {
	net.Listener
	s    *Server
	mu   sync.Mutex
	next *session // the session of the connection Accept returned last
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &conn{Conn: c, s: l.s, sess: &session{s: l.s}}
	l.s.mu.Lock()
	closed := l.s.closed
	if !closed {
		l.s.conns[tc] = true
	}
	l.s.mu.Unlock()
	if closed {
		c.Close()
		return nil, net.ErrClosed
	}
	l.mu.Lock()
	l.next = tc.sess
	l.mu.Unlock()
	return tc, nil
}

// newSession gives go-milter the session of the connection just accepted:
// its Serve calls NewMilter right after Accept, in the same goroutine. It
// calls NewMilter again on a connection only after an answer that ends
// the filtering of a message (accept, reject, discard, tempfail); a
// session gives none of those (continue, or a reply code), so the session
// a connection starts with stays its only one.
func (l *listener) newSession() gomilter.Milter {
	l.mu.Lock()
	defer l.mu.Unlock()
	sess := l.next
	l.next = nil
	if sess == nil { // not reached, see above; a session all the same
		sess = &session{s: l.s}
	}
	return sess
}

// conn is one MTA connection.
type conn struct {
	net.Conn
	s    *Server
	sess *session
	once sync.Once
}

// Close closes the connection and gives up the message in progress.
// go-milter calls no hook when the MTA's connection ends (EOF, a read
// error) but closes it, and Shutdown closes what is left: without this the
// message would stay in flight, and its evaluation hold a slot, until
// MessageTimeout.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		c.sess.drop()
	})
	return err
}

// Listen opens the socket a milter address names, in the notation of
// Postfix and Sendmail: "inet:HOST:PORT" (also "inet6:"), "unix:PATH" (or
// "local:PATH"), or a bare "HOST:PORT". A stale unix socket at PATH is
// replaced.
func Listen(addr string) (net.Listener, error) {
	kind, rest, ok := strings.Cut(addr, ":")
	if !ok {
		return nil, fmt.Errorf("milter: listen address %q: want inet:HOST:PORT or unix:PATH", addr)
	}
	switch kind {
	case "inet", "inet6", "tcp":
		return net.Listen("tcp", rest)
	case "unix", "local":
		if fi, err := os.Lstat(rest); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(rest)
		}
		return net.Listen("unix", rest)
	}
	return net.Listen("tcp", addr) // HOST:PORT
}

// begin counts a message in flight, unless Shutdown has begun: under
// the lock that Shutdown sets closed with, so that no message is counted
// after Shutdown starts waiting.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.flight.Add(1)
	return true
}

// acquire takes an evaluation slot, or fails when ctx (the message's: it
// ends with the server) ends first.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) release() { <-s.sem }
