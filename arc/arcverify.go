package arc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// Verifier validates a message's ARC chain (RFC 8617 §5.2) while the
// body streams through it: create it with the header, write the body, then
// ask for the Result. Key lookups for every seal and the newest message
// signature start at creation and run concurrently with the body.
//
// A Verifier is not safe for concurrent use, except that Result may be
// called more than once.
type Verifier struct {
	opts Options
	h    *message.Header

	decided bool // the result was known from the header alone
	res     Result

	sets []arcSetParsed // index i-1 holds instance i
	keys map[string]*keyFetch
	body *dkim.BodyHasher

	once sync.Once
}

type arcSetParsed struct {
	aar *arcField
	ams *arcField
	as  *arcField
	// Parsed signatures: seal of every set, message signature of the
	// newest only (RFC 8617 §5.2 steps 4 and 6 look at no other).
	seal   *arcSig
	msgSig *arcSig
}

// keyFetch is one key lookup under way.
type keyFetch struct {
	done <-chan struct{} // closed when key and err are set
	key  *dkim.Key
	err  error
}

// NewVerifier reads the ARC sets of h, checks the chain's structure
// (RFC 8617 §5.2 steps 1 to 3) and starts the key lookups for every
// ARC-Seal and for the newest ARC-Message-Signature. opts may be nil.
func NewVerifier(ctx context.Context, r resolver.Resolver, h *message.Header, opts *Options) *Verifier {
	v := &Verifier{opts: opts.withDefaults(), h: h}
	v.prepare(ctx, r)
	return v
}

func (v *Verifier) decide(st Status, instance int, reason string, err error) {
	v.decided = true
	v.res = Result{Status: st, FailedInstance: instance, Reason: reason, Err: err}
}

