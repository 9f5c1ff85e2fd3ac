package dkim

import (
	"bufio"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/authres"
	gmdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

var basicHeaders = []string{"From", "To", "Subject", "Date", "Message-ID"}

// gm returns go-msgauth sign options for d=example.com.
func gm(signer crypto.Signer, sel string, hc, bc gmdkim.Canonicalization) gmdkim.SignOptions {
	return gmdkim.SignOptions{
		Domain: "example.com", Selector: sel, Signer: signer,
		HeaderCanonicalization: hc, BodyCanonicalization: bc,
		HeaderKeys: basicHeaders,
	}
}

func with(o gmdkim.SignOptions, f func(*gmdkim.SignOptions)) gmdkim.SignOptions {
	f(&o)
	return o
}

func TestVerify(t *testing.T) {
	k := keys(t)
	z := testZone(t)
	now := time.Now() // go-msgauth stamps t= with the clock
	rr := gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed)
	ss := gm(k.rsaA, "rsa1", gmdkim.CanonicalizationSimple, gmdkim.CanonicalizationSimple)
	ed := gm(k.edA, "ed", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed)
	relaxedSigned := sign(t, testMessage, rr)
	simpleSigned := sign(t, testMessage, ss)
	crafted := func(signer crypto.Signer, tags string) func(t *testing.T) string {
		return func(t *testing.T) string { return craft(t, testMessage, signer, tags) }
	}
	signed := func(o gmdkim.SignOptions) func(t *testing.T) string {
		return func(t *testing.T) string { return sign(t, testMessage, o) }
	}
	fixed := func(s string) func(t *testing.T) string { return func(*testing.T) string { return s } }
	const relaxedTags = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rsa1; h=from:to:subject; bh={bh}; "

	tests := []struct {
		name   string
		msg    func(t *testing.T) string
		opts   Options // Time defaults to now
		status []Status
		err    []error // nil entries: no error
		check  func(t *testing.T, r []Result)
	}{
		{name: "rsa relaxed/relaxed", msg: fixed(relaxedSigned), status: []Status{StatusPass},
			check: func(t *testing.T, r []Result) {
				assert.Equal(t, "example.com", r[0].Domain)
				assert.Equal(t, "rsa1", r[0].Selector)
				assert.Equal(t, "rsa-sha256", r[0].Algorithm)
				assert.Equal(t, "@example.com", r[0].Identifier)
				assert.Equal(t, 2048, r[0].KeyBits)
				assert.Equal(t, basicHeaders, r[0].SignedHeaders)
				assert.True(t, r[0].FromSigned)
				assert.Empty(t, r[0].UnsignedAbove)
				assert.Equal(t, int64(-1), r[0].BodyLength)
				assert.Zero(t, r[0].UnsignedBodyBytes)
				assert.WithinDuration(t, now, r[0].Timestamp, 2*time.Second)
				assert.True(t, r[0].Expiration.IsZero())
				assert.False(t, r[0].Testing)
				assert.Len(t, r[0].SignaturePrefix, 8)
				assert.Empty(t, r[0].Reason)
			}},
		{name: "rsa simple/simple", msg: fixed(simpleSigned), status: []Status{StatusPass}},
		{name: "rsa relaxed/simple", msg: signed(gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationSimple)), status: []Status{StatusPass}},
		{name: "rsa simple/relaxed", msg: signed(gm(k.rsaA, "rsa1", gmdkim.CanonicalizationSimple, gmdkim.CanonicalizationRelaxed)), status: []Status{StatusPass}},
		{name: "ed25519", msg: signed(ed), status: []Status{StatusPass},
			check: func(t *testing.T, r []Result) { assert.Equal(t, 256, r[0].KeyBits) }},
		{name: "all headers signed (go-msgauth default)", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.HeaderKeys = nil })), status: []Status{StatusPass}},
		{name: "domain via CNAME and provider (SES style)",
			msg: func(t *testing.T) string {
				m := sign(t, testMessage, gm(k.rsaB, "sel", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
				return sign(t, m, with(ed, func(o *gmdkim.SignOptions) { o.Domain, o.Selector, o.Signer = "amazonses.example", "prov", k.edB }))
			},
			status: []Status{StatusPass, StatusPass},
			check: func(t *testing.T, r []Result) {
				assert.Equal(t, "amazonses.example", r[0].Domain, "top to bottom: the provider signed last")
				assert.Equal(t, "example.com", r[1].Domain)
				assert.Equal(t, "sel", r[1].Selector)
			}},
		{name: "body modified", msg: fixed(strings.Replace(relaxedSigned, "We lost", "We won", 1)),
			status: []Status{StatusFail}, err: []error{ErrBodyHashMismatch}},
		{name: "body modified, simple", msg: fixed(simpleSigned + "P.S. click here\r\n"),
			status: []Status{StatusFail}, err: []error{ErrBodyHashMismatch}},
		{name: "body whitespace changed, relaxed", msg: fixed(strings.Replace(relaxedSigned, "game.  Are", "game. \t Are", 1) + "\r\n\r\n"),
			status: []Status{StatusPass}},
		{name: "header modified", msg: fixed(strings.Replace(relaxedSigned, "Is dinner ready?", "Wire the money", 1)),
			status: []Status{StatusFail}, err: []error{ErrSignatureMismatch}},
		{name: "signed header refolded, relaxed", msg: fixed(strings.Replace(relaxedSigned, "Subject: Is dinner", "Subject:   Is\r\n\tdinner", 1)),
			status: []Status{StatusPass}},
		{name: "signed header refolded, simple", msg: fixed(strings.Replace(simpleSigned, "Subject: Is dinner", "Subject: Is\r\n dinner", 1)),
			status: []Status{StatusFail}, err: []error{ErrSignatureMismatch}},
		{name: "unsigned header added", msg: fixed("X-Mailer: whatever\r\n" + relaxedSigned), status: []Status{StatusPass}},
		{name: "key missing", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "missing" })),
			status: []Status{StatusPermerror}, err: []error{ErrKeyNotFound}},
		{name: "key NODATA", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "nodata" })),
			status: []Status{StatusPermerror}, err: []error{ErrKeyNotFound}},
		{name: "key revoked", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "revoked" })),
			status: []Status{StatusPermerror}, err: []error{ErrKeyRevoked}},
		{name: "key SERVFAIL", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "servfail" })),
			status: []Status{StatusTemperror}, err: []error{ErrKeyUnavailable},
			check: func(t *testing.T, r []Result) { assert.True(t, resolver.IsTemporary(r[0].Err)) }},
		{name: "rsa 512", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector, o.Signer = "short512", k.rsa512 })),
			status: []Status{StatusPermerror}, err: []error{ErrKeyTooShort},
			check: func(t *testing.T, r []Result) { assert.Equal(t, 512, r[0].KeyBits) }},
		{name: "rsa 768", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector, o.Signer = "short768", k.rsa768 })),
			status: []Status{StatusPermerror}, err: []error{ErrKeyTooShort}},
		{name: "rsa 1024", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector, o.Signer = "k1024", k.rsa1024 })),
			status: []Status{StatusPass}},
		{name: "rsa 1024 under a 2048 policy", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector, o.Signer = "k1024", k.rsa1024 })),
			opts: Options{Policy: Policy{MinRSABits: 2048}}, status: []Status{StatusPolicy}, err: []error{ErrKeyTooShort}},
		{name: "rsa-sha1", msg: crafted(k.rsaA, "v=1; a=rsa-sha1; c=relaxed/relaxed; d=example.com; s=rsa1; h=from:to:subject; bh={bh}; "),
			status: []Status{StatusPolicy}, err: []error{ErrWeakHash}},
		{name: "rsa-sha1 allowed", msg: crafted(k.rsaA, "v=1; a=rsa-sha1; c=relaxed/relaxed; d=example.com; s=rsa1; h=from:to:subject; bh={bh}; "),
			opts: Options{Policy: Policy{AllowSHA1: true}}, status: []Status{StatusPass}},
		{name: "key h=sha1 only", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "sha1only" })),
			status: []Status{StatusPermerror}, err: []error{ErrHashNotAllowed}},
		{name: "ed25519 signature, rsa key", msg: signed(with(ed, func(o *gmdkim.SignOptions) { o.Selector = "rsaforEd" })),
			status: []Status{StatusPermerror}, err: []error{ErrKeyAlgorithmMismatch}},
		{name: "key not for email", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "notmail" })),
			status: []Status{StatusPermerror}, err: []error{ErrServiceNotAllowed}},
		{name: "testing key", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "testing" })),
			status: []Status{StatusPass}, check: func(t *testing.T, r []Result) { assert.True(t, r[0].Testing) }},
		{name: "expired", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Expiration = now.Add(time.Hour) })),
			opts: Options{Time: now.Add(2 * time.Hour)}, status: []Status{StatusPermerror}, err: []error{ErrExpired},
			check: func(t *testing.T, r []Result) {
				assert.Equal(t, now.Add(time.Hour).Unix(), r[0].Expiration.Unix())
				assert.Zero(t, r[0].KeyBits, "no key lookup for an expired signature")
			}},
		{name: "not yet expired (same signature, earlier time)", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Expiration = now.Add(time.Hour) })),
			opts: Options{Time: now.Add(30 * time.Minute)}, status: []Status{StatusPass}},
		{name: "expired within the clock skew", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Expiration = now.Add(time.Hour) })),
			opts: Options{Time: now.Add(time.Hour + 4*time.Minute)}, status: []Status{StatusPass}},
		{name: "expired, no skew", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Expiration = now.Add(time.Hour) })),
			opts: Options{Time: now.Add(time.Hour + 4*time.Minute), ClockSkew: -1}, status: []Status{StatusPermerror}, err: []error{ErrExpired}},
		{name: "timestamp in the future is reported only", msg: fixed(relaxedSigned),
			opts: Options{Time: now.Add(-time.Hour)}, status: []Status{StatusPass},
			check: func(t *testing.T, r []Result) { assert.True(t, r[0].FutureTimestamp) }},
		{name: "x= not after t=", msg: crafted(k.rsaA, relaxedTags+"t=1700000000; x=1600000000; "),
			status: []Status{StatusPermerror}, err: []error{ErrMalformed}},
		{name: "l= with appended body", msg: func(t *testing.T) string {
			l := canonLen(t, Relaxed, testBody)
			return craft(t, testMessage, k.rsaA, relaxedTags+fmt.Sprintf("l=%d; ", l)) + "Click  here: https://evil.example/\r\n\r\n"
		}, status: []Status{StatusPass}, check: func(t *testing.T, r []Result) {
			assert.Equal(t, canonLen(t, Relaxed, testBody), r[0].BodyLength)
			assert.Equal(t, int64(len("Click here: https://evil.example/\r\n")), r[0].UnsignedBodyBytes)
		}},
		{name: "l= covering the whole body", msg: func(t *testing.T) string {
			return craft(t, testMessage, k.rsaA, relaxedTags+fmt.Sprintf("l=%d; ", canonLen(t, Relaxed, testBody)))
		}, status: []Status{StatusPass}, check: func(t *testing.T, r []Result) { assert.Zero(t, r[0].UnsignedBodyBytes) }},
		{name: "l=0", msg: crafted(k.rsaA, relaxedTags+"l=0; "), status: []Status{StatusPass},
			check: func(t *testing.T, r []Result) {
				assert.Equal(t, int64(0), r[0].BodyLength)
				assert.Equal(t, canonLen(t, Relaxed, testBody), r[0].UnsignedBodyBytes)
			}},
		{name: "l= longer than the body", msg: func(t *testing.T) string {
			return craft(t, testMessage, k.rsaA, relaxedTags+fmt.Sprintf("l=%d; ", canonLen(t, Relaxed, testBody)+10))
		}, status: []Status{StatusFail}, err: []error{ErrBodyTooShort},
			check: func(t *testing.T, r []Result) { assert.True(t, errors.Is(r[0].Err, ErrBodyHashMismatch)) }},
		{name: "l= huge", msg: crafted(k.rsaA, relaxedTags+"l=99999999999999999999999999; "),
			status: []Status{StatusFail}, err: []error{ErrBodyTooShort}},
		{name: "From not signed", msg: crafted(k.rsaA, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rsa1; h=to:subject; bh={bh}; "),
			status: []Status{StatusPermerror}, err: []error{ErrFromNotSigned},
			check: func(t *testing.T, r []Result) {
				assert.False(t, r[0].FromSigned)
				assert.Equal(t, "From not signed", r[0].Reason)
				assert.Equal(t, []string{"to", "subject"}, r[0].SignedHeaders)
			}},
		{name: "From prepended above the signed one", msg: fixed("From: CEO <ceo@example.com>\r\n" + relaxedSigned),
			status: []Status{StatusPass},
			check:  func(t *testing.T, r []Result) { assert.Equal(t, []string{"from"}, r[0].UnsignedAbove) }},
		{name: "several unsigned above", msg: fixed("Subject: urgent\r\nReply-To: x@evil.example\r\nFrom: CEO <ceo@example.com>\r\n" + relaxedSigned),
			status: []Status{StatusPass},
			check: func(t *testing.T, r []Result) {
				assert.Equal(t, []string{"from", "subject"}, r[0].UnsignedAbove)
				assert.Equal(t, []string{"reply-to"}, r[0].NotSigned, "h= never names Reply-To: unsigned, not added above a signed one")
			}},
		{name: "fields h= leaves out are unsigned, not above", msg: signed(with(rr, func(o *gmdkim.SignOptions) {
			o.HeaderKeys = []string{"From", "Subject"}
		})), status: []Status{StatusPass}, check: func(t *testing.T, r []Result) {
			assert.Empty(t, r[0].UnsignedAbove)
			assert.Equal(t, []string{"date", "message-id", "to"}, r[0].NotSigned)
		}},
		{name: "oversigned From is benign", msg: signed(with(rr, func(o *gmdkim.SignOptions) {
			o.HeaderKeys = []string{"From", "From", "Subject", "Subject", "Reply-To", "To", "Date", "Message-ID"}
		})), status: []Status{StatusPass}, check: func(t *testing.T, r []Result) { assert.Empty(t, r[0].UnsignedAbove) }},
		{name: "oversigned From catches a prepended From", msg: func(t *testing.T) string {
			return "From: CEO <ceo@example.com>\r\n" + sign(t, testMessage, with(rr, func(o *gmdkim.SignOptions) { o.HeaderKeys = []string{"From", "From", "Subject"} }))
		}, status: []Status{StatusFail}, err: []error{ErrSignatureMismatch}},
		{name: "i= subdomain", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Identifier = "joe@mail.example.com" })),
			status: []Status{StatusPass},
			check:  func(t *testing.T, r []Result) { assert.Equal(t, "joe@mail.example.com", r[0].Identifier) }},
		{name: "i= outside d=", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Identifier = "joe@evil.example" })),
			status: []Status{StatusPermerror}, err: []error{ErrIdentifierMismatch},
			check: func(t *testing.T, r []Result) { assert.True(t, r[0].IdentifierOutsideDomain) }},
		{name: "i= suffix but not subdomain", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Identifier = "joe@badexample.com" })),
			status: []Status{StatusPermerror}, err: []error{ErrIdentifierMismatch}},
		{name: "i= subdomain under a strict key", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector, o.Identifier = "strict", "joe@mail.example.com" })),
			status: []Status{StatusPermerror}, err: []error{ErrIdentifierMismatch},
			check: func(t *testing.T, r []Result) { assert.False(t, r[0].IdentifierOutsideDomain) }},
		{name: "i= exact under a strict key", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector, o.Identifier = "strict", "joe@example.com" })),
			status: []Status{StatusPass}},
		{name: "d= with NUL", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Domain = "example.com\x00.evil.example" })),
			status: []Status{StatusPermerror}, err: []error{ErrInvalidName},
			check: func(t *testing.T, r []Result) {
				assert.Equal(t, "example.com\x00.evil.example", r[0].Domain, "never cut")
			}},
		{name: "d= empty label", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Domain = "example..com" })),
			status: []Status{StatusPermerror}, err: []error{ErrInvalidName}},
		{name: "d= with space", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Domain = "exam ple.com" })),
			status: []Status{StatusPermerror}, err: []error{ErrInvalidName}},
		{name: "d= trailing dot", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Domain = "example.com." })),
			status: []Status{StatusPermerror}, err: []error{ErrInvalidName}},
		{name: "s= with NUL", msg: signed(with(rr, func(o *gmdkim.SignOptions) { o.Selector = "rsa1\x00x" })),
			status: []Status{StatusPermerror}, err: []error{ErrInvalidName}},
		{name: "LF line endings, relaxed", msg: fixed(strings.ReplaceAll(relaxedSigned, "\r\n", "\n")), status: []Status{StatusPass}},
		{name: "LF line endings, simple", msg: fixed(strings.ReplaceAll(simpleSigned, "\r\n", "\n")), status: []Status{StatusPass}},
		{name: "zero time", msg: fixed(relaxedSigned), opts: Options{Time: time.Time{}},
			status: []Status{StatusPermerror}, err: []error{ErrNoTime}},
		{name: "no signature", msg: fixed(testMessage), status: []Status{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Time.IsZero() && tt.name != "zero time" {
				opts.Time = now
			}
			res := verifyString(t, z, tt.msg(t), &opts)
			got := make([]Status, len(res))
			for i, r := range res {
				got[i] = r.Status
			}
			require.Equal(t, tt.status, got, "statuses; results %+v", res)
			for i, r := range res {
				var want error
				if i < len(tt.err) {
					want = tt.err[i]
				}
				if want == nil {
					assert.NoError(t, r.Err)
					continue
				}
				assert.True(t, errors.Is(r.Err, want), "result %d: got %v, want %v", i, r.Err, want)
				assert.NotEmpty(t, r.Reason)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// verifyString runs the Verifier over msg, as trust does: header first,
// then the body streamed.
func verifyString(t *testing.T, r resolver.Resolver, msg string, opts *Options) []Result {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	v := NewVerifier(context.Background(), r, h, opts)
	_, err = br.WriteTo(v)
	require.NoError(t, err)
	return v.Results()
}

func canonLen(t *testing.T, c Canonicalization, body string) int64 {
	t.Helper()
	return int64(len(canonBody(c, []byte(body))))
}

// Hand-written fields: the tag list is wrong before any cryptography.
func TestVerifyMalformed(t *testing.T) {
	z := testZone(t)
	const good = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rsa1; h=from:to; bh=AAAA; b=AAAA"
	tests := []struct {
		name  string
		value string
		err   error
	}{
		{"duplicate tag", good + "; d=example.com", ErrMalformed},
		{"not a tag list", "hello world", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"no v=", strings.Replace(good, "v=1; ", "", 1), ErrMalformed},
		{"v=2", strings.Replace(good, "v=1", "v=2", 1), ErrUnsupported},
		{"v=1.0", strings.Replace(good, "v=1", "v=1.0", 1), ErrUnsupported},
		{"no bh=", strings.Replace(good, "bh=AAAA; ", "", 1), ErrMalformed},
		{"no b=", strings.Replace(good, "; b=AAAA", "", 1), ErrMalformed},
		{"no a=", strings.Replace(good, "a=rsa-sha256; ", "", 1), ErrMalformed},
		{"no d=", strings.Replace(good, "d=example.com; ", "", 1), ErrMalformed},
		{"no s=", strings.Replace(good, "s=rsa1; ", "", 1), ErrMalformed},
		{"no h=", strings.Replace(good, "h=from:to; ", "", 1), ErrMalformed},
		{"empty h=", strings.Replace(good, "h=from:to", "h=", 1), ErrMalformed},
		{"empty name in h=", strings.Replace(good, "h=from:to", "h=from::to", 1), ErrMalformed},
		{"bad base64 b=", strings.Replace(good, "b=AAAA", "b=!!!!", 1), ErrMalformed},
		{"empty b=", strings.Replace(good, "b=AAAA", "b=", 1), ErrMalformed},
		{"bad base64 bh=", strings.Replace(good, "bh=AAAA", "bh=A\x00AA", 1), ErrMalformed},
		{"unknown a=", strings.Replace(good, "rsa-sha256", "rsa-sha512", 1), ErrUnsupported},
		{"unknown c=", strings.Replace(good, "relaxed/relaxed", "nowsp/relaxed", 1), ErrUnsupported},
		{"unknown q=", good + "; q=http/well-known", ErrUnsupported},
		{"bad l=", good + "; l=-5", ErrMalformed},
		{"bad t=", good + "; t=yesterday", ErrMalformed},
		{"bad x=", good + "; x=1e9", ErrMalformed},
		{"i= without @", good + "; i=example.com", ErrMalformed},
		{"bad i= escape", good + "; i=joe=Z1@example.com", ErrMalformed},
		{"invalid tag name", good + "; 9x=1", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := verifyString(t, z, "DKIM-Signature: "+tt.value+"\r\n"+testMessage, &Options{Time: time.Now()})
			require.Len(t, res, 1)
			assert.Equal(t, StatusPermerror, res[0].Status)
			assert.True(t, errors.Is(res[0].Err, tt.err), "got %v, want %v", res[0].Err, tt.err)
		})
	}

	// Known q= among unknown ones, and unknown tags, are fine: the
	// signature reaches the cryptography (and fails there).
	res := verifyString(t, z, "DKIM-Signature: "+good+"; q=foo/bar:dns/txt; zz=new\r\n"+testMessage, &Options{Time: time.Now()})
	assert.Equal(t, StatusFail, res[0].Status, "%v", res[0].Err)
}

func TestVerifyCap(t *testing.T) {
	k := keys(t)
	z := testZone(t)
	msg := testMessage
	for range 9 {
		msg = sign(t, msg, gm(k.edA, "ed", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	}
	res := verifyString(t, z, msg, &Options{Time: time.Now()})
	require.Len(t, res, 9)
	for i, r := range res[:8] {
		assert.Equal(t, StatusPass, r.Status, "signature %d", i)
	}
	assert.Equal(t, StatusNeutral, res[8].Status)
	assert.True(t, errors.Is(res[8].Err, ErrNotVerified))
	assert.Equal(t, "example.com", res[8].Domain, "reported, not verified")

	res = verifyString(t, z, msg, &Options{Time: time.Now(), MaxSignatures: 2})
	assert.Equal(t, StatusPass, res[1].Status)
	assert.Equal(t, StatusNeutral, res[2].Status)
}

// Thousands of signatures cost nothing beyond the cap: no lookups, no
// hashers.
func TestVerifyManySignatures(t *testing.T) {
	const field = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa1; h=from; bh=AAAA; b=AAAA\r\n"
	msg := strings.Repeat(field, 900) + testMessage
	br := bufio.NewReader(strings.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	v := NewVerifier(context.Background(), testZone(t), h, &Options{Time: time.Now()})
	assert.Equal(t, 1, v.bodies.Len(), "eight identical signatures share one body hasher")
	_, _ = br.WriteTo(v)
	res := v.Results()
	require.Len(t, res, 900)
	assert.Equal(t, StatusFail, res[7].Status)
	assert.Equal(t, StatusNeutral, res[8].Status)
}

func TestVerifierSharesHashers(t *testing.T) {
	k := keys(t)
	msg := sign(t, testMessage, gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	msg = sign(t, msg, gm(k.edA, "ed", gmdkim.CanonicalizationSimple, gmdkim.CanonicalizationRelaxed))
	msg = sign(t, msg, gm(k.edA, "ed", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationSimple))
	br := bufio.NewReader(strings.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	v := NewVerifier(context.Background(), testZone(t), h, &Options{Time: time.Now()})
	assert.Equal(t, 2, v.bodies.Len(), "relaxed body shared by two signatures, simple by one")
	_, _ = br.WriteTo(v)
	for _, r := range v.Results() {
		assert.Equal(t, StatusPass, r.Status, "%v", r.Err)
	}
	_, err = v.Write([]byte("late"))
	assert.Error(t, err, "Write after Results")
	assert.Len(t, v.Results(), 3, "Results again")
}

// The key lookups are bounded by the context given to NewVerifier.
func TestVerifierContext(t *testing.T) {
	k := keys(t)
	z := testZone(t)
	msg := sign(t, testMessage, gm(k.rsaA, "slow", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	msg = sign(t, msg, gm(k.edA, "ed", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	br := bufio.NewReader(strings.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	start := time.Now()
	v := NewVerifier(ctx, z, h, &Options{Time: time.Now()})
	_, _ = br.WriteTo(v)
	res := v.Results()
	assert.Less(t, time.Since(start), 900*time.Millisecond)
	require.Len(t, res, 2)
	assert.Equal(t, StatusPass, res[0].Status)
	assert.Equal(t, StatusTemperror, res[1].Status)
	assert.True(t, resolver.IsTemporary(res[1].Err), "%v", res[1].Err)
}

// Writes allocate nothing: the body is never buffered.
func TestVerifierWriteAllocs(t *testing.T) {
	k := keys(t)
	msg := sign(t, testMessage, gm(k.edA, "ed", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	msg = sign(t, msg, gm(k.edA, "ed", gmdkim.CanonicalizationSimple, gmdkim.CanonicalizationSimple))
	br := bufio.NewReader(strings.NewReader(msg))
	h, err := message.ReadHeader(br, message.Limits{})
	require.NoError(t, err)
	v := NewVerifier(context.Background(), testZone(t), h, &Options{Time: time.Now()})
	chunk := []byte(strings.Repeat("Some body text,  with\tspaces and a long line of it. \r\n\r\n", 100))
	allocs := testing.AllocsPerRun(100, func() { _, _ = v.Write(chunk) })
	assert.Zero(t, allocs)
}

func TestVerifyConvenience(t *testing.T) {
	k := keys(t)
	msg := sign(t, testMessage, gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	res, err := Verify(context.Background(), testZone(t), strings.NewReader(msg), nil)
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, StatusPass, res[0].Status, "a zero Time means now in Verify")

	res, err = Verify(context.Background(), testZone(t), strings.NewReader(testMessage), nil)
	require.NoError(t, err)
	assert.Empty(t, res)

	_, err = Verify(context.Background(), testZone(t), strings.NewReader(""), nil)
	assert.Error(t, err)
}

func TestAuthResults(t *testing.T) {
	k := keys(t)
	msg := sign(t, testMessage, gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	msg = sign(t, msg, with(gm(k.rsaA, "missing", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed), func(o *gmdkim.SignOptions) { o.Domain = "example.org" }))
	res := verifyString(t, testZone(t), msg, &Options{Time: time.Now()})
	s := authres.Format("mx.example.net", AuthResults(res))
	assert.Contains(t, s, "dkim=permerror reason=\"no key for signature: missing._domainkey.example.org\" header.a=rsa-sha256 header.b=")
	assert.Contains(t, s, "header.d=example.org header.i=@example.org header.s=missing")
	assert.Contains(t, s, "; dkim=pass header.a=rsa-sha256 header.b="+res[1].SignaturePrefix+" header.d=example.com header.i=@example.com header.s=rsa1")
	assert.Equal(t, "mx.example.net; dkim=none ", authres.Format("mx.example.net", AuthResults(nil)))
}

// craft's signatures verify with go-msgauth too, so that the l=, sha1 and
// From cases above rest on a signer checked independently.
func TestCraftCrossCheck(t *testing.T) {
	k := keys(t)
	z := testZone(t)
	for _, c := range []string{"relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"} {
		msg := craft(t, testMessage, k.rsaA, "v=1; a=rsa-sha256; c="+c+"; d=example.com; s=rsa1; h=from:to:subject:date:from; bh={bh}; ")
		vs, err := gmdkim.VerifyWithOptions(strings.NewReader(msg), &gmdkim.VerifyOptions{
			LookupTXT: func(name string) ([]string, error) {
				txts, _, err := resolver.TXT(context.Background(), z, name)
				return txts, err
			},
		})
		require.NoError(t, err)
		require.Len(t, vs, 1)
		assert.NoError(t, vs[0].Err, c)
	}
}

func FuzzVerify(f *testing.F) {
	k := keys(f)
	z := testZone(f)
	f.Add(sign(f, testMessage, gm(k.edA, "ed", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed)))
	f.Add(sign(f, testMessage, gm(k.rsaA, "rsa1", gmdkim.CanonicalizationSimple, gmdkim.CanonicalizationSimple)))
	f.Add(craft(f, testMessage, k.rsaA, "v=1; a=rsa-sha256; c=relaxed; d=example.com; s=rsa1; h=from:from; l=3; i=a=40b@example.com; bh={bh}; "))
	f.Add("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa1; h=from; bh=AAAA; b=AAAA\r\n\r\n")
	f.Fuzz(func(t *testing.T, msg string) {
		br := bufio.NewReader(strings.NewReader(msg))
		h, err := message.ReadHeader(br, message.Limits{})
		if err != nil {
			return
		}
		v := NewVerifier(context.Background(), z, h, &Options{Time: time.Unix(1700000000, 0)})
		_, _ = br.WriteTo(v)
		res := v.Results()
		if len(res) != h.Count("dkim-signature") {
			t.Fatalf("%d results for %d signatures", len(res), h.Count("dkim-signature"))
		}
		for _, r := range res {
			if r.Status == "" || (r.Status == StatusPass) != (r.Err == nil) {
				t.Fatalf("inconsistent result %+v", r)
			}
		}
	})
}

// TestHashingStopsWhenKeyFails: a signature whose key lookup failed no
// longer has its body hashed, unless another user of the same hasher (a
// second signature with a good key, an ARC verifier asking through
// BodyHashers.Hasher) still needs it.
func TestHashingStopsWhenKeyFails(t *testing.T) {
	k := keys(t)
	z := testZone(t)
	cases := []struct {
		name    string
		sels    []string // all relaxed/relaxed sha256: one hasher
		keep    bool     // the hasher is also asked for through Hasher
		hashing bool
	}{
		{"good key", []string{"rsa1"}, false, true},
		{"no key", []string{"missing"}, false, false},
		{"revoked key", []string{"revoked"}, false, false},
		{"servfail", []string{"servfail"}, false, false},
		{"one good, one missing", []string{"missing", "rsa1"}, false, true},
		{"two missing", []string{"missing", "revoked"}, false, false},
		{"missing, shared with ARC", []string{"missing"}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testMessage
			for _, sel := range tc.sels {
				m = sign(t, m, gm(k.rsaA, sel, gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
			}
			br := bufio.NewReader(strings.NewReader(m))
			h, err := message.ReadHeader(br, message.Limits{})
			require.NoError(t, err)
			var bodies BodyHashers
			v := NewVerifier(context.Background(), z, h, &Options{Time: time.Now(), BodyHashers: &bodies})
			require.Len(t, v.sigs, len(tc.sels))
			if tc.keep {
				bodies.Hasher(Relaxed, crypto.SHA256, -1)
			}
			for _, p := range v.sigs {
				<-p.key.done
			}
			require.Equal(t, 1, bodies.Len())
			for range 3 {
				bodies.Write([]byte("line\r\n"))
			}
			hashed := bodies.list[0].Length() > 0
			require.Equal(t, tc.hashing, hashed)
			rs := v.Results()
			if !tc.hashing {
				for _, r := range rs {
					require.NotEqual(t, StatusPass, r.Status)
				}
			}
		})
	}
}

// TestVerifyBodyCut: a body cut at a size limit leaves the signatures that
// cover the rest neutral (ErrBodyLimit), one whose l= was reached verifies;
// a body cut by the deadline leaves them temperror (ErrBodyUnread), and
// Verify stops reading.
func TestVerifyBodyCut(t *testing.T) {
	k := keys(t)
	z := testZone(t)
	whole := sign(t, testMessage, gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	limited := craft(t, testMessage, k.rsaA, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rsa1; h=from:to:subject; l=3; bh={bh}; ")
	cases := []struct {
		name   string
		msg    string
		cutAt  int // body octets written before the cut
		err    error
		status Status
	}{
		{"limit, whole body signed", whole, 10, ErrBodyLimit, StatusNeutral},
		{"limit, l= reached", limited, 10, ErrBodyLimit, StatusPass},
		{"limit, l= not reached", limited, 2, ErrBodyLimit, StatusNeutral},
		{"deadline, whole body signed", whole, 10, fmt.Errorf("%w: %w", ErrBodyUnread, context.DeadlineExceeded), StatusTemperror},
		{"no cut", whole, len(testBody), nil, StatusPass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.msg))
			h, err := message.ReadHeader(br, message.Limits{})
			require.NoError(t, err)
			var bodies BodyHashers
			v := NewVerifier(context.Background(), z, h, &Options{Time: time.Now(), BodyHashers: &bodies})
			bodies.Write([]byte(testBody[:tc.cutAt]))
			if tc.err != nil {
				bodies.Cut(tc.err)
			}
			bodies.Write([]byte(testBody[tc.cutAt:]))
			rs := v.Results()
			require.Len(t, rs, 1)
			require.Equal(t, tc.status, rs[0].Status, "%s", rs[0].Reason)
			if tc.status != StatusPass && tc.err != nil {
				require.ErrorIs(t, rs[0].Err, tc.err)
			}
		})
	}

	// Verify itself stops at the deadline, with a body it would otherwise
	// read for a long time.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	body := &slowBody{n: 1 << 30}
	start := time.Now()
	rs, err := Verify(ctx, z, io.MultiReader(strings.NewReader(whole[:strings.Index(whole, "\r\n\r\n")+4]), body), &Options{Time: time.Now()})
	require.NoError(t, err)
	require.Less(t, time.Since(start), 2*time.Second, "hashing 1 GiB takes several")
	require.Positive(t, body.n)
	require.Len(t, rs, 1)
	require.Equal(t, StatusTemperror, rs[0].Status, "%s", rs[0].Reason)
}

// slowBody is a body of n octets of text lines made as it is read.
type slowBody struct{ n int64 }

func (b *slowBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), b.n)]
	for i := range p {
		p[i] = "abcdefgh\r\n"[i%10]
	}
	b.n -= int64(len(p))
	return len(p), nil
}
