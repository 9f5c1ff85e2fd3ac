package arc

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// FuzzVerifyARC: any message, against an empty DNS, never panics, never
// hangs and never passes (there is no key to pass with).
func FuzzVerifyARC(f *testing.F) {
	f.Add([]byte(baseMsg))
	f.Add([]byte("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=s; b=AAAA\r\nARC-Message-Signature: i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA\r\nARC-Authentication-Results: i=1; x.example; dmarc=pass\r\nFrom: a@b.example\r\n\r\nbody\r\n"))
	f.Add([]byte("ARC-Authentication-Results: i=99 ; (c;) x; spf=pass\r\n\r\n"))
	f.Add([]byte("ARC-Seal: ;;\r\n\r\n"))
	z := resolver.NewZone()
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := Verify(ctx, z, bytes.NewReader(msg), &Options{Time: recvTime})
		switch res.Status {
		case None, Fail:
		default:
			t.Fatalf("status %q without keys", res.Status)
		}
		if res.Temporary {
			t.Fatal("temporary failure from an answering zone")
		}
		if res.Status == Fail && res.Err == nil {
			t.Fatal("fail without an error")
		}
		if err != nil && res.Err == nil {
			t.Fatal("error not reported in the result")
		}
	})
}

// FuzzSealRoundTrip: whatever the body and subject, a sealed message
// verifies, and a changed body does not.
func FuzzSealRoundTrip(f *testing.F) {
	f.Add("Quarterly numbers", []byte("Hello\r\n"))
	f.Add("", []byte(""))
	f.Add("  tabs\tand  spaces ", []byte(" \t\r\n\r\n\r\n"))
	f.Add("x", []byte("no final newline"))
	f.Add("y", []byte("bare\nLF\n\nlines \n"))
	k := newEd25519Key(f, "fuzz.example", "ed")
	f.Fuzz(func(t *testing.T, subject string, body []byte) {
		subject = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == 0 {
				return ' '
			}
			return r
		}, subject)
		msg := append([]byte("From: a@fuzz.example\r\nSubject: "+subject+"\r\n\r\n"), body...)
		h, err := message.ReadHeader(bufio.NewReader(bytes.NewReader(msg)), message.Limits{})
		if err != nil {
			return
		}
		out, err := Seal(h, bytes.NewReader(body), SealOptions{Domain: k.domain, Selector: k.selector, Signer: k.signer,
			AuthServID: "fuzz.example", AuthResults: []string{"spf=pass"}, Time: sealTime})
		if err != nil {
			t.Fatal(err)
		}
		z := zoneOf(t, k)
		sealed := append(out, msg...)
		res := verifyAt(t, z, sealed, recvTime)
		if res.Status != Pass {
			t.Fatalf("sealed message does not verify: %s (%v)\n%q", res.Reason, res.Err, sealed)
		}
		res = verifyAt(t, z, append(sealed, "\r\nextra words\r\n"...), recvTime)
		if res.Status != Fail {
			t.Fatalf("changed body still verifies")
		}
	})
}

// FuzzParseAAR: the ARC-Authentication-Results parser never panics and
// returns only valid instances.
func FuzzParseAAR(f *testing.F) {
	for _, s := range []string{"i=1; lists.example; spf=pass", " i = 7 ;x", "i=1 x;", "lists.example; i=1", "i=1; (a;b) id; dkim=pass (c) header.d=x", "i=100; x", "i=0; x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, id, _, err := parseAAR(s)
		if err != nil {
			return
		}
		if n < 1 || n > 99 || id == "" || strings.ContainsAny(id, " \t;") {
			t.Fatalf("parseAAR(%q) = %d, %q", s, n, id)
		}
	})
}
