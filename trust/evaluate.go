package trust

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/automated"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/dmarc"
	"github.com/mailtrust/mailtrust/forward"
	"github.com/mailtrust/mailtrust/helo"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/sender"
	"github.com/mailtrust/mailtrust/spf"
)

// evaluation is the state of one Evaluate call.
type evaluation struct {
	e    *Evaluator
	conn Conn
	res  *resolver.Memo
	v    *Verdict

	mu      sync.Mutex
	reasons []Reason

	header       *message.Header
	mailFromDom  string
	senderDomain string
	fromExists   sender.Result
	mfExists     sender.Result
	rcptExists   []sender.Result
	smuggling    message.Smuggling
	bodyErr      error
	forged       []string
	// capIncomplete holds an incomplete verdict at neutral (see score).
	capIncomplete bool
	// openWeight is what the results left open by temporary failures
	// could still take off the score (see open).
	openWeight float64
	// notMessage: the input is not a message; NotAMessage is the reason.
	notMessage bool
	// boundary is the index in header.Fields of the receiver's boundary
	// Received field, -1 when unknown; traceNote says why there is none.
	boundary  int
	traceNote string
	// given are the facts the caller gave in its Conn (Conn.given).
	given Facts
	// spfUnknown: SPF was not run for want of a session fact.
	spfUnknown bool
}

func (ev *evaluation) add(c Code, detail string) {
	ev.mu.Lock()
	ev.reasons = append(ev.reasons, Reason{Code: c, Detail: detail})
	ev.mu.Unlock()
}

