package milter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"sync"

	gomilter "github.com/emersion/go-milter"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/trust"
)

// session is one MTA connection: its facts survive from message to
// message, msg is the message in progress. go-milter calls its methods
// from the connection's goroutine, one at a time; drop alone comes from
// elsewhere too (Shutdown).
type session struct {
	s     *Server
	ip    netip.Addr
	host  string // the client's host name as the MTA verified it
	helo  string
	queue string
	mu    sync.Mutex // held to set msg, and by drop to read it
	msg   *message
}

// message is one message's state from MAIL FROM to the end of its data.
type message struct {
	conn trust.Conn
	pr   *io.PipeReader
	pw   *io.PipeWriter
	// ctx is the evaluation's: it ends at MessageTimeout, when the
	// message is given up (abort, a dropped connection) or ended, and when
	// the server stops; pw is closed with its cause then, so that a read
	// waiting for the MTA returns.
	ctx      context.Context
	cancel   context.CancelCauseFunc
	begun    bool // the evaluation runs
	done     chan result
	ended    sync.Once
	arIndex  int // Authentication-Results fields seen
	vIndex   int // X-Mailtrust-Verdict fields seen
	received []field
}

// field is an incoming field the verdict may require removing.
type field struct {
	name  string
	index int // among the fields of that name, from 1 (smfi_chgheader)
	value string
}

type result struct {
	v    *trust.Verdict
	conn trust.Conn // the facts judged
	err  error
}

var (
	errMessageTimeout = errors.New("milter: message not finished in time")
	errAborted        = errors.New("milter: message aborted")
	errDropped        = errors.New("milter: connection closed in the middle of a message")
)

func (c *session) Connect(host, family string, port uint16, addr net.IP, m *gomilter.Modifier) (gomilter.Response, error) {
	c.abort()
	c.ip, c.host, c.helo = netip.Addr{}, "", ""
	if a, ok := netip.AddrFromSlice(addr); ok && (family == "tcp4" || family == "tcp6") {
		c.ip = a.Unmap()
	}
	if host != "" && !strings.HasPrefix(host, "[") && host != "unknown" {
		c.host = host
	}
	return gomilter.RespContinue, nil
}

func (c *session) Helo(name string, m *gomilter.Modifier) (gomilter.Response, error) {
	c.helo = name
	return gomilter.RespContinue, nil
}

func (c *session) MailFrom(from string, m *gomilter.Modifier) (gomilter.Response, error) {
	c.abort()
	c.queue = "" // the new message's id comes with this or a later stage
	c.macros(m)
	msg := &message{
		conn: trust.Conn{
			IP: c.ip, HELO: c.helo, MailFrom: from,
			// A client that authenticated to the MTA (SMTP AUTH): the
			// receiver's own connector, trusted by configuration.
			Authenticated: m.Macros["{auth_authen}"] != "",
			Time:          c.s.opts.Now(),
		},
		done: make(chan result, 1),
	}
	if r := c.s.opts.Receiver; r.HasIP(c.ip) || r.HasName(c.host) {
		// One of the receiver's own hosts handed the message on: its
		// address and HELO are no fact about the sender. Left unknown,
		// the Evaluator reads the first outside hop from the trace
		// (trust.Options.Receiver); the envelope and time are the
		// session's.
		msg.conn.IP, msg.conn.HELO = netip.Addr{}, ""
	}
	if !c.s.begin() {
		// RFC 3463 X.3.2: system not accepting network messages.
		return reply("451 4.3.2 the mail filter is stopping, try again later"), nil
	}
	msg.pr, msg.pw = io.Pipe()
	ctx, cancel := context.WithCancelCause(c.s.base)
	ctx, stop := context.WithTimeoutCause(ctx, c.s.opts.MessageTimeout, errMessageTimeout)
	msg.ctx = ctx
	msg.cancel = func(err error) { cancel(err); stop() }
	context.AfterFunc(ctx, func() { msg.pw.CloseWithError(context.Cause(ctx)) })
	c.setMsg(msg)
	return gomilter.RespContinue, nil
}

