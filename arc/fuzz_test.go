package arc_test

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// FuzzVerifyARC: any message, against an empty DNS, never panics, never
// hangs and never passes (there is no key to pass with).
func FuzzVerifyARC(f *testing.F) {
	f.Add([]byte(testmail.ListMessage))
	f.Add([]byte("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=s; b=AAAA\r\nARC-Message-Signature: i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA\r\nARC-Authentication-Results: i=1; x.example; dmarc=pass\r\nFrom: a@b.example\r\n\r\nbody\r\n"))
	f.Add([]byte("ARC-Authentication-Results: i=99 ; (c;) x; spf=pass\r\n\r\n"))
	f.Add([]byte("ARC-Seal: ;;\r\n\r\n"))
	z := resolver.NewZone()
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := arc.Verify(ctx, z, bytes.NewReader(msg), &arc.Options{Time: testmail.ReceiveTime()})
		switch res.Status {
		case arc.None, arc.Fail:
		default:
			t.Fatalf("status %q without keys", res.Status)
		}
		if res.Temporary {
			t.Fatal("temporary failure from an answering zone")
		}
		if res.Status == arc.Fail && res.Err == nil {
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
	k := testmail.NewEd25519Key(f, "fuzz.example", "ed")
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
		out, err := arc.Seal(h, bytes.NewReader(body), arc.SealOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer,
			AuthServID: "fuzz.example", AuthResults: []string{"spf=pass"}, Time: testmail.SealTime()})
		if err != nil {
			t.Fatal(err)
		}
		z := testmail.Zone(k)
		sealed := append(out, msg...)
		res := testmail.VerifyARC(t, z, sealed, testmail.ReceiveTime())
		if res.Status != arc.Pass {
			t.Fatalf("sealed message does not verify: %s (%v)\n%q", res.Reason, res.Err, sealed)
		}
		res = testmail.VerifyARC(t, z, append(sealed, "\r\nextra words\r\n"...), testmail.ReceiveTime())
		if res.Status != arc.Fail {
			t.Fatalf("changed body still verifies")
		}
	})
}