func (ev *evaluation) run(ctx context.Context, msg io.Reader) error {
	v, lim := ev.v, ev.e.limits

	// 1. The header block, once and bounded; the body stays a stream.
	br := ev.e.reader(msg)
	defer ev.e.release(br)
	// The first octets, kept to tell an empty or binary input from a
	// message (a copy: reading the header moves the buffer).
	var headBuf [512]byte
	peeked, _ := br.Peek(len(headBuf))
	head := headBuf[:copy(headBuf[:], peeked)]
	h, herr := message.ReadHeader(br, message.Limits{
		MaxHeaderBytes: lim.MaxHeaderBytes, MaxFields: lim.MaxHeaderFields, MaxLineLength: lim.MaxLineLength,
	})
	ev.header = h
	rawID := messageID(h) // unfolded once: the verdict's and DMARC's sampling key
	v.MessageID = msgID(rawID)
	// The session facts, from the caller or the receiver's trace.
	ev.readTrace(h)
	ev.noteUnknown()
	conn := ev.conn
	if conn.Authenticated {
		ev.add(Authenticated, "client authenticated (SMTP AUTH)")
	}
	missing := conn.Missing()
	ipKnown, heloKnown, mfKnown := !missing.Has(FactIP), !missing.Has(FactHELO), !missing.Has(FactMailFrom)
	ev.spfUnknown = !ipKnown || !mfKnown
	bodyOK := true
	switch {
	case herr == nil || errors.Is(herr, message.ErrNoHeader):
		if why := message.NotAMessage(h, head); why != "" {
			// Nothing to judge: no sender, no signature. The one reason
			// says so, and no check runs or asks DNS.
			ev.notMessage = true
			ev.reasons = []Reason{{Code: NotAMessage, Detail: why}}
			v.AuthenticationResults = "Authentication-Results: " + arfield.Format(ev.e.authServID, nil)
			return nil
		}
	case errors.Is(herr, message.ErrHeaderTooLarge), errors.Is(herr, message.ErrTooManyFields), errors.Is(herr, message.ErrLineTooLong):
		ev.add(HeaderLimit, herr.Error())
		bodyOK = false // the reader is inside the header block
	default:
		return fmt.Errorf("trust: reading message: %w", herr)
	}
	ev.headerAnomalies()

	// 2. Identities, before any DNS.
	v.From = message.ParseFrom(h)
	for i, p := range v.From.Problems {
		detail := string(p)
		if i < len(v.From.Details) {
			detail = v.From.Details[i]
		}
		ev.add(Code(p), detail)
	}
	if mfKnown || heloKnown {
		for _, p := range message.CheckEnvelope(conn.MailFrom, conn.HELO) {
			if p == message.EnvelopeMailFromSyntax && !mfKnown {
				continue
			}
			ev.add(Code(p), "MAIL FROM "+quote(conn.MailFrom)+", HELO "+quote(conn.HELO))
		}
	}
	if !mfKnown {
		// Unknown: neither the null reverse-path nor a domain.
	} else if conn.MailFrom == "" {
		ev.add(NullReversePathID, "null reverse-path: HELO "+quote(conn.HELO)+" stands for SPF")
	} else if i := strings.LastIndexByte(conn.MailFrom, '@'); i >= 0 {
		ev.mailFromDom = domain.Normalize(conn.MailFrom[i+1:])
	}
	ev.senderDomain = ev.mailFromDom
	if ev.senderDomain == "" {
		ev.senderDomain = v.From.Domain
	}

	// 3. Every DNS-dependent check starts now, concurrently. A check whose
	// answers are all at hand (a warm cache) runs at once on this
	// goroutine: a goroutine would cost more than the check. Each stores
	// its result only, read after checks.Wait (resolver.Go may run it
	// twice).
	var checks resolver.Tasks
	start := time.Now()
	ck := connKey{ip: conn.IP, helo: conn.HELO, mailFrom: conn.MailFrom, fromDomain: v.From.Domain, unknown: conn.Missing()}
	cached := ev.e.conns.get(ck, start)
	ev.reserve(cached == nil)
	if cached != nil {
		// The same connection facts, answered by DNS not long ago.
		// Copies: a caller may change its verdict's slices.
		v.PTR, v.HELO, v.SPF = cached.ptr, cached.helo, cached.spf
		v.PTR.Names, v.PTR.Confirmed = slices.Clone(v.PTR.Names), slices.Clone(v.PTR.Confirmed)
		v.HELO.Addrs, v.SPF.Path = slices.Clone(v.HELO.Addrs), slices.Clone(v.SPF.Path)
		ev.fromExists, ev.mfExists = cached.fromExists, cached.mfExists
	} else {
		senders := uniq(ev.mailFromDom, v.From.Domain)
		// Unknown facts leave the checks that need them unrun: their
		// results stay zero, which no score reads (Conn).
		if ipKnown {
			checks.Go(ev.res, func(r resolver.Resolver) {
				v.PTR = ptr.Check(ctx, r, conn.IP, &ptr.Options{SenderDomains: senders})
			})
		}
		if ipKnown && heloKnown {
			checks.Go(ev.res, func(r resolver.Resolver) {
				v.HELO = helo.Check(ctx, r, conn.HELO, conn.IP, &helo.Options{SenderDomain: ev.senderDomain})
			})
		}
		if !ev.spfUnknown {
			checks.Go(ev.res, func(r resolver.Resolver) {
				v.SPF = spf.Check(ctx, r, conn.IP, conn.HELO, conn.MailFrom, &spf.Options{Records: &ev.e.spfRecords})
			})
		}
		if v.From.Domain != "" {
			checks.Go(ev.res, func(r resolver.Resolver) { ev.fromExists = sender.Check(ctx, r, v.From.Domain) })
		}
		if ev.mailFromDom != "" && ev.mailFromDom != v.From.Domain {
			checks.Go(ev.res, func(r resolver.Resolver) { ev.mfExists = sender.Check(ctx, r, ev.mailFromDom) })
		}
	}
	var disc dmarc.Discovery
	if v.From.Domain != "" {
		checks.Go(ev.res, func(r resolver.Resolver) { disc = dmarc.Lookup(ctx, r, v.From.Domain) })
	}
	// The envelope recipients' own domains are the receiver's: not asked.
	checks.Go(ev.res, func(r resolver.Resolver) { ev.rcptExists = sender.RecipientsExcept(ctx, r, h, 0, conn.RcptTo) })

	var dv *dkim.Verifier
	var av *arc.Verifier
	// One hasher per distinct (canonicalization, hash, l=) for DKIM and
	// ARC together: an ARC-Message-Signature made like the author's
	// signature costs no second pass over the body.
	// The set and its hashers (5 KiB each) come from the Evaluator's pool;
	// every verifier given the set is done with it when this returns.
	bodies, _ := ev.e.bodies.Get().(*dkim.BodyHashers)
	if bodies == nil {
		bodies = &dkim.BodyHashers{}
	}
	defer func() {
		bodies.Reset()
		ev.e.bodies.Put(bodies)
	}()
	// Signatures over a header block cut at a limit, or a body that cannot
	// be found, cannot be verified: they are not attempted.
	if h != nil && bodyOK {
		dv = dkim.NewVerifier(ctx, ev.res, h, &dkim.Options{MaxSignatures: lim.MaxDKIMSignatures, Time: conn.Time,
			BodyHashers: bodies, KeyCache: &ev.e.keys})
		av = arc.NewVerifier(ctx, ev.res, h, &arc.Options{MaxSets: lim.MaxARCSets, Time: conn.Time,
			BodyHashers: bodies, KeyCache: &ev.e.keys})
	}

	// 4. The body, once, through every hasher and the smuggling scanner.
	if bodyOK && h != nil {
		var scan message.SmugglingScanner
		var over bool
		over, ev.bodyErr = feedBody(ctx, br, bodies, &scan, lim.MaxBodyBytes)
		ev.smuggling = scan.Result()
		if over {
			ev.add(BodyLimit, fmt.Sprintf("body over %d octets: the rest not read", lim.MaxBodyBytes))
		}
	}
	if dv != nil {
		v.DKIM = dv.Results()
		v.ARC = av.Result()
	} else {
		v.ARC = arc.Result{Status: arc.None, Reason: "not verified: no complete header block"}
	}
	checks.Wait()
	if ev.bodyErr != nil {
		return fmt.Errorf("trust: reading message body: %w", ev.bodyErr)
	}
	if cached == nil && ev.e.conns != nil && ctx.Err() == nil {
		if exp, ok := memoExpiry(ctx, ev.res, start); ok {
			ev.e.conns.put(ck, &connResults{expires: exp, ptr: v.PTR, helo: v.HELO, spf: v.SPF,
				fromExists: ev.fromExists, mfExists: ev.mfExists}, start)
		}
	}

	// 5. DMARC alignment from the results (RFC 7489 §3.1, §6.6.2).
	if v.From.Domain != "" {
		ids := dmarc.Identifiers{
			SPFDomain:    v.SPF.Domain,
			SPFPass:      v.SPF.Status == spf.StatusPass,
			SPFTempError: v.SPF.Status == spf.StatusTemperror,
		}
		for _, d := range v.DKIM {
			switch {
			case d.Status == dkim.StatusPass && d.FromSigned:
				ids.DKIMPassDomains = append(ids.DKIMPassDomains, d.Domain)
			case d.Status == dkim.StatusTemperror:
				// A key that could not be fetched might have aligned: DMARC
				// is then temperror rather than fail (RFC 7489 §6.6.2).
				ids.DKIMTempErrorDomains = append(ids.DKIMTempErrorDomains, d.Domain)
			}
		}
		v.DMARC = dmarc.Evaluate(disc, ids, &dmarc.Options{SampleKey: rawID})
	} else {
		v.DMARC = dmarc.NoFromDomain("no single usable From domain")
	}
	if v.DMARC.Record != nil && !(ev.spfUnknown && v.DMARC.Status == dmarc.StatusFail) {
		v.Disposition = v.DMARC.Disposition
	}

	// 6. Forwarding, trusted forwarders, automated mail.
	if h != nil {
		var forged []string
		v.Original, forged = forward.Rescue(ev.receiverResults(h), v.From, v.ARC, forward.Conn{
			IP: conn.IP, PTRConfirmed: v.PTR.Confirmed, HELO: conn.HELO, HELOPass: v.HELO.Status == helo.StatusPass,
		}, ev.e.trust)
		if ipKnown {
			// Without the IP, who handed the message over is unknown:
			// not a forgery.
			ev.forged = append(ev.forged, forged...)
		}
		in := forward.DetectInput{
			Header: h, MailFrom: conn.MailFrom, Rcpt: conn.RcptTo,
			SPFStatus: v.SPF.Status, SPFDomain: v.SPF.Domain, From: v.From,
			ClientNames: v.PTR.Confirmed,
		}
		if v.HELO.Status == helo.StatusPass && !slices.Contains(v.PTR.Confirmed, v.HELO.Name) {
			in.ClientNames = append(slices.Clip(in.ClientNames), v.HELO.Name)
		}
		for _, d := range v.DKIM {
			in.DKIM = append(in.DKIM, forward.DKIMOutcome{
				Domain: d.Domain, Status: d.Status, BodyHashMismatch: errors.Is(d.Err, dkim.ErrBodyHashMismatch),
			})
		}
		v.Forward = forward.Detect(in)
		v.Automated = automated.Detect(h, v.From, conn.MailFrom, &automated.Options{Partners: ev.e.partners})
	}
	v.AuthenticationResults = ev.authResults()
	if ctx.Err() != nil {
		// What the unfinished checks would have said is anyone's guess.
		ev.open()
		ev.openWeight = math.Inf(1)
		ev.add(Deadline, "evaluation deadline reached: "+ctx.Err().Error())
	}
	return nil
}