func (c *session) RcptTo(rcpt string, m *gomilter.Modifier) (gomilter.Response, error) {
	c.macros(m)
	if c.msg != nil {
		c.msg.conn.RcptTo = append(c.msg.conn.RcptTo, rcpt)
	}
	return gomilter.RespContinue, nil
}

// Header feeds one field to the evaluation, as it was received: value
// starts with the space after the colon (SMFIP_HDR_LEADSPC), and the MTA
// gives folded lines with LF alone.
func (c *session) Header(name, value string, m *gomilter.Modifier) (gomilter.Response, error) {
	msg := c.msg
	if msg == nil {
		return gomilter.RespContinue, nil
	}
	switch {
	case strings.EqualFold(name, inbound.AuthResultsField):
		msg.arIndex++
		msg.received = append(msg.received, field{inbound.AuthResultsField, msg.arIndex, value})
	case strings.EqualFold(name, inbound.VerdictField):
		msg.vIndex++
		msg.received = append(msg.received, field{inbound.VerdictField, msg.vIndex, value})
	}
	line := make([]byte, 0, len(name)+len(value)+3)
	line = append(line, name...)
	line = append(line, ':')
	line = appendCRLF(line, value)
	line = append(line, '\r', '\n')
	c.write(line)
	return gomilter.RespContinue, nil
}

func (c *session) Headers(h textproto.MIMEHeader, m *gomilter.Modifier) (gomilter.Response, error) {
	c.write([]byte("\r\n"))
	return gomilter.RespContinue, nil
}

// BodyChunk feeds the body, which the MTA sends with CRLF line endings.
func (c *session) BodyChunk(chunk []byte, m *gomilter.Modifier) (gomilter.Response, error) {
	c.write(chunk)
	return gomilter.RespContinue, nil
}

// Body ends the message: the verdict is awaited, the fields changed, and
// the reply given. RespContinue at the end of a message accepts it, and,
// unlike RespAccept, keeps this session for the connection's next message.
func (c *session) Body(m *gomilter.Modifier) (gomilter.Response, error) {
	msg := c.msg
	if msg == nil {
		return gomilter.RespContinue, nil
	}
	c.macros(m)
	c.begin()
	msg.pw.Close()
	res := <-msg.done
	c.setMsg(nil)
	defer c.end(msg)
	log := c.s.log.With("queue_id", c.queue, "client", res.conn.IP.String(), "helo", res.conn.HELO,
		"mail_from", res.conn.MailFrom, "rcpt", len(res.conn.RcptTo))
	if res.err != nil {
		log.Warn("message not evaluated", "err", res.err)
		// RFC 3463 X.3.0: other or undefined mail system status.
		return reply("451 4.3.0 message could not be judged, try again later"), nil
	}
	v := res.v
	r := c.s.opts.Policy.Decide(v)
	log.Info("verdict", "level", string(v.Level), "score", v.Score, "incomplete", v.Incomplete,
		"reasons", strings.Join(inbound.Codes(v, inbound.TopReasons, false), ","), "action", r.Action.String())
	if r.Action != inbound.Accept {
		return reply(r.String()), nil
	}
	id := inbound.AuthServID(v)
	// Removed from the last to the first, so that no removal moves the
	// index of one still to come.
	for i := len(msg.received) - 1; i >= 0; i-- {
		f := msg.received[i]
		if inbound.Remove(f.name, f.value, id) {
			if err := m.ChangeHeader(f.index, f.name, ""); err != nil {
				return nil, err
			}
		}
	}
	// Index 0 is the top; the verdict's own field goes in last, above.
	if err := m.InsertHeader(0, inbound.VerdictField, " "+inbound.VerdictValue(v)); err != nil {
		return nil, err
	}
	if err := m.InsertHeader(0, inbound.AuthResultsField, " "+inbound.AuthResultsValue(v)); err != nil {
		return nil, err
	}
	return gomilter.RespContinue, nil
}

