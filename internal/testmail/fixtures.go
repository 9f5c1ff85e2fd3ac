package testmail

import (
	"bytes"
	"context"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/resolver"
)

// ListMessage is the author's message to a mailing list that the ARC and
// forwarding tests sign, seal and edit: origin.example writes,
// lists.example relays. Its keys are in the repository's testdata/keys.
const ListMessage = `From: Alice <alice@origin.example>
To: team@lists.example
Subject: Quarterly numbers
Date: Thu, 15 Jan 2026 09:00:00 +0000
Message-ID: <q1@origin.example>
MIME-Version: 1.0
Content-Type: text/plain

Hello team,
the numbers are in.
`

// PersonMessage is a person's message to a person, with the Received
// fields of its two hops: the benign base of the forwarding and
// automated-mail tables.
const PersonMessage = `Received: from mail.origin.example (mail.origin.example [192.0.2.10])
 by mx.receiver.example with ESMTPS id abc for <bob@receiver.example>;
 Thu, 15 Jan 2026 09:00:05 +0000
Received: from [10.0.0.5] by mail.origin.example with ESMTPSA id def;
 Thu, 15 Jan 2026 09:00:01 +0000
From: Alice <alice@origin.example>
To: Bob <bob@receiver.example>
Subject: Lunch?
Date: Thu, 15 Jan 2026 09:00:00 +0000
Message-ID: <l1@origin.example>

Shall we?
`

// SealTime is when the list seals ListMessage, five minutes after its
// Date.
func SealTime() time.Time { return time.Date(2026, time.January, 15, 9, 5, 0, 0, time.UTC) }

// ReceiveTime is when the receiver judges ListMessage, within the
// signatures' validity.
func ReceiveTime() time.Time { return time.Date(2026, time.January, 15, 10, 0, 0, 0, time.UTC) }

// LoadKey reads the PKCS#8 PEM key at path, to be published at
// selector._domainkey.domain; a key that cannot be read fails tb.
func LoadKey(tb testing.TB, path, domain, selector string) Key {
	tb.Helper()
	s, err := ReadKey(path)
	if err != nil {
		tb.Fatal(err)
	}
	return Key{Domain: domain, Selector: selector, Signer: s}
}

// NewEd25519Key makes a fresh ed25519 key (cheap, for long chains).
func NewEd25519Key(tb testing.TB, domain, selector string) Key {
	tb.Helper()
	s, err := NewKey("ed25519")
	if err != nil {
		tb.Fatal(err)
	}
	return Key{Domain: domain, Selector: selector, Signer: s}
}

// TXTRecord is a TXT record for name holding value, split into 255-octet
// strings (RFC 1035 §3.3.14).
func TXTRecord(name, value string) dns.RR {
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}}
	for len(value) > 255 {
		rr.Txt = append(rr.Txt, value[:255])
		value = value[255:]
	}
	rr.Txt = append(rr.Txt, value)
	return rr
}

// Zone publishes the keys' DKIM records (RFC 6376 §3.6.2.1) in a new zone.
func Zone(keys ...Key) *resolver.Zone {
	z := resolver.NewZone()
	for _, k := range keys {
		z.Add(TXTRecord(k.Selector+"._domainkey."+k.Domain, k.Record()))
	}
	return z
}

// SignMsgauth signs msg relaxed/relaxed with go-msgauth's DKIM signer,
// independent of this module's, over From, To, Subject, Date and
// Message-ID; an error fails tb.
func SignMsgauth(tb testing.TB, msg []byte, k Key) []byte {
	tb.Helper()
	var out bytes.Buffer
	err := msgdkim.Sign(&out, bytes.NewReader(msg), &msgdkim.SignOptions{
		Domain: k.Domain, Selector: k.Selector, Signer: k.Signer,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed,
		BodyCanonicalization:   msgdkim.CanonicalizationRelaxed,
		HeaderKeys:             []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// SealSet adds an ARC set to msg with arc.Seal (RFC 8617 §5.1), sealed by
// k for authServID with chain status cv, the results and the time at, and
// returns the sealed message; an error fails tb.
func SealSet(tb testing.TB, msg []byte, k Key, authServID string, cv arc.Status, results []string, at time.Time) []byte {
	tb.Helper()
	out, err := Seal(msg, arc.SealOptions{
		Domain: k.Domain, Selector: k.Selector, Signer: k.Signer,
		AuthServID: authServID, AuthResults: results, ChainStatus: cv, Time: at,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// VerifyARC validates msg's ARC chain (RFC 8617 §5.2) against r at time
// at; an error fails tb.
func VerifyARC(tb testing.TB, r resolver.Resolver, msg []byte, at time.Time) arc.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := arc.Verify(ctx, r, bytes.NewReader(msg), &arc.Options{Time: at})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}
