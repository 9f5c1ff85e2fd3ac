package dkim

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/authres"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// Status is the result of one signature, spelled as RFC 8601 §2.7.1
// result words.
type Status string

// Statuses.
const (
	// StatusNone: the message has no signature. Verify never returns it
	// in a Result; callers use it for a message without results.
	StatusNone Status = "none"
	// StatusPass: the signature verifies.
	StatusPass Status = "pass"
	// StatusFail: the signature or the body hash does not match.
	StatusFail Status = "fail"
	// StatusNeutral: the signature was not verified (over the limit).
	StatusNeutral Status = "neutral"
	// StatusPolicy: the signature uses what policy refuses (rsa-sha1, or
	// an RSA key of 1024 bits or more but under Policy.MinRSABits).
	StatusPolicy Status = "policy"
	// StatusTempError: the key lookup failed temporarily; try later.
	StatusTemperror Status = "temperror"
	// StatusPermError: the signature can never be verified: malformed,
	// unsupported, expired, From not signed, i= outside d=, key missing,
	// revoked, malformed or under 1024 bits (RFC 8301 §3.2).
	StatusPermerror Status = "permerror"
)

// Result is the outcome of one DKIM-Signature header field. The tag fields
// are filled as far as the field could be read, whatever the Status.
type Result struct {
	Status Status
	// Domain is d= as written: the signing domain (SDID).
	Domain string
	// Selector is s= as written.
	Selector string
	// Algorithm is a= as written.
	Algorithm string
	// Identifier is i= decoded, "@" + d= when absent (RFC 6376 §3.5).
	Identifier string
	// KeyBits is the key's size, once the key was found.
	KeyBits int
	// Reason explains Status briefly; empty on pass.
	Reason string
	// Err is the cause, classified with errors.Is against this package's
	// sentinels (and resolver's for temperror); nil on pass.
	Err error
	// SignaturePrefix is the first 8 characters of b=, which tell apart
	// signatures of one domain (RFC 6008 header.b).
	SignaturePrefix string

	// SignedHeaders is h= as written, each name trimmed.
	SignedHeaders []string
	// FromSigned reports whether h= names From. A signature not covering
	// From authenticates no From (RFC 6376 §5.4); it is a permerror.
	FromSigned bool
	// UnsignedAbove lists, sorted and in lower case, which of cc, date,
	// from, message-id, reply-to, subject and to h= names but the message
	// holds more often than h= names them: an unsigned instance sits above
	// the signed one(s), where a reader's client may show it (RFC 6376
	// §8.15). A signature can pass with this set; the caller decides what
	// it means. A field h= does not name at all is in NotSigned instead.
	UnsignedAbove []string
	// NotSigned lists, sorted and in lower case, which of cc, date,
	// message-id, reply-to, subject and to the message holds but h= never
	// names: a weakness of the signature (anyone may change them), not an
	// instance added above a signed one. From is FromSigned.
	NotSigned []string
	// BodyLength is l=, -1 when absent.
	BodyLength int64
	// UnsignedBodyBytes is how many canonical body octets follow the l=
	// octets the signature covers: content anyone may have added.
	UnsignedBodyBytes int64
	// IdentifierOutsideDomain reports an i= whose domain is neither d=
	// nor below it (RFC 6376 §3.5): a permerror.
	IdentifierOutsideDomain bool
	// Timestamp and Expiration are t= and x=; zero when absent.
	Timestamp, Expiration time.Time
	// FutureTimestamp reports a t= later than the evaluation time plus the
	// clock skew. It does not change Status (RFC 6376 §3.5 t=: verifiers
	// "MAY ignore" such signatures; signer clocks are often wrong).
	FutureTimestamp bool
	// Testing reports the key's t=y flag: the domain is testing DKIM
	// (RFC 6376 §3.6.1).
	Testing bool
}