func (v *Verifier) prepare(ctx context.Context, r resolver.Resolver) {
	if v.h == nil {
		v.decide(None, 0, "no ARC header fields", nil)
		return
	}
	limit := v.opts.MaxSets
	// Three fields per set. One set beyond the limit is read so that the
	// instance check below names it; reading more is work an attacker
	// chose (RFC 8617 §5.2 step 1).
	fields, tooMany := collectARC(v.h, 3*(limit+1))
	if len(fields) == 0 {
		v.decide(None, 0, "no ARC header fields", nil)
		return
	}
	if tooMany {
		v.decide(Fail, 0, fmt.Sprintf("more than %d ARC header fields", 3*(limit+1)),
			fmt.Errorf("%w: more than %d sets", ErrTooManySets, limit))
		return
	}
	n := 0
	for _, f := range fields {
		n = max(n, f.instance)
	}
	// RFC 8617 §5.2 step 1: at most 50 sets.
	if n > limit {
		v.decide(Fail, n, fmt.Sprintf("instance %d beyond the limit of %d sets", n, limit),
			fmt.Errorf("%w: i=%d, limit %d", ErrTooManySets, n, limit))
		return
	}
	// RFC 8617 §5.2 step 2: the newest seal says the chain failed.
	for _, f := range fields {
		if f.key == keyAS && f.instance == n && n > 0 {
			if cv, ok := f.tags.Get("cv"); ok && strings.EqualFold(cv, string(Fail)) {
				v.decide(Fail, n, fmt.Sprintf("ARC-Seal i=%d says cv=fail", n),
					fmt.Errorf("%w: i=%d", ErrChainFailed, n))
				return
			}
		}
	}
	// RFC 8617 §5.2 step 3.1 and 3.2: exactly one AAR, AMS and AS for
	// each instance 1..N.
	v.sets = make([]arcSetParsed, n)
	for _, f := range fields {
		if f.err != nil {
			kind := ErrStructure // no instance: the set cannot be placed
			if errors.Is(f.err, dkim.ErrTagList) {
				kind = ErrMalformed
			}
			v.decide(Fail, 0, fmt.Sprintf("%s unreadable: %v", f.field.Name, f.err),
				fmt.Errorf("%w: %s: %w", kind, f.field.Name, f.err))
			return
		}
		s := &v.sets[f.instance-1]
		slot := &s.aar
		switch f.key {
		case keyAMS:
			slot = &s.ams
		case keyAS:
			slot = &s.as
		}
		if *slot != nil {
			v.decide(Fail, f.instance, fmt.Sprintf("two %s fields with i=%d", f.field.Name, f.instance),
				fmt.Errorf("%w: duplicate %s i=%d", ErrStructure, f.field.Name, f.instance))
			return
		}
		*slot = f
	}
	for i := range v.sets {
		s := &v.sets[i]
		var missing []string
		if s.aar == nil {
			missing = append(missing, "ARC-Authentication-Results")
		}
		if s.ams == nil {
			missing = append(missing, "ARC-Message-Signature")
		}
		if s.as == nil {
			missing = append(missing, "ARC-Seal")
		}
		if missing != nil {
			v.decide(Fail, i+1, fmt.Sprintf("set i=%d lacks %s", i+1, strings.Join(missing, ", ")),
				fmt.Errorf("%w: set i=%d incomplete", ErrStructure, i+1))
			return
		}
	}
	// The seals, newest first, and the newest message signature.
	for i := n - 1; i >= 0; i-- {
		s := &v.sets[i]
		seal, err := parseAS(s.as)
		if err != nil {
			v.decide(Fail, i+1, fmt.Sprintf("ARC-Seal i=%d: %v", i+1, err),
				fmt.Errorf("%w: ARC-Seal i=%d: %w", ErrMalformed, i+1, err))
			return
		}
		s.seal = seal
	}
	ams, err := parseAMS(v.sets[n-1].ams)
	if err != nil {
		v.decide(Fail, n, fmt.Sprintf("ARC-Message-Signature i=%d: %v", n, err),
			fmt.Errorf("%w: ARC-Message-Signature i=%d: %w", ErrMalformed, n, err))
		return
	}
	v.sets[n-1].msgSig = ams
	// RFC 8617 §5.2 step 3.3: cv=none at i=1, pass above, never fail.
	for i := range v.sets {
		want := Pass
		if i == 0 {
			want = None
		}
		if cv := v.sets[i].seal.cv; cv != want {
			err := ErrStructure
			if cv == Fail {
				err = ErrChainFailed
			}
			v.decide(Fail, i+1, fmt.Sprintf("ARC-Seal i=%d has cv=%s, want %s", i+1, cv, want),
				fmt.Errorf("%w: ARC-Seal i=%d cv=%s", err, i+1, cv))
			return
		}
	}
	// The clock (RFC 6376 §3.5 x=, imported by RFC 8617 §4.1.2).
	now := v.opts.Time
	if now.IsZero() {
		v.decide(Fail, 0, "no evaluation time", ErrNoTime)
		return
	}
	if ams.x >= 0 && now.Add(-v.opts.ClockSkew).Unix() > ams.x {
		v.decide(Fail, n, fmt.Sprintf("ARC-Message-Signature i=%d expired at %s", n, time.Unix(ams.x, 0).UTC().Format(time.RFC3339)),
			fmt.Errorf("%w: i=%d x=%d", ErrExpired, n, ams.x))
		return
	}
	// Key lookups, one per distinct selector and domain, concurrently.
	v.keys = map[string]*keyFetch{}
	fetch := func(s *arcSig) {
		k := keyID(s)
		if _, ok := v.keys[k]; ok {
			return
		}
		kf := &keyFetch{}
		v.keys[k] = kf
		// At once when the answer is at hand, else concurrently.
		sel, dom := s.selector, s.domain
		kf.done = resolver.Go(r, func(r resolver.Resolver) { kf.key, kf.err = v.opts.KeyCache.Lookup(ctx, r, sel, dom) })
	}
	fetch(ams)
	for i := n - 1; i >= 0; i-- {
		fetch(v.sets[i].seal)
	}
	if v.opts.BodyHashers != nil {
		v.body = v.opts.BodyHashers.Hasher(ams.bodyCanon, ams.hash, ams.length)
	} else {
		v.body = dkim.NewBodyHasher(ams.bodyCanon, ams.hash, ams.length)
	}
}

func keyID(s *arcSig) string {
	return strings.ToLower(s.selector) + "\x00" + strings.ToLower(s.domain)
}

// Write streams the message body (after the header block, CRLF or LF line
// endings) to the newest ARC-Message-Signature's body hash. It never
// fails. With Options.BodyHashers set it does nothing: the caller
// writes the body to that set.
func (v *Verifier) Write(p []byte) (int, error) {
	if v != nil && v.body != nil && v.opts.BodyHashers == nil {
		v.body.Write(p)
	}
	return len(p), nil
}

// Result finishes validation once the whole body has been written: the
// newest ARC-Message-Signature (RFC 8617 §5.2 step 4), then every
// ARC-Seal from the newest to the oldest (step 6). It waits for the key
// lookups, which end with the context given to NewVerifier.
func (v *Verifier) Result() Result {
	if v == nil {
		return Result{Status: None, Reason: "no ARC header fields"}
	}
	v.once.Do(v.finish)
	r := v.res
	r.Sets = append([]Set(nil), v.res.Sets...)
	return r
}