// reserve sets part of the DNS budget aside for the questions that decide
// what a spoof of the From domain becomes (Limits.MaxDNSQueries): the
// DMARC policy's, and the From domain's existence when fromExists, the
// check that asks it, will run. Without the reserve a message could spend
// the budget on Cc domains, signatures and SPF includes so that the
// policy of a p=reject domain is refused: DMARC permerror, not fail.
func (ev *evaluation) reserve(fromExists bool) {
	from := ev.v.From.Domain
	if from == "" {
		return
	}
	var buf [3]resolver.Question // on the stack: Reserve keeps copies
	qs := dmarc.AppendQuestions(buf[:0], from)
	if q, ok := sender.Question(from); ok && fromExists {
		qs = append(qs, q)
	}
	ev.res.Reserve(qs...)
}

// feedBody streams the rest of br to the body hashers of the verifiers and
// to the scanner, straight from br's buffer: no second buffer, no copy,
// and one pass over the lines of each chunk for both (WriteScan). It
// stops after max octets, cutting the hashers with dkim.ErrBodyLimit and
// reporting over, and when ctx ends, checked per chunk, cutting them with
// dkim.ErrBodyUnread: the deadline covers the body too.
func feedBody(ctx context.Context, br *bufio.Reader, bodies *dkim.BodyHashers, scan *message.SmugglingScanner, max int64) (over bool, err error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			bodies.Cut(fmt.Errorf("%w: %w", dkim.ErrBodyUnread, err))
			return false, nil
		}
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				if err == io.EOF {
					return false, nil
				}
				return false, err
			}
		}
		p, _ := br.Peek(br.Buffered())
		if left := max - n; int64(len(p)) > left {
			p = p[:left]
			over = true
		}
		bodies.WriteScan(p, scan)
		_, _ = br.Discard(len(p))
		n += int64(len(p))
		if over {
			bodies.Cut(dkim.ErrBodyLimit)
			return true, nil
		}
	}
}