// Options refine verification. The zero value (or nil) is the default,
// except that the Verifier needs Time.
type Options struct {
	// MaxSignatures bounds how many DKIM-Signature fields, top to bottom,
	// are verified; the others are reported StatusNeutral with
	// ErrNotVerified (RFC 6376 §6.1: verifiers may limit the signatures
	// they check). Zero or negative: 8.
	MaxSignatures int
	// Time is the evaluation time, the time of receipt: x= and t= are
	// judged against it, never against the clock. NewVerifier requires
	// it: with a zero Time every signature is a permerror with ErrNoTime,
	// so that a forgotten Time never lets an expired signature pass. The
	// convenience Verify uses the current time when it is zero.
	Time time.Time
	// Policy is the crypto policy (RFC 8301).
	Policy Policy
	// ClockSkew is the tolerance for clocks that disagree: a signature
	// expires ClockSkew after x=, and t= counts as in the future when
	// later than Time + ClockSkew. Zero: 5 minutes; negative: none.
	ClockSkew time.Duration
	// BodyHashers, when set, is the set of body hashers the Verifier
	// takes its own from, shared with the message's other verifiers
	// (arc.Options.BodyHashers); the caller then writes the body
	// to the set, and Verifier.Write does nothing. Nil: the Verifier has
	// its own, fed by its Write.
	BodyHashers *BodyHashers
	// KeyCache, when set, keeps parsed key records across messages
	// (shared by all the verifiers of a pipeline). Nil: every key record
	// is parsed when it is fetched.
	KeyCache *KeyCache
}

// Defaults of Options.
const (
	DefaultMaxSignatures = 8
	DefaultClockSkew     = 5 * time.Minute
)

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxSignatures <= 0 {
		c.MaxSignatures = DefaultMaxSignatures
	}
	switch {
	case c.ClockSkew == 0:
		c.ClockSkew = DefaultClockSkew
	case c.ClockSkew < 0:
		c.ClockSkew = 0
	}
	return c
}

// Verifier verifies the DKIM signatures of one message whose body is
// streamed through it, in constant memory: key lookups run while the body
// is written, and each distinct (body canonicalization, hash, l=) is
// hashed once however many signatures share it.
//
// Write and Results must not be called concurrently.
type Verifier struct {
	ctx     context.Context
	opts    Options
	header  *message.Header
	sigs    []*pending
	bodies  *BodyHashers
	shared  bool // bodies is the caller's: Write leaves the body to it
	results []Result
}

type pending struct {
	res     Result
	sig     *signature // nil: res is final
	hasher  *BodyHasher
	key     *keyLookup
	dropped bool // the key failed: the hasher was told (prune)
}

type keyLookup struct {
	done <-chan struct{} // closed when key and err are set
	key  *Key
	err  error
}

// NewVerifier reads every DKIM-Signature field of h, top to bottom, and
// starts the key lookups of those it will verify at once, concurrently,
// bounded by ctx. The caller then writes the body (what follows the header
// block, CRLF or LF line endings) and calls Results. h must not change
// until Results returns.
func NewVerifier(ctx context.Context, r resolver.Resolver, h *message.Header, opts *Options) *Verifier {
	v := &Verifier{ctx: ctx, opts: opts.withDefaults(), header: h}
	v.bodies, v.shared = v.opts.BodyHashers, v.opts.BodyHashers != nil
	if !v.shared {
		v.bodies = &BodyHashers{}
	}
	lookups := map[string]*keyLookup{}
	n := 0
	for i := range h.Fields {
		f := &h.Fields[i]
		if f.Key != "dkim-signature" {
			continue
		}
		n++
		p := &pending{res: Result{BodyLength: -1}}
		v.sigs = append(v.sigs, p)
		if n > v.opts.MaxSignatures {
			if tags, err := ParseTagList(f.Value()); err == nil {
				p.res.Domain, _ = tags.Get("d")
				p.res.Selector, _ = tags.Get("s")
				p.res.Algorithm, _ = tags.Get("a")
			}
			p.res.finish(StatusNeutral, ErrNotVerified)
			continue
		}
		if v.opts.Time.IsZero() {
			p.res.finish(StatusPermerror, ErrNoTime)
			continue
		}
		sig, err := parseSignature(h, f, &p.res, &v.opts)
		if err != nil {
			p.res.finish(statusOf(err), err)
			continue
		}
		p.sig = sig
		if sig.length >= 0 {
			p.res.BodyLength = sig.length
		}
		p.hasher = v.bodies.hasher(sig.bodyCanon, sig.hash, sig.length)
		if p.key = lookups[sig.keyName]; p.key == nil {
			l := &keyLookup{}
			p.key, lookups[sig.keyName] = l, l
			// At once when the answer is at hand, else concurrently.
			selector, dom := sig.selector, sig.domain
			l.done = resolver.Go(r, func(r resolver.Resolver) { l.key, l.err = v.opts.KeyCache.Lookup(ctx, r, selector, dom) })
		}
	}
	v.bodies.verifiers = append(v.bodies.verifiers, v)
	return v
}