// failure is a failed step; temporary when only a DNS failure caused it.
type failure struct {
	instance int
	reason   string
	err      error
}

func (v *Verifier) finish() {
	if v.decided {
		v.res.Sets = v.publicSets()
		return
	}
	n := len(v.sets)
	var temp *failure
	record := func(f *failure) bool { // reports whether to stop
		if resolver.IsTemporary(f.err) {
			if temp == nil {
				temp = f
			}
			return false
		}
		v.res = Result{Status: Fail, FailedInstance: f.instance, Reason: f.reason, Err: f.err, Sets: v.publicSets()}
		return true
	}
	if f := v.verifyAMS(); f != nil && record(f) {
		return
	}
	for i := n; i >= 1; i-- {
		if f := v.verifySeal(i); f != nil && record(f) {
			return
		}
	}
	if temp != nil {
		v.res = Result{Status: Fail, FailedInstance: temp.instance, Reason: temp.reason, Err: temp.err,
			Temporary: true, Sets: v.publicSets()}
		return
	}
	seals := make([]string, 0, n)
	for i := n - 1; i >= 0; i-- {
		seals = append(seals, v.sets[i].seal.domain)
	}
	v.res = Result{Status: Pass, Sets: v.publicSets(),
		Reason: fmt.Sprintf("%d set(s), sealed by %s", n, strings.Join(seals, ", "))}
}

// key waits for the key of s and checks that it may sign mail.
func (v *Verifier) key(s *arcSig) (*dkim.Key, error) {
	kf := v.keys[keyID(s)]
	<-kf.done
	if kf.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, kf.err)
	}
	if !kf.key.ForEmail() {
		return nil, fmt.Errorf("%w: %w", ErrKey, dkim.ErrServiceNotAllowed)
	}
	return kf.key, nil
}

// checkSig verifies sig over digest with the key of s, classifying the
// error.
func (v *Verifier) checkSig(s *arcSig, digest []byte) error {
	k, err := v.key(s)
	if err != nil {
		return err
	}
	if err := k.Verify(s.algo, v.opts.Policy, digest, s.sig); err != nil {
		if errors.Is(err, dkim.ErrSignatureMismatch) {
			return fmt.Errorf("%w: %w", ErrSignature, err)
		}
		return fmt.Errorf("%w: %w", ErrKey, err)
	}
	return nil
}

// verifyAMS checks the newest ARC-Message-Signature like a DKIM signature
// (RFC 8617 §5.2 step 4, RFC 6376 §6.1.3).
func (v *Verifier) verifyAMS() *failure {
	n := len(v.sets)
	ams := v.sets[n-1].msgSig
	name := fmt.Sprintf("ARC-Message-Signature i=%d (d=%s s=%s)", n, ams.domain, ams.selector)
	body := v.body.Sum()
	if err := v.body.Err(); err != nil {
		// The body was cut (a size limit, the deadline) before the hash
		// had all it covers: no verdict on it, and ARC has no neutral.
		return &failure{n, name + ": body not verified: " + strings.TrimPrefix(err.Error(), "dkim: "), fmt.Errorf("%w: i=%d: %w", ErrBodyHash, n, err)}
	}
	if ams.length >= 0 && v.body.Length() < ams.length {
		return &failure{n, name + ": body shorter than l=", fmt.Errorf("%w: i=%d: %w", ErrBodyHash, n, dkim.ErrBodyTooShort)}
	}
	if !bytes.Equal(body, ams.bodyHash) {
		return &failure{n, name + ": body hash mismatch (body changed after the last seal)", fmt.Errorf("%w: i=%d", ErrBodyHash, n)}
	}
	err := v.checkSig(ams, amsDigest(v.h, ams, ams.headerCanon))
	if err != nil && ams.cAbsent && errors.Is(err, ErrSignature) {
		// Without c=, RFC 6376 §3.5 says simple; sealers that meant
		// relaxed exist (the public ARC suite's case ams_fields_c_na).
		// Either is a signature by the key holder, so accepting both
		// costs no security, one verification at most.
		err = v.checkSig(ams, amsDigest(v.h, ams, dkim.Relaxed))
	}
	if err != nil {
		return &failure{n, fmt.Sprintf("%s: %v", name, err), err}
	}
	return nil
}