func (ev *evaluation) headerAnomalies() {
	h := ev.header
	if h == nil {
		return
	}
	a := h.Anomalies
	if a.NUL > 0 {
		ev.add(HeaderNUL, fmt.Sprintf("%d NUL bytes in the header block", a.NUL))
	}
	if a.BareCR > 0 {
		ev.add(BareCRHeader, fmt.Sprintf("%d bare CR in the header block", a.BareCR))
	}
	if a.Malformed > 0 {
		ev.add(Malformed, fmt.Sprintf("%d malformed header lines", a.Malformed))
	}
}

func messageID(h *message.Header) string {
	if h == nil {
		return ""
	}
	if f := h.First("message-id"); f != nil {
		return f.Unfolded()
	}
	return ""
}

// msgID returns the Message-ID's msg-id without angle brackets (RFC 5322
// §3.6.4) from id, the unfolded Message-ID field; "" when there is none.
func msgID(id string) string {
	if i := strings.IndexByte(id, '<'); i >= 0 {
		if j := strings.IndexByte(id[i:], '>'); j > 0 {
			return strings.TrimSpace(id[i+1 : i+j])
		}
	}
	return strings.TrimSpace(id)
}

func quote(s string) string {
	if s == "" {
		return "<>"
	}
	return fmt.Sprintf("%q", s)
}

func uniq(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
