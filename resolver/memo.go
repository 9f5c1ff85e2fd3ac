package resolver

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultMaxQueries is the query budget of a Memo made with maxQueries <= 0.
const DefaultMaxQueries = 100

// ReservedRoundTrips is the number of further round trips (a retry after a
// lost reply, the TCP retries of both attempts) that each question given
// to Memo.Reserve may make beyond the budget once the budget is spent.
const ReservedRoundTrips = 3

// Memo is the Resolver for the evaluation of one message: it puts every
// check of that message in front of one consistent view of DNS and bounds
// how many questions the message can make us ask.
//
//   - Each (name, type) is asked upstream at most once; the answer or the
//     error is remembered for the life of the Memo, so that SPF, DMARC and
//     the others never see two different answers to one question.
//   - Concurrent askers of the same question share the upstream question.
//   - The budget, maxQueries, counts traffic: each distinct question costs
//     one, and each further round trip a Client makes for it (a CNAME hop
//     it follows itself, a retry, a TCP retry, an EDNS fallback) one more.
//     Once it is spent, a new question fails with an error wrapping
//     ErrPermanent (Reason "query budget exhausted"), and so does a round
//     trip a question in flight still needed: a hostile message (many DKIM
//     signatures, SPF include trees, long alias chains, replies forced to
//     TCP) cannot make us send without end. The per-protocol limits (RFC
//     7208 §4.6.4) stay the checks' business; this is the ceiling over all
//     of them.
//   - Reserve sets part of the budget aside for the questions that decide
//     the verdict, so that a message cannot spend the budget before them.
//
// Every asker of a question gets the same *Answer: answers a Memo returns
// are shared read-only and must not be modified (copying one per asker
// cost an allocation per question per check).
//
// A Memo is safe for concurrent use and is not shared across messages.
type Memo struct {
	r   Resolver
	max int

	mu        sync.Mutex
	results   map[Question]memoResult
	inflight  flights
	asked     map[Question]bool // nil until the log is long (markAsked)
	log       []Question
	spent     int              // budget used: questions and extra round trips
	reserved  []reservation    // Reserve's questions: a handful, so a slice
	resBuf    [3]reservation   // the first array of reserved: no allocation for a few
	held      int              // reserved questions not yet asked: a unit each
	trips     map[Question]int // round trips made for each question
	exchanges int              // round trips made in all
	exhausted bool
	closed    chan struct{} // closed at once: the done channel of work Go did inline
	misses    atomic.Int64  // questions inline runs (Go) found not at hand
}

// immediate is a Resolver that can tell, without blocking, the answer it
// already holds for a question (Cache).
type immediate interface {
	cached(q Question) (ans *Answer, err error, ok bool)
}

type memoResult struct {
	ans *Answer
	err error
}

// NewMemo returns a Memo in front of r allowing maxQueries distinct
// upstream questions; maxQueries <= 0 means DefaultMaxQueries.
func NewMemo(r Resolver, maxQueries int) *Memo {
	if maxQueries <= 0 {
		maxQueries = DefaultMaxQueries
	}
	// Sized for a typical message's questions; the maps a warm cache never
	// needs (questions in flight, round trips) are made on first use.
	return &Memo{
		r:       r,
		max:     maxQueries,
		results: make(map[Question]memoResult, memoSize),
		log:     make([]Question, 0, memoSize),
	}
}

// memoSize is about the number of distinct questions of one ordinary
// message; askedIndex the number of questions past which wasAsked uses
// a map rather than the log.
const (
	memoSize   = 8
	askedIndex = 32
)

// wasAsked reports whether q was asked upstream. Called with m.mu held.
func (m *Memo) wasAsked(q Question) bool {
	if m.asked != nil {
		return m.asked[q]
	}
	return slices.Contains(m.log, q)
}

// markAsked records q as asked upstream. Called with m.mu held.
func (m *Memo) markAsked(q Question) {
	m.log = append(m.log, q)
	switch {
	case m.asked != nil:
		m.asked[q] = true
	case len(m.log) > askedIndex:
		// Many questions (a budget above the default): a linear search
		// per new question would grow quadratic.
		m.asked = make(map[Question]bool, 2*len(m.log))
		for _, q := range m.log {
			m.asked[q] = true
		}
	}
}

// Lookup implements Resolver.
func (m *Memo) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	ans, err, _ := m.lookup(ctx, name, qtype, true)
	return ans, err
}

// lookup answers q. With wait false it does not wait for an answer that is
// not at hand: it sends the question upstream, unless it is in flight
// already, and returns ok false.
func (m *Memo) lookup(ctx context.Context, name string, qtype uint16, wait bool) (ans *Answer, err error, ok bool) {
	q := question(name, qtype)
	if m.r == nil {
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "memo without upstream resolver", Kind: ErrPermanent}, true
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(q, err), true
	}
	m.mu.Lock()
	if res, ok := m.results[q]; ok {
		m.mu.Unlock()
		return res.ans, res.err, true
	}
	f := m.inflight[q]
	switch {
	case f != nil && !wait:
		m.mu.Unlock()
		return nil, nil, false
	case f != nil:
		f.refs++
	default:
		// A question whose askers all left before the answer came is asked
		// again, but counts once.
		if !m.wasAsked(q) {
			if !m.admit(q) {
				m.exhausted = true
				m.mu.Unlock()
				return nil, budgetError(q), true
			}
			if r := m.reservation(q); r != nil && r.held {
				r.held, m.held = false, m.held-1 // its unit is the one spent now
			}
			m.spent++
			m.markAsked(q)
		}
		// An answer the upstream holds is taken on the asker's goroutine:
		// with a warm cache, a question costs no goroutine.
		if im, ok := m.r.(immediate); ok {
			if ans, err, ok := im.cached(q); ok {
				m.results[q] = memoResult{ans, err}
				m.mu.Unlock()
				return ans, err, true
			}
		}
		bctx := context.WithValue(ctx, budgetKey{}, memoBudget{m, q})
		if m.inflight == nil {
			m.inflight = flights{}
		}
		f = m.inflight.start(&m.mu, bctx, q, m.r, func(ans *Answer, err error) {
			m.results[q] = memoResult{ans, err}
		})
		if !wait {
			// Nobody waits yet: the askers who come for the answer will
			// hold the references.
			f.refs = 0
			m.mu.Unlock()
			return nil, nil, false
		}
	}
	m.mu.Unlock()
	ans, err = m.inflight.wait(&m.mu, ctx, q, f)
	return ans, err, true
}

