// Command consumer is a program of another module that calls the main
// entry point of every public package of mailtrust. TestExternalModule
// builds and runs it: an exported identifier that takes or returns a type
// of an internal package would not compile here ("use of internal package
// not allowed").
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/automated"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/dmarc"
	"github.com/mailtrust/mailtrust/forward"
	"github.com/mailtrust/mailtrust/helo"
	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/mailbox"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/milter"
	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/sender"
	"github.com/mailtrust/mailtrust/smtptrust"
	"github.com/mailtrust/mailtrust/spf"
	"github.com/mailtrust/mailtrust/trust"
)

const zoneText = `$ORIGIN example.com.
@        300 IN MX  10 mail.example.com.
@        300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
mail     300 IN A   192.0.2.10
_dmarc   300 IN TXT "v=DMARC1; p=reject"
$ORIGIN 2.0.192.in-addr.arpa.
10       300 IN PTR mail.example.com.
`

const raw = "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: hi\r\nDate: Thu, 15 Jan 2026 09:58:00 +0000\r\nMessage-ID: <m1@example.com>\r\n\r\nHello.\r\n"

func main() {
	ctx := context.Background()
	at := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	ip := netip.MustParseAddr("192.0.2.10")

	zone := resolver.NewZone()
	if err := zone.ReadMasterFile(strings.NewReader(zoneText), ".", "zone"); err != nil {
		fail(err)
	}
	var r resolver.Resolver = resolver.NewCache(zone)

	h, err := message.ReadHeader(bufio.NewReader(strings.NewReader(raw)), message.Limits{})
	if err != nil {
		fail(err)
	}
	from := message.ParseFrom(h)

	s := spf.Check(ctx, r, ip, "mail.example.com", "bounce@example.com", nil)
	p := ptr.Check(ctx, r, ip, &ptr.Options{SenderDomains: []string{"example.com"}})
	hl := helo.Check(ctx, r, "mail.example.com", ip, &helo.Options{SenderDomain: "example.com"})
	ex := sender.Check(ctx, r, from.Domain)
	rc := sender.Recipients(ctx, r, h, 0)

	sigs, err := dkim.Verify(ctx, r, strings.NewReader(raw), &dkim.Options{Time: at})
	if err != nil {
		fail(err)
	}
	dv := dkim.NewVerifier(ctx, r, h, &dkim.Options{Time: at})
	_, _ = dv.Write([]byte("Hello.\r\n"))
	_ = dv.Results()
	_ = dkim.SelectHeaders(h, []string{"from"})

	disc := dmarc.Lookup(ctx, r, from.Domain)
	dm := dmarc.Evaluate(disc, dmarc.Identifiers{SPFDomain: s.Domain, SPFPass: s.Status == spf.StatusPass}, nil)

	pub, key, _ := ed25519.GenerateKey(nil)
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "arc._domainkey.lists.example.com.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300},
		Txt: []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}})
	sealed, err := arc.Seal(h, strings.NewReader("Hello.\r\n"), arc.SealOptions{
		Domain: "lists.example.com", Selector: "arc", Signer: key, AuthServID: "lists.example.com", Time: at,
	})
	if err != nil {
		fail(err)
	}
	chain, err := arc.Verify(ctx, r, bytes.NewReader(append(sealed, raw...)), &arc.Options{Time: at})
	if err != nil {
		fail(err)
	}
	av := arc.NewVerifier(ctx, r, h, &arc.Options{Time: at})
	_ = av.Result()

	fw := forward.Detect(forward.DetectInput{Header: h, From: from, MailFrom: "bounce@example.com", SPFStatus: s.Status})
	orig, _ := forward.Rescue(h, from, chain, forward.Conn{IP: ip}, forward.Trust{Forwarders: []string{"lists.example.com"}})
	au := automated.Detect(h, from, "bounce@example.com", nil)

	ev := trust.New(&trust.Options{Resolver: r})
	v, err := ev.Evaluate(ctx, trust.Conn{IP: ip, HELO: "mail.example.com", MailFrom: "bounce@example.com",
		RcptTo: []string{"bob@example.com"}, Time: at}, strings.NewReader(raw))
	if err != nil {
		fail(err)
	}
	_ = v.From

	// Stored mail: an mbox, its session facts from the receiver's trace.
	rcv, err := received.ParseReceiver("mx.example.net,198.51.100.0/24")
	if err != nil {
		fail(err)
	}
	hop := received.Parse("from mail.example.com (mail.example.com [192.0.2.10]) by mx.example.net with ESMTPS id 1; Thu, 15 Jan 2026 09:59:00 +0000")
	mb := mailbox.NewMbox(strings.NewReader("From a@example.com Thu Jan 15 09:59:00 2026\nReturn-Path: <bounce@example.com>\n"+
		"Received: from mail.example.com (mail.example.com [192.0.2.10]) by mx.example.net with ESMTPS id 1; Thu, 15 Jan 2026 09:59:00 +0000\n"+
		strings.ReplaceAll(raw, "\r\n", "\n")), "inbox")
	stored := trust.New(&trust.Options{Resolver: r, Receiver: rcv})
	n := 0
	for {
		m, err := mb.Next()
		if err != nil {
			break
		}
		sv, err := stored.Evaluate(ctx, trust.Conn{}, m.Body)
		if err != nil {
			fail(err)
		}
		n++
		fmt.Println("stored", m.ID, sv.Conn.IP, sv.SPF.Status)
	}

	// In the mail flow: the reply and the fields a receiver adds.
	reply := inbound.Policy{Reject: trust.Untrusted}.Decide(v)
	_ = milter.NewServer(&milter.Options{Evaluator: ev, Receiver: rcv})
	_ = smtptrust.New(nil, &smtptrust.Options{Evaluator: ev})

	fmt.Println("spf", s.Status, "ptr", p.Status, "helo", hl.Status, "sender", ex.Status, len(rc))
	fmt.Println("dkim", len(sigs), "dmarc", dm.Status, "arc", chain.Status, "forwarded", fw.Forwarded, "rescued", orig != nil, "automated", au.Automated)
	fmt.Println("verdict", v.Level, v.DMARC.Status, "reply", reply.Code, "hop", hop.From.IP, "messages", n)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
