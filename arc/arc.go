package arc

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/arfield"
	"github.com/mailtrust/mailtrust/message"
)

// Status is a chain validation status, spelled as RFC 8617 §4.4 and the
// "arc" method of Authentication-Results (RFC 8617 §10.1) spell it.
type Status string

// Chain validation statuses (RFC 8617 §4.4).
const (
	// None: the message carries no ARC header field.
	None Status = "none"
	// Pass: the chain is complete and every seal and the newest
	// message signature verify.
	Pass Status = "pass"
	// Fail: anything else. A key lookup that failed temporarily also
	// makes the chain fail (RFC 8617 §5.2.1 "All Failures Are
	// Permanent"); Result.Temporary then says that asking again might
	// have passed.
	Fail Status = "fail"
)

// DefaultMaxSets is the largest chain accepted: RFC 8617 §4.2.1
// "Instance tag values can range from 1-50".
const DefaultMaxSets = 50

// Header field names of an ARC set (RFC 8617 §4.1), as message.Field.Key
// holds them.
const (
	keyAAR = "arc-authentication-results"
	keyAMS = "arc-message-signature"
	keyAS  = "arc-seal"
)

// Errors. Result.Err wraps one of them; a key problem also wraps package
// dkim's error (and for a temporary failure the resolver's).
var (
	// ErrTooManySets: more ARC sets than the limit (RFC 8617 §5.2 step 1).
	ErrTooManySets = errors.New("arc: too many ARC sets")
	// ErrChainFailed: an ARC-Seal says cv=fail (RFC 8617 §5.2 steps 2
	// and 3.3); for Seal, the chain was already marked failed
	// (RFC 8617 §5.1 step 2).
	ErrChainFailed = errors.New("arc: ARC chain marked failed by a sealer")
	// ErrStructure: the sets are not one AAR, AMS and AS each for
	// instances 1 to N, or a cv= value is out of place (RFC 8617 §5.2
	// step 3).
	ErrStructure = errors.New("arc: ARC chain structure invalid")
	// ErrMalformed: an ARC header field does not parse or lacks a
	// required tag (RFC 8617 §4.1).
	ErrMalformed = errors.New("arc: malformed ARC header field")
	// ErrKey: the key of a seal or message signature cannot be used
	// (missing, revoked, malformed, unavailable, refused by policy).
	ErrKey = errors.New("arc: ARC key unusable")
	// ErrBodyHash: the newest ARC-Message-Signature's body hash does not
	// match: the body changed after the last seal.
	ErrBodyHash = errors.New("arc: ARC-Message-Signature body hash mismatch")
	// ErrSignature: a seal or message signature does not verify.
	ErrSignature = errors.New("arc: ARC signature did not verify")
	// ErrExpired: the newest ARC-Message-Signature's x= is before the
	// evaluation time (RFC 6376 §3.5, which RFC 8617 §4.1.2 imports).
	ErrExpired = errors.New("arc: ARC-Message-Signature expired")
	// ErrNoTime: the verifier was given no evaluation time, so that an
	// expired signature cannot be told from a valid one.
	ErrNoTime = errors.New("arc: no evaluation time (Options.Time)")
)

// Set is one ARC set as read from the message (RFC 8617 §4.2).
type Set struct {
	// Instance is i=, from 1 (the first sealer) upward.
	Instance int
	// SealDomain and SealSelector are d= and s= of the ARC-Seal: the
	// sealer, whose key signs the chain up to here.
	SealDomain, SealSelector string
	// CV is the chain validation status the sealer recorded.
	CV Status
	// AMSDomain and AMSSelector are d= and s= of the
	// ARC-Message-Signature.
	AMSDomain, AMSSelector string
	// AMSHeaders lists the header fields the ARC-Message-Signature
	// signs (h=), lower case.
	AMSHeaders []string
	// AuthServID is the authserv-id of the ARC-Authentication-Results:
	// who assessed the message on arrival at this hop.
	AuthServID string
	// Results are the parsed results of the ARC-Authentication-Results
	// (RFC 8601 methods; comments removed, unparseable results skipped).
	Results []authres.Result
}