// prune tells the body hashers which signatures lost their key: a hasher
// only those use stops hashing (no one will compare its hash).
func (v *Verifier) prune() {
	for _, p := range v.sigs {
		if p.hasher == nil || p.dropped {
			continue
		}
		select {
		case <-p.key.done:
			if p.key.err != nil {
				p.dropped = true
				p.hasher.drops++
			}
		default:
		}
	}
}

// Write feeds body octets to the body hashers. It fails only after
// Results. With Options.BodyHashers set it does nothing: the caller writes
// the body to that set, once for all its verifiers, and checks the
// deadline. Once the context given to NewVerifier has ended, nothing more
// is hashed: signatures whose hash needed the rest are temperror.
func (v *Verifier) Write(p []byte) (int, error) {
	if v.results != nil {
		return 0, errors.New("dkim: Write after Results")
	}
	if !v.shared {
		if err := v.ctx.Err(); err != nil {
			v.cut(err)
		}
		_, _ = v.bodies.Write(p)
	}
	return len(p), nil
}

// cut ends the body of the Verifier's own hashers at the deadline.
func (v *Verifier) cut(err error) {
	v.bodies.Cut(fmt.Errorf("%w: %w", ErrBodyUnread, err))
}

// Results ends the body, waits for the keys (no longer than the context
// given to NewVerifier allows: a lookup still running then is a
// temperror) and verifies. It returns one Result per DKIM-Signature field,
// top to bottom; none for a message without signatures. Later calls return
// the same results.
func (v *Verifier) Results() []Result {
	if v.results != nil {
		return v.results
	}
	for _, p := range v.sigs {
		if p.hasher != nil {
			p.hasher.Sum() // the body ends here
		}
	}
	v.results = make([]Result, 0, len(v.sigs))
	for _, p := range v.sigs {
		if p.sig != nil {
			v.verify(p)
		}
		v.results = append(v.results, p.res)
	}
	return v.results
}

// verify finishes one signature that passed parsing: RFC 6376 §6.1.2 (the
// key) then §6.1.3 (body hash, then signature).
func (v *Verifier) verify(p *pending) {
	s, res := p.sig, &p.res
	var key *Key
	var err error
	select {
	case <-p.key.done:
		key, err = p.key.key, p.key.err
	default:
		select {
		case <-p.key.done:
			key, err = p.key.key, p.key.err
		case <-v.ctx.Done():
			err = fmt.Errorf("%w: %w", ErrKeyUnavailable, v.ctx.Err())
		}
	}
	if err != nil {
		res.finish(statusOf(err), err)
		return
	}
	res.KeyBits = key.Bits
	res.Testing = key.Testing()
	if !key.ForEmail() {
		res.finish(StatusPermerror, fmt.Errorf("%w: s=%s", ErrServiceNotAllowed, strings.Join(key.Services, ":")))
		return
	}
	if key.Strict() && domain.Normalize(s.idDomain) != domain.Normalize(s.domain) {
		// RFC 6376 §3.6.1 t=s: "the "i=" domain MUST NOT be a subdomain
		// of "d="".
		res.finish(StatusPermerror, fmt.Errorf("%w: key has t=s, i=%s", ErrIdentifierMismatch, res.Identifier))
		return
	}
	if _, err := key.check(s.algorithm, v.opts.Policy); err != nil {
		st := statusOf(err)
		if errors.Is(err, ErrKeyTooShort) && key.Bits < minRSABits {
			// RFC 8301 §3.2: under 1024 bits is never valid, whatever the
			// policy: permerror, as for a malformed key.
			st = StatusPermerror
		}
		res.finish(st, err)
		return
	}

	if err := p.hasher.Err(); err != nil {
		// The body was cut at a limit or by the deadline before the
		// hash had all it covers: not verified (ErrBodyLimit, neutral)
		// or not yet (ErrBodyUnread, temperror).
		res.finish(statusOf(err), err)
		return
	}
	total := p.hasher.Length()
	if s.length >= 0 {
		if total < s.length {
			res.finish(StatusFail, fmt.Errorf("%w: %d octets, l=%d", ErrBodyTooShort, total, s.length))
			return
		}
		res.UnsignedBodyBytes = total - s.length
	}
	if subtle.ConstantTimeCompare(p.hasher.Sum(), s.bodyHash) != 1 {
		res.finish(StatusFail, ErrBodyHashMismatch)
		return
	}
	if err := key.Verify(s.algorithm, v.opts.Policy, v.headerDigest(s), s.sig); err != nil {
		res.finish(statusOf(err), err)
		return
	}
	res.finish(StatusPass, nil)
}

