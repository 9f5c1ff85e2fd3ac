package dkim

import (
	"crypto"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrust/mailtrust/internal/domain"
	"github.com/mailtrust/mailtrust/message"
)

// signature is a DKIM-Signature field that passed RFC 6376 §6.1.1.
type signature struct {
	field       *message.Field
	algorithm   string
	hash        crypto.Hash
	bodyHash    []byte
	sig         []byte
	headerCanon Canonicalization
	bodyCanon   Canonicalization
	domain      string
	selector    string
	keyName     string // selector._domainkey.domain., checked
	idDomain    string // domain of i=
	headers     []string
	length      int64 // l=, -1 when absent
}

// parseSignature validates the DKIM-Signature field f (RFC 6376 §6.1.1)
// against the evaluation time and policy in o, recording in res what it
// finds even when it then fails. The error says why the signature cannot
// be verified; Status follows from it.
func parseSignature(h *message.Header, f *message.Field, res *Result, o *Options) (*signature, error) {
	tags, err := ParseTagList(f.Value())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	fillResult(h, tags, res)

	// RFC 6376 §6.1.1: v=1, compared as a string.
	switch v, ok := tags.Get("v"); {
	case !ok:
		return nil, fmt.Errorf("%w: no v=", ErrMalformed)
	case v != "1":
		return nil, fmt.Errorf("%w: version v=%s", ErrUnsupported, v)
	}
	for _, name := range [...]string{"a", "b", "bh", "d", "h", "s"} {
		if _, ok := tags.Get(name); !ok {
			return nil, fmt.Errorf("%w: no %s=", ErrMalformed, name)
		}
	}
	s := &signature{field: f, length: -1, domain: res.Domain, selector: res.Selector}
	s.algorithm = strings.ToLower(res.Algorithm)
	if s.hash, err = HashFor(s.algorithm); err != nil {
		return nil, err
	}
	b, _ := tags.Get("b")
	if s.sig, err = decodeBase64(stripFWS(b)); err != nil || len(s.sig) == 0 {
		return nil, fmt.Errorf("%w: b= is not base64", ErrMalformed)
	}
	bh, _ := tags.Get("bh")
	if s.bodyHash, err = decodeBase64(stripFWS(bh)); err != nil || len(s.bodyHash) == 0 {
		return nil, fmt.Errorf("%w: bh= is not base64", ErrMalformed)
	}
	c, _ := tags.Get("c")
	if s.headerCanon, s.bodyCanon, err = ParseCanonicalization(c); err != nil {
		return nil, err
	}
	if s.keyName, err = KeyName(s.selector, s.domain); err != nil {
		return nil, err
	}

	// h=: a non-empty list of field names that includes From.
	if len(res.SignedHeaders) == 0 {
		return nil, fmt.Errorf("%w: empty h=", ErrMalformed)
	}
	for _, n := range res.SignedHeaders {
		if !validFieldName(n) {
			return nil, fmt.Errorf("%w: h= names %q", ErrMalformed, n)
		}
	}
	if !res.FromSigned {
		// RFC 6376 §6.1.1: "If the "h=" tag does not include the From
		// header field, the Verifier MUST ignore the DKIM-Signature
		// header field and return PERMFAIL (From field not signed)."
		return nil, ErrFromNotSigned
	}
	s.headers = res.SignedHeaders

	// i=: defaults to @d=; its domain must be d= or below (RFC 6376 §3.5).
	s.idDomain = s.domain
	if i, ok := tags.Get("i"); ok {
		id, err := decodeQP(i)
		at := strings.LastIndexByte(id, '@')
		if err != nil || at < 0 {
			return nil, fmt.Errorf("%w: i=%s", ErrMalformed, i)
		}
		res.Identifier = id
		s.idDomain = id[at+1:]
		if !domain.IsSubdomain(s.idDomain, s.domain) {
			res.IdentifierOutsideDomain = true
			return nil, fmt.Errorf("%w: i=%s, d=%s", ErrIdentifierMismatch, id, s.domain)
		}
	}

	if l, ok := tags.Get("l"); ok {
		n, err := parseDigits(l, 76) // sig-l-tag: 1*76DIGIT
		if err != nil {
			return nil, fmt.Errorf("%w: l=%s", ErrMalformed, l)
		}
		s.length = n
	}

	// q=: unknown methods are ignored, but one must be dns/txt
	// (RFC 6376 §3.5 q=).
	if q, ok := tags.Get("q"); ok {
		known := false
		for _, m := range splitColonList(q) {
			known = known || strings.EqualFold(m, "dns/txt")
		}
		if !known {
			return nil, fmt.Errorf("%w: query method q=%s", ErrUnsupported, q)
		}
	}

	var ts, xs int64 = -1, -1
	if t, ok := tags.Get("t"); ok {
		if ts, err = parseDigits(t, 18); err != nil {
			return nil, fmt.Errorf("%w: t=%s", ErrMalformed, t)
		}
	}
	if x, ok := tags.Get("x"); ok {
		if xs, err = parseDigits(x, 18); err != nil {
			return nil, fmt.Errorf("%w: x=%s", ErrMalformed, x)
		}
		// RFC 6376 §3.5 x=: "MUST be greater than the value of the "t="
		// tag if both are present."
		if ts >= 0 && xs <= ts {
			return nil, fmt.Errorf("%w: x=%d not after t=%d", ErrMalformed, xs, ts)
		}
	}
	skew := o.ClockSkew
	if ts >= 0 {
		res.Timestamp = time.Unix(ts, 0).UTC()
		// RFC 6376 §3.5 t=: verifiers "MAY ignore signatures that have a
		// timestamp in the future". Signer clocks are often wrong; we
		// only report it.
		res.FutureTimestamp = res.Timestamp.After(o.Time.Add(skew))
	}
	if xs >= 0 {
		res.Expiration = time.Unix(xs, 0).UTC()
		// RFC 6376 §3.5 x=: judged at the time of receipt, with the same
		// tolerance for clock differences as t=.
		if o.Time.After(res.Expiration.Add(skew)) {
			return nil, fmt.Errorf("%w: x=%s, evaluated at %s", ErrExpired,
				res.Expiration.Format(time.RFC3339), o.Time.UTC().Format(time.RFC3339))
		}
	}

	// RFC 8301 §3.1: rsa-sha1 is refused before any DNS traffic.
	if s.hash == crypto.SHA1 && !o.Policy.AllowSHA1 {
		return nil, ErrWeakHash
	}
	return s, nil
}