// Result is the outcome of validating a message's ARC chain.
type Result struct {
	// Status is none, pass or fail (RFC 8617 §4.4).
	Status Status
	// Sets are the chain's sets, oldest (i=1) first, when the chain's
	// structure is valid; nil otherwise.
	Sets []Set
	// FailedInstance is the instance of the set that failed, 0 when none
	// did or the failure belongs to no single set.
	FailedInstance int
	// Reason says in a few words why the chain failed, or what passed.
	Reason string
	// Err is the cause of a failure, wrapping one of the package's
	// errors; nil on pass and none.
	Err error
	// Temporary reports that the chain failed only because a key lookup
	// failed temporarily: nothing failed for good. RFC 8617 §5.2.1 makes
	// the status fail even so, which is what a sealer must write in cv=,
	// but a receiver should treat the verdict as incomplete (defer, do not
	// count it as a failure), as it does any temporary DNS failure.
	Temporary bool
}

// AuthResult returns the result as an Authentication-Results entry, method
// "arc" (RFC 8617 §10.1).
func (r Result) AuthResult() authres.Result {
	v := r.Status
	if v == "" {
		v = None
	}
	// go-msgauth's formatter does not know *authres.ARCResult (it would
	// write the method name empty), so the result is written generically.
	return &authres.GenericResult{Method: "arc", Value: authres.ResultValue(v), Params: map[string]string{}}
}

// Options refine ARC validation. The zero value (or nil) is RFC 8617's
// defaults, except that NewVerifier needs Time.
type Options struct {
	// MaxSets is the largest chain accepted. Zero, and anything above
	// DefaultMaxSets, mean DefaultMaxSets (RFC 8617 §4.2.1).
	MaxSets int
	// Time is the evaluation time, normally the time of receipt: the
	// newest ARC-Message-Signature has expired when Time is past its x=
	// (plus ClockSkew), as for DKIM (RFC 6376 §3.5). NewVerifier
	// requires it: with a zero Time a chain fails with ErrNoTime, so that
	// a forgotten clock never lets an expired signature pass. Verify
	// uses the current time when it is zero.
	Time time.Time
	// ClockSkew is the tolerance for clocks that disagree, as in package
	// dkim. Zero: dkim.DefaultClockSkew; negative: none. A t= in the
	// future is not refused (RFC 6376 §3.5: verifiers "MAY ignore" such
	// signatures; signer clocks are often wrong).
	ClockSkew time.Duration
	// Policy is the crypto policy (minimum RSA size, rsa-sha1), as for
	// DKIM. The zero value is RFC 8301's.
	Policy dkim.Policy
	// BodyHashers, when set, is the message's set of body hashers shared
	// with its DKIM verifier (dkim.Options.BodyHashers): the newest
	// ARC-Message-Signature takes its hasher from it, the caller writes
	// the body to the set, and Verifier.Write does nothing. Nil: the
	// Verifier hashes the body written to it.
	BodyHashers *dkim.BodyHashers
	// KeyCache, when set, keeps parsed key records across messages, as
	// dkim.Options.KeyCache does (one cache may serve both).
	KeyCache *dkim.KeyCache
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxSets <= 0 || out.MaxSets > DefaultMaxSets {
		out.MaxSets = DefaultMaxSets
	}
	switch {
	case out.ClockSkew == 0:
		out.ClockSkew = dkim.DefaultClockSkew
	case out.ClockSkew < 0:
		out.ClockSkew = 0
	}
	return out
}

// arcField is one ARC header field, partly parsed.
type arcField struct {
	key      string // keyAAR, keyAMS or keyAS
	field    *message.Field
	instance int   // 0 when it could not be read
	err      error // why instance could not be read
	// AAR
	authServID string
	results    []authres.Result
	// AMS, AS
	tags dkim.TagList
}