// headerDigest hashes the signed header fields and the signature field
// itself with b= emptied and without its final CRLF (RFC 6376 §3.7).
func (v *Verifier) headerDigest(s *signature) []byte {
	h := s.hash.New()
	var buf []byte
	for _, f := range SelectHeaders(v.header, s.headers) {
		if s.headerCanon == Relaxed {
			buf = appendRelaxedHeader(buf[:0], f.Raw)
			h.Write(buf)
		} else {
			h.Write(f.Raw)
		}
	}
	self := CanonicalHeader(s.headerCanon, StripSignatureValue(s.field.Raw))
	h.Write(trimCRLF(self))
	return h.Sum(nil)
}

func trimCRLF(b []byte) []byte {
	if n := len(b); n >= 2 && b[n-2] == '\r' && b[n-1] == '\n' {
		return b[:n-2]
	}
	return b
}

// finish sets the final status and its explanation.
func (r *Result) finish(st Status, err error) {
	r.Status, r.Err = st, err
	if err != nil {
		r.Reason = strings.TrimPrefix(err.Error(), "dkim: ")
	}
}

// statusOf maps a cause to its status (CORPUS "DKIM words").
func statusOf(err error) Status {
	switch {
	case err == nil:
		return StatusPass
	case errors.Is(err, ErrBodyHashMismatch), errors.Is(err, ErrSignatureMismatch):
		return StatusFail
	case errors.Is(err, ErrNotVerified):
		return StatusNeutral
	case errors.Is(err, ErrPolicy):
		return StatusPolicy
	case errors.Is(err, ErrKeyUnavailable), resolver.IsTemporary(err):
		return StatusTemperror
	}
	return StatusPermerror
}

// Verify reads a whole message from msg and verifies its DKIM signatures:
// the convenience form of NewVerifier. A zero opts.Time means now. The
// error reports a message whose header could not be read, or a read
// failure; signature problems are in the results.
func Verify(ctx context.Context, r resolver.Resolver, msg io.Reader, opts *Options) ([]Result, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	br := bufio.NewReaderSize(msg, 32<<10)
	h, err := message.ReadHeader(br, message.Limits{})
	if err != nil {
		return nil, fmt.Errorf("dkim: reading header: %w", err)
	}
	v := NewVerifier(ctx, r, h, &o)
	// A plain read loop: br.WriteTo would hand a strings.Reader's whole
	// content over as one converted slice, a copy of the body.
	buf := make([]byte, 32<<10)
	for {
		if err := ctx.Err(); err != nil {
			v.cut(err) // the deadline covers the body
			break
		}
		n, err := br.Read(buf)
		_, _ = v.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dkim: reading body: %w", err)
		}
	}
	return v.Results(), nil
}

// AuthResults renders results as RFC 8601 "dkim" method results, with the
// properties header.d, header.s, header.i, header.a and header.b (the first
// 8 characters of b=, RFC 6008), and the reason. No results render as one
// "dkim=none".
//
// The properties come from the signature, that is from the sender: a
// value that is not printable ASCII without quote and backslash is left
// out (the reason then says what was wrong), and the reason is reduced to
// such characters, so that nothing in a signature can break the header
// field or forge a result in it.
// A temperror's reason is "temporary DNS failure" whatever r.Reason
// says: the resolver's detail is for logs and the verdict, not the header.
func AuthResults(results []Result) []authres.Result {
	if len(results) == 0 {
		return []authres.Result{&authres.GenericResult{Method: "dkim", Value: authres.ResultNone, Params: map[string]string{}}}
	}
	out := make([]authres.Result, 0, len(results))
	for _, r := range results {
		out = append(out, &authres.GenericResult{
			Method: "dkim",
			Value:  authres.ResultValue(r.Status),
			Params: map[string]string{
				"reason":   arfield.ResultReason(string(r.Status), r.Reason),
				"header.d": arfield.Value(r.Domain),
				"header.s": arfield.Value(r.Selector),
				"header.i": arfield.Value(r.Identifier),
				"header.a": arfield.Value(r.Algorithm),
				"header.b": arfield.Value(r.SignaturePrefix),
			},
		})
	}
	return out
}