// amsDigest hashes the header fields h= names and then the signature field
// itself with b= emptied and without its final CRLF (RFC 6376 §3.7). The
// signature field is left out of the selection: it did not exist when it
// was signed.
func amsDigest(h *message.Header, s *arcSig, hc dkim.Canonicalization) []byte {
	view := &message.Header{Fields: make([]message.Field, 0, len(h.Fields))}
	for i := range h.Fields {
		if &h.Fields[i] != s.field {
			view.Fields = append(view.Fields, h.Fields[i])
		}
	}
	hh := s.hash.New()
	for _, f := range dkim.SelectHeaders(view, s.headers) {
		hh.Write(dkim.CanonicalHeader(hc, f.Raw))
	}
	self := dkim.CanonicalHeader(hc, dkim.StripSignatureValue(s.field.Raw))
	hh.Write(bytes.TrimSuffix(self, []byte("\r\n")))
	return hh.Sum(nil)
}

// verifySeal checks the ARC-Seal of instance i (RFC 8617 §5.2 step 6).
func (v *Verifier) verifySeal(i int) *failure {
	seal := v.sets[i-1].seal
	parts := make([][]byte, 0, 3*i)
	for j := 0; j < i; j++ {
		s := v.sets[j]
		parts = append(parts, s.aar.field.Raw, s.ams.field.Raw, s.as.field.Raw)
	}
	if err := v.checkSig(seal, sealDigest(seal, parts)); err != nil {
		return &failure{i, fmt.Sprintf("ARC-Seal i=%d (d=%s s=%s): %v", i, seal.domain, seal.selector, err), err}
	}
	return nil
}

// sealDigest hashes the ARC set fields of instances 1..i, each set in the
// order AAR, AMS, AS, with relaxed header canonicalization; the last field,
// the seal being verified or made, has b= emptied and no final CRLF
// (RFC 8617 §5.1.1, §4.1.3).
func sealDigest(seal *arcSig, fields [][]byte) []byte {
	hh := seal.hash.New()
	for k, raw := range fields {
		if k == len(fields)-1 {
			c := dkim.CanonicalHeader(dkim.Relaxed, dkim.StripSignatureValue(raw))
			hh.Write(bytes.TrimSuffix(c, []byte("\r\n")))
			break
		}
		hh.Write(dkim.CanonicalHeader(dkim.Relaxed, raw))
	}
	return hh.Sum(nil)
}

// publicSets describes the sets for the result, when the structure allowed
// assembling them.
func (v *Verifier) publicSets() []Set {
	if len(v.sets) == 0 {
		return nil
	}
	out := make([]Set, 0, len(v.sets))
	for i, s := range v.sets {
		if s.aar == nil || s.ams == nil || s.as == nil {
			return nil
		}
		set := Set{Instance: i + 1, AuthServID: s.aar.authServID, Results: s.aar.results}
		set.SealDomain, _ = s.as.tags.Get("d")
		set.SealSelector, _ = s.as.tags.Get("s")
		cv, _ := s.as.tags.Get("cv")
		set.CV = Status(strings.ToLower(cv))
		set.AMSDomain, _ = s.ams.tags.Get("d")
		set.AMSSelector, _ = s.ams.tags.Get("s")
		set.SealDomain = domain.Normalize(set.SealDomain)
		set.AMSDomain = domain.Normalize(set.AMSDomain)
		if hv, ok := s.ams.tags.Get("h"); ok {
			for _, name := range strings.Split(hv, ":") {
				if name = strings.ToLower(strings.Trim(name, " \t\r\n")); name != "" {
					set.AMSHeaders = append(set.AMSHeaders, name)
				}
			}
		}
		out = append(out, set)
	}
	return out
}

// Verify validates the ARC chain of a whole message read from msg: the
// convenience form of NewVerifier. A zero opts.Time means now. A
// message without a header block has no chain (none). The error reports a
// message that could not be read; the result then says fail with the same
// error.
func Verify(ctx context.Context, r resolver.Resolver, msg io.Reader, opts *Options) (Result, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	opts = &o
	br := bufio.NewReader(msg)
	h, err := message.ReadHeader(br, message.Limits{})
	if errors.Is(err, message.ErrNoHeader) {
		return Result{Status: None, Reason: "no header fields"}, nil
	}
	if err != nil {
		err = fmt.Errorf("arc: reading message header: %w", err)
		return Result{Status: Fail, Reason: "message header unreadable", Err: err}, err
	}
	v := NewVerifier(ctx, r, h, opts)
	if _, err := io.Copy(v, br); err != nil {
		err = fmt.Errorf("arc: reading message body: %w", err)
		res := v.Result()
		return Result{Status: Fail, Reason: "message body unreadable", Err: err, Sets: res.Sets}, err
	}
	return v.Result(), nil
}