// collectARC returns the ARC header fields of h, top to bottom, with their
// instances read. AMS and AS tag lists are parsed here (their i= is a
// tag); everything else is checked later, only where RFC 8617 §5.2 looks.
func collectARC(h *message.Header, limit int) (fields []*arcField, tooMany bool) {
	for i := range h.Fields {
		f := &h.Fields[i]
		switch f.Key {
		case keyAAR, keyAMS, keyAS:
		default:
			continue
		}
		if len(fields) >= limit {
			return fields, true
		}
		af := &arcField{key: f.Key, field: f}
		if f.Key == keyAAR {
			af.instance, af.authServID, af.results, af.err = parseAAR(f.Value())
		} else {
			af.tags, af.err = dkim.ParseTagList(f.Value())
			if af.err == nil {
				v, ok := af.tags.Get("i")
				if !ok {
					af.err = errors.New("no i= tag")
				} else {
					af.instance, af.err = parseInstance(v)
				}
			}
		}
		fields = append(fields, af)
	}
	return fields, false
}

// parseInstance reads an instance value: RFC 8617 §3.9 "position =
// 1*2DIGIT ; 1 - 50". Values above 50 are read (two digits allow them) and
// refused by the caller's limit.
func parseInstance(v string) (int, error) {
	if len(v) == 0 || len(v) > 2 {
		return 0, fmt.Errorf("instance %q is not 1 or 2 digits", v)
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("instance %q is not a number", v)
		}
		n = n*10 + int(v[i]-'0')
	}
	if n < 1 {
		return 0, fmt.Errorf("instance %q is not above 0", v)
	}
	return n, nil
}

// parseAAR reads an ARC-Authentication-Results value (RFC 8617 §4.1.1):
//
//	arc-info = instance [CFWS] ";" authres-payload
//	instance = [CFWS] %s"i" [CFWS] "=" [CFWS] position
func parseAAR(value string) (instance int, authServID string, results []authres.Result, err error) {
	v := strings.TrimLeft(arfield.StripComments(arfield.Unfold(value)), " \t")
	if !strings.HasPrefix(v, "i") {
		return 0, "", nil, errors.New("does not start with i=")
	}
	v = strings.TrimLeft(v[1:], " \t")
	if !strings.HasPrefix(v, "=") {
		return 0, "", nil, errors.New("does not start with i=")
	}
	v = strings.TrimLeft(v[1:], " \t")
	n := 0
	for n < len(v) && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	if instance, err = parseInstance(v[:n]); err != nil {
		return 0, "", nil, err
	}
	rest := strings.TrimLeft(v[n:], " \t")
	if !strings.HasPrefix(rest, ";") {
		return 0, "", nil, errors.New("no \";\" after the instance")
	}
	authServID, results = arfield.Parse(rest[1:])
	if authServID == "" {
		return 0, "", nil, errors.New("no authserv-id")
	}
	return instance, authServID, results, nil
}

// arcSig is a parsed ARC-Message-Signature or ARC-Seal.
type arcSig struct {
	field    *message.Field
	instance int
	algo     string
	hash     crypto.Hash
	sig      []byte
	domain   string
	selector string
	t, x     int64 // -1 when absent

	// ARC-Message-Signature only
	headerCanon, bodyCanon dkim.Canonicalization
	cAbsent                bool
	headers                []string
	bodyHash               []byte
	length                 int64 // l=, -1 when absent

	// ARC-Seal only
	cv Status
}

// parseSigCommon reads the tags an AMS and an AS share: a, b, d, s, t.
func parseSigCommon(af *arcField) (*arcSig, error) {
	s := &arcSig{field: af.field, instance: af.instance, t: -1, x: -1, length: -1}
	tags := af.tags
	a, ok := tags.Get("a")
	if !ok || a == "" {
		return nil, errors.New("no a= tag")
	}
	h, err := dkim.HashFor(a)
	if err != nil {
		return nil, err
	}
	s.algo, s.hash = strings.ToLower(a), h
	b, ok := tags.Get("b")
	if !ok {
		return nil, errors.New("no b= tag")
	}
	if s.sig, err = decodeB64(b); err != nil {
		return nil, fmt.Errorf("b=: %v", err)
	}
	if s.domain, ok = tags.Get("d"); !ok || s.domain == "" {
		return nil, errors.New("no d= tag")
	}
	if s.selector, ok = tags.Get("s"); !ok || s.selector == "" {
		return nil, errors.New("no s= tag")
	}
	if v, ok := tags.Get("t"); ok {
		if s.t, err = parseTime(v); err != nil {
			return nil, fmt.Errorf("t=: %v", err)
		}
	}
	return s, nil
}

