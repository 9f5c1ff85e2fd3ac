package trust

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/forward"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/spf"
)

// Evaluator judges inbound messages. Configure it once with New; it is safe
// for concurrent use by any number of goroutines.
type Evaluator struct {
	res        resolver.Resolver
	weights    map[Code]float64
	groups     map[Code]Group
	caps       map[Group]float64
	thresholds Thresholds
	trust      forward.Trust
	partners   []string
	authServID string
	limits     Limits
	log        *slog.Logger
	readers    sync.Pool       // of *bufio.Reader, readerSize
	bodies     sync.Pool       // of *dkim.BodyHashers, Reset: one per evaluation at a time
	keys       dkim.KeyCache   // parsed DKIM and ARC key records
	spfRecords spf.RecordCache // parsed SPF records

	// See Options.Receiver and Options.ReceiverAuthServID.
	receiver           received.Receiver
	receiverAuthServID string
	conns              *connCache // nil: Options.ConnCache is negative
}

// New returns an Evaluator for opts (nil means defaults).
func New(opts *Options) *Evaluator {
	if opts == nil {
		opts = &Options{}
	}
	e := &Evaluator{
		res:        opts.Resolver,
		weights:    map[Code]float64{},
		groups:     map[Code]Group{},
		caps:       defaultCaps(),
		thresholds: opts.Thresholds,
		trust:      forward.Trust{Forwarders: append([]string(nil), opts.TrustedForwarders...)},
		partners:   append([]string(nil), opts.Partners...),
		authServID: opts.AuthServID,
		limits:     opts.Limits.withDefaults(),
		log:        opts.Logger,

		receiver:           opts.Receiver,
		receiverAuthServID: normAuthServID(opts.ReceiverAuthServID),
		conns:              newConnCache(opts.ConnCache),
	}
	if e.res == nil {
		e.res = resolver.Default()
	}
	for _, s := range Signals() {
		e.weights[s.Code] = s.Weight
		e.groups[s.Code] = s.Group
	}
	for c, w := range opts.Weights {
		e.weights[c] = w
	}
	for g, c := range opts.GroupCaps {
		if c <= 0 {
			delete(e.caps, g)
		} else {
			e.caps[g] = c
		}
	}
	if e.thresholds == (Thresholds{}) {
		e.thresholds = DefaultThresholds()
	}
	if e.authServID == "" {
		e.authServID = "mailtrust"
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// Thresholds returns the score thresholds e maps to levels: the
// configured ones, or DefaultThresholds.
func (e *Evaluator) Thresholds() Thresholds { return e.thresholds }

// Evaluate judges one message: conn holds the SMTP facts, msg the raw
// message (CRLF or LF line endings), read once and streamed. The DNS
// questions of all checks run concurrently, each asked at most once.
//
// A verdict is returned for any input, malformed or hostile; the error is
// non-nil only when msg could not be read. Input that is not a message
// (empty, binary, no header field that messages carry) gets the one reason
// input.not-a-message: no check runs, no DNS is asked. When ctx ends
// first, the verdict is partial and marked Incomplete.
func (e *Evaluator) Evaluate(ctx context.Context, conn Conn, msg io.Reader) (*Verdict, error) {
	ctx, cancel := context.WithTimeout(ctx, e.limits.Timeout)
	defer cancel()
	given := conn.given() // before the defaults below
	if conn.Time.IsZero() {
		conn.Time = time.Now()
	}
	if conn.MailFrom == "<>" {
		conn.MailFrom = ""
	}
	if conn.Source == "" {
		conn.Source = SourceCase
	}
	ev := &evaluation{
		e:     e,
		conn:  conn,
		given: given,
		res:   resolver.NewMemo(e.res, e.limits.MaxDNSQueries),
		v:     &Verdict{},
		// A message gathers about ten reasons: room for them at once.
		reasons: make([]Reason, 0, 16),
	}
	err := ev.run(ctx, msg)
	ev.score()
	ev.capUnknown()
	ev.v.Conn = ev.conn
	// The Authentication-Results field says only "temporary DNS failure";
	// the resolver's own words go to the log (and stay in the reasons).
	for _, r := range ev.v.Reasons {
		if strings.HasSuffix(string(r.Code), ".temperror") {
			e.log.Debug("temporary failure", "ip", conn.IP, "code", r.Code, "detail", r.Detail)
		}
	}
	if e.log.Enabled(ctx, slog.LevelDebug) { // the arguments would cost allocations even when discarded
		e.log.Debug("evaluated", "ip", conn.IP, "from", ev.v.From.Address, "verdict", ev.v.Level,
			"score", ev.v.Score, "incomplete", ev.v.Incomplete, "dns", ev.res.Queries())
	}
	return ev.v, err
}

// readerSize is the read buffer of one evaluation: the header block is
// read through it and the body passes through it in chunks of that size.
const readerSize = 32 << 10

// reader returns a pooled read buffer over msg.
func (e *Evaluator) reader(msg io.Reader) *bufio.Reader {
	if br, ok := e.readers.Get().(*bufio.Reader); ok {
		br.Reset(msg)
		return br
	}
	return bufio.NewReaderSize(msg, readerSize)
}

// release returns br to the pool once nothing refers to its buffer (the
// header fields are copies).
func (e *Evaluator) release(br *bufio.Reader) {
	br.Reset(nil)
	e.readers.Put(br)
}