// fillResult records the identifying tags in res, as written, so that a
// signature that fails still says whose it was.
func fillResult(h *message.Header, tags TagList, res *Result) {
	res.Domain, _ = tags.Get("d")
	res.Selector, _ = tags.Get("s")
	res.Algorithm, _ = tags.Get("a")
	if res.Domain != "" {
		res.Identifier = "@" + res.Domain
	}
	if b, ok := tags.Get("b"); ok {
		res.SignaturePrefix = fwsFreePrefix(b, 8)
	}
	hl, ok := tags.Get("h")
	if !ok || hl == "" {
		return
	}
	res.SignedHeaders = splitColonList(hl)
	// The fields a reader sees or that identify the message, sorted: how
	// many the header holds and how many h= signs, one pass over each.
	var have, signed [len(watchedFields)]int
	for i := range h.Fields {
		if k := watchedIndex(h.Fields[i].Key); k >= 0 {
			have[k]++
		}
	}
	for _, n := range res.SignedHeaders {
		if k := watchedIndex(n); k >= 0 {
			signed[k]++
		}
	}
	res.FromSigned = signed[watchedFrom] > 0
	// RFC 6376 §5.4.2, §8.15: an instance of a watched field beyond the
	// count h= names is unsigned, and bottom-up selection leaves it above
	// the signed ones, where a reader's client usually looks. A field h=
	// does not name at all is not that: it is merely unsigned, as the
	// signer chose (§5.4 requires only From), and is reported apart.
	// Naming a field more often than it occurs (over-signing, §8.15) is
	// the defence, never a fault.
	for k, n := range watchedFields {
		switch {
		case signed[k] > 0 && have[k] > signed[k]:
			res.UnsignedAbove = append(res.UnsignedAbove, n)
		case signed[k] == 0 && have[k] > 0 && k != watchedFrom:
			res.NotSigned = append(res.NotSigned, n)
		}
	}
}

// watchedFields are the fields Result.UnsignedAbove reports, sorted.
var watchedFields = [...]string{"cc", "date", "from", "message-id", "reply-to", "subject", "to"}

const watchedFrom = 2 // "from" in watchedFields

// watchedIndex returns the index of name in watchedFields, letter case
// ignored, or -1.
func watchedIndex(name string) int {
	for k, w := range watchedFields {
		if len(w) == len(name) && strings.EqualFold(w, name) {
			return k
		}
	}
	return -1
}

// fwsFreePrefix returns the first n octets of s that are not folding
// whitespace: a part of s when none is skipped, as in a value not folded
// there.
func fwsFreePrefix(s string, n int) string {
	s = trimFWS(s)
	k := 0
	for k < len(s) && k < n && !isFWS(s[k]) {
		k++
	}
	if k == n || k == len(s) {
		return s[:k]
	}
	t := stripFWS(s) // folded within the prefix: rare
	return t[:min(len(t), n)]
}

// validFieldName: 1*ftext, printable US-ASCII except colon (RFC 5322 §3.6.8).
func validFieldName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < 33 || n[i] > 126 || n[i] == ':' {
			return false
		}
	}
	return true
}

// parseDigits parses 1 to maxLen decimal digits. A value beyond int64 is
// math.MaxInt64: for l= that is longer than any body.
func parseDigits(s string, maxLen int) (int64, error) {
	if s == "" || len(s) > maxLen {
		return 0, errors.New("bad number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("bad number")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return math.MaxInt64, nil // only ErrRange is possible here
	}
	return n, nil
}

// decodeQP decodes dkim-quoted-printable (RFC 6376 §2.11): "=XX" hex
// escapes, FWS ignored.
func decodeQP(s string) (string, error) {
	s = stripFWS(s)
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("truncated escape")
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", err
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