// parseAMS reads an ARC-Message-Signature (RFC 8617 §4.1.2: the tags of a
// DKIM-Signature, RFC 6376 §3.5, with i= the instance and no v=).
func parseAMS(af *arcField) (*arcSig, error) {
	s, err := parseSigCommon(af)
	if err != nil {
		return nil, err
	}
	tags := af.tags
	bh, ok := tags.Get("bh")
	if !ok {
		return nil, errors.New("no bh= tag")
	}
	if s.bodyHash, err = decodeB64(bh); err != nil {
		return nil, fmt.Errorf("bh=: %v", err)
	}
	// RFC 6376 §3.5: c= absent is simple/simple. Some sealers (those the
	// public ARC test suite was made with) mean relaxed headers by it;
	// verifyAMS tries relaxed too when c= is absent (cAbsent).
	s.headerCanon, s.bodyCanon = dkim.Simple, dkim.Simple
	s.cAbsent = true
	if c, ok := tags.Get("c"); ok {
		s.cAbsent = false
		if c == "" {
			return nil, errors.New("empty c= tag")
		}
		if s.headerCanon, s.bodyCanon, err = dkim.ParseCanonicalization(c); err != nil {
			return nil, err
		}
	}
	hv, ok := tags.Get("h")
	if !ok {
		return nil, errors.New("no h= tag")
	}
	for _, name := range strings.Split(hv, ":") {
		name = strings.ToLower(strings.Trim(name, " \t\r\n"))
		if name == "" {
			continue
		}
		// RFC 8617 §4.1.2 forbids ARC header fields in h=. Signing an
		// ARC-Seal would tie the AMS to a seal over itself; the other ARC
		// fields are tolerated, as the public test suite expects.
		if name == keyAS {
			return nil, errors.New("h= signs ARC-Seal")
		}
		s.headers = append(s.headers, name)
	}
	if v, ok := tags.Get("x"); ok {
		if s.x, err = parseTime(v); err != nil {
			return nil, fmt.Errorf("x=: %v", err)
		}
		if s.t >= 0 && s.x < s.t {
			return nil, errors.New("x= before t=") // RFC 6376 §3.5 x=
		}
	}
	if v, ok := tags.Get("l"); ok {
		if s.length, err = parseTime(v); err != nil {
			return nil, fmt.Errorf("l=: %v", err)
		}
	}
	if q, ok := tags.Get("q"); ok && !strings.EqualFold(strings.Trim(q, " \t\r\n"), "dns/txt") {
		return nil, fmt.Errorf("%w: query method q=%s", dkim.ErrUnsupported, q)
	}
	return s, nil
}

// parseAS reads an ARC-Seal (RFC 8617 §4.1.3): a, b, cv, d, i, s, t; h=
// "is NOT allowed and if found, MUST result in a cv status of fail".
func parseAS(af *arcField) (*arcSig, error) {
	s, err := parseSigCommon(af)
	if err != nil {
		return nil, err
	}
	if _, ok := af.tags.Get("h"); ok {
		return nil, errors.New("ARC-Seal has an h= tag")
	}
	cv, ok := af.tags.Get("cv")
	if !ok {
		return nil, errors.New("no cv= tag")
	}
	switch st := Status(strings.ToLower(cv)); st {
	case None, Pass, Fail:
		s.cv = st
	default:
		return nil, fmt.Errorf("cv=%q is not none, pass or fail", cv)
	}
	return s, nil
}

// decodeB64 decodes a b= or bh= value: base64 with folding whitespace
// anywhere (RFC 6376 §3.5). Empty is an error.
func decodeB64(v string) ([]byte, error) {
	v = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, v)
	if v == "" {
		return nil, errors.New("empty")
	}
	out, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, errors.New("not base64")
	}
	return out, nil
}

// parseTime reads a t=, x= or l= value: 1 to 12 digits (RFC 6376 §3.5
// bounds timestamps to 12 digits; l= is 76 but nothing needs more).
func parseTime(v string) (int64, error) {
	if v == "" || len(v) > 12 {
		return 0, fmt.Errorf("%q is not 1 to 12 digits", v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, fmt.Errorf("%q is not a number", v)
	}
	return n, nil
}