func (m *Memo) closedChan() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed == nil {
		m.closed = make(chan struct{})
		close(m.closed)
	}
	return m.closed
}

// Reserve sets one unit of the budget aside for each of qs not yet asked,
// in order, as long as unreserved units are left: once only the units set
// aside remain, every other question is refused, and each question of qs
// is still asked when its turn comes (its unit is spent then). Its further
// round trips use the budget's units while there are any, then up to
// ReservedRoundTrips more beyond it, so that a reply lost or truncated
// late does not undo the reserve. The ceiling is therefore maxQueries plus
// ReservedRoundTrips for each reserved question.
//
// A caller lists the questions whose refusal would change the verdict,
// most decisive first, before the first Lookup of the work that may
// compete with them, and only questions it will ask: a unit held for a
// question never asked is never spent by another.
func (m *Memo) Reserve(qs ...Question) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, q := range qs {
		q = question(q.Name, q.Type)
		if m.wasAsked(q) || m.reservation(q) != nil {
			continue
		}
		if m.spent+m.held >= m.max {
			return
		}
		if m.reserved == nil {
			m.reserved = m.resBuf[:0]
		}
		m.reserved = append(m.reserved, reservation{q: q, held: true, extra: ReservedRoundTrips})
		m.held++
	}
}

// reservation is one question given to Reserve.
type reservation struct {
	q     Question
	held  bool // not yet asked: its unit is set aside
	extra int  // round trips it may still make beyond the budget
}

// reservation returns q's reservation, or nil. The caller holds m.mu.
func (m *Memo) reservation(q Question) *reservation {
	for i := range m.reserved {
		if m.reserved[i].q == q {
			return &m.reserved[i]
		}
	}
	return nil
}

// admit reports whether the budget has a unit for question q: one neither
// spent nor held for another reserved question. The caller holds m.mu.
func (m *Memo) admit(q Question) bool {
	held := m.held
	if r := m.reservation(q); r != nil && r.held {
		held--
	}
	return m.spent+held < m.max
}

// budgetKey is the context key under which a Memo passes the budget of a
// question down to the Client that sends it.
type budgetKey struct{}

// memoBudget charges the round trips of question q to its Memo.
type memoBudget struct {
	m *Memo
	q Question
}

// spend charges one round trip to the budget of ctx, if it has one, and
// fails once the budget is spent. The Client calls it before every packet
// it sends for a question.
func spend(ctx context.Context) error {
	b, ok := ctx.Value(budgetKey{}).(memoBudget)
	if !ok {
		return nil
	}
	m := b.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.trips[b.q] > 0 { // the question paid for its first round trip
		switch {
		case m.admit(b.q):
		case m.reservation(b.q) != nil && m.reservation(b.q).extra > 0:
			m.reservation(b.q).extra--
		default:
			m.exhausted = true
			return budgetError(b.q)
		}
		m.spent++
	}
	if m.trips == nil {
		m.trips = map[Question]int{}
	}
	m.trips[b.q]++
	m.exchanges++
	return nil
}

// budgetReason is the Reason of the error of a question the budget refused.
const budgetReason = "query budget exhausted"

func budgetError(q Question) error {
	return &Error{Name: q.Name, Type: q.Type, Rcode: -1, Reason: budgetReason, Kind: ErrPermanent}
}

// IsBudget reports whether err is a Memo's refusal of a question or a
// round trip for want of budget. It wraps ErrPermanent, yet says nothing
// about DNS: no Cache keeps it, and a check that must tell a DNS answer
// from a limit of ours (RFC 7208 §4.4 names only rcodes and timeouts)
// asks here.
func IsBudget(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == budgetReason
}

// Exchanges returns the number of round trips Clients made for the
// questions of this Memo (zero when the upstream is not a Client).
func (m *Memo) Exchanges() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.exchanges
}

// Spent returns the budget used so far: one per distinct question, one per
// further round trip. It exceeds maxQueries only by the round trips of
// reserved questions (Reserve).
func (m *Memo) Spent() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spent
}

// Queries returns the number of distinct questions asked upstream.
func (m *Memo) Queries() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.log)
}

// Log returns the distinct questions asked upstream, in the order first
// asked.
func (m *Memo) Log() []Question {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Question(nil), m.log...)
}

// Exhausted reports whether a question was refused because the budget was
// spent: the evaluation saw less of DNS than it wanted.
func (m *Memo) Exhausted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.exhausted
}