// reply is an SMFIR_REPLYCODE answer: code, enhanced code and text.
func reply(s string) gomilter.Response { return gomilter.NewResponseStr('y', s) }

func (c *session) Abort(m *gomilter.Modifier) error {
	c.abort()
	return nil
}

// begin starts the evaluation at the first octet of the message, when
// every RCPT TO is known.
func (c *session) begin() {
	if msg := c.msg; msg != nil && !msg.begun {
		msg.begun = true
		go c.evaluate(msg, msg.conn, msg.pr)
	}
}

// evaluate runs one evaluation, reading the message from pr as the MTA
// sends it.
func (c *session) evaluate(msg *message, conn trust.Conn, pr *io.PipeReader) {
	res := result{conn: conn}
	defer func() { msg.done <- res }()
	if !c.s.acquire(msg.ctx) {
		res.err = context.Cause(msg.ctx)
		pr.CloseWithError(res.err) // the MTA's writes do not block
		return
	}
	res.v, res.err = c.s.ev.Evaluate(msg.ctx, conn, pr)
	// The slot bounds evaluations, not the MTA's pace: free before the
	// drain.
	c.s.release()
	if res.v != nil {
		res.conn = res.v.Conn // with the facts read from the trace
	}
	if err := context.Cause(msg.ctx); err != nil && res.err == nil {
		// The message was given up (MessageTimeout, the server stops)
		// while the body was read: a partial verdict is no answer.
		res.err = err
	}
	// Evaluate may stop before the end (a limit): the rest is drained so
	// that the MTA's writes never block.
	io.Copy(io.Discard, pr)
	pr.Close()
}

// write passes message octets to the evaluation.
func (c *session) write(b []byte) {
	msg := c.msg
	if msg == nil {
		return
	}
	c.begin()
	// An error means the evaluation gave up (deadline, stop): the reply
	// at the end of the message says so.
	msg.pw.Write(b)
}

// setMsg sets the message in progress, under the lock drop reads it with.
func (c *session) setMsg(msg *message) {
	c.mu.Lock()
	c.msg = msg
	c.mu.Unlock()
}

// abort ends the message in progress without an answer (RSET, a new
// connection or MAIL FROM, an aborted transaction). Its evaluation is
// stopped, DNS questions included, and awaited.
func (c *session) abort() {
	msg := c.msg
	if msg == nil {
		return
	}
	c.setMsg(nil)
	msg.cancel(errAborted)
	if msg.begun {
		<-msg.done
	}
	c.end(msg)
}

// drop gives up the message in progress when the connection closes: no
// answer can reach the MTA any more. The evaluation is stopped, its
// read returns at once and its slot is freed; it is not awaited, since
// drop may run beside the connection's goroutine (Shutdown), whose Body
// may be awaiting it.
func (c *session) drop() {
	c.mu.Lock()
	msg := c.msg
	c.mu.Unlock()
	if msg != nil {
		msg.cancel(errDropped)
		c.end(msg)
	}
}

// end counts the message out of flight, once, and releases its context.
func (c *session) end(msg *message) {
	msg.ended.Do(func() {
		msg.cancel(context.Canceled)
		c.s.flight.Done()
	})
}

// macros keeps the queue id; the MTA sends it when it has one, from
// MAIL FROM or RCPT TO (Postfix opens the queue file late) to the end.
func (c *session) macros(m *gomilter.Modifier) {
	if q := m.Macros["i"]; q != "" {
		c.queue = q
	}
}

// appendCRLF appends s with every line break as CRLF: the MTA passes
// folded header lines with LF alone, a signature hashed them with CRLF.
func appendCRLF(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b = append(b, '\r')
		}
		b = append(b, s[i])
	}
	return b
}
