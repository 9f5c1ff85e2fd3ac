// Command gencorpus writes the sample replay corpus in testdata/corpus:
// messages signed (and ARC-sealed) with keys made for it, the zone data they
// need, and the cases with their expectations.
//
//	go run ./internal/cmd/gencorpus [-dir testdata/corpus] [-mailbox testdata/mailbox]
//
// It also writes the same messages as their receiver stored them, trace
// fields on top, to testdata/mailbox: a folder of .eml files, a Maildir and
// an mbox, with a cases.jsonl that spells out their session facts.
//
// Keys are kept in DIR/keys and reused, so running it again rewrites the
// same files byte for byte.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/internal/corpus"
	"github.com/mailtrust/mailtrust/internal/testmail"
)

// receipt is the time of receipt of every case; signatures are a minute
// older.
var receipt = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

type gen struct {
	dir   string
	keys  map[string]testmail.Key
	zone  []string
	cases []corpus.Case
}

func main() {
	dir := flag.String("dir", "testdata/corpus", "corpus `DIR`")
	mbox := flag.String("mailbox", "testdata/mailbox", "write the corpus messages as the receiver stored them to `DIR` (\"\": not)")
	flag.Parse()
	g := &gen{dir: *dir, keys: map[string]testmail.Key{}}
	for _, d := range []string{"keys", "msgs"} {
		if err := os.MkdirAll(filepath.Join(g.dir, d), 0o755); err != nil {
			log.Fatal(err)
		}
	}
	g.build()
	g.write()
	if *mbox != "" {
		if err := writeMailbox(g.dir, *mbox, g.cases); err != nil {
			log.Fatal(err)
		}
	}
}

func (g *gen) key(name, kind, domain, selector string) testmail.Key {
	s, err := testmail.LoadOrCreateKey(filepath.Join(g.dir, "keys", name+".pem"), kind)
	if err != nil {
		log.Fatal(err)
	}
	k := testmail.Key{Domain: domain, Selector: selector, Signer: s}
	g.keys[name] = k
	return k
}

func (g *gen) rr(lines ...string) { g.zone = append(g.zone, lines...) }

func must(b []byte, err error) []byte {
	if err != nil {
		log.Fatal(err)
	}
	return b
}

func (g *gen) sign(msg []byte, k testmail.Key, mod func(*testmail.SignOptions)) []byte {
	o := testmail.SignOptions{Key: k, Time: receipt.Add(-time.Minute), BodyLength: -1}
	if mod != nil {
		mod(&o)
	}
	return must(testmail.Sign(msg, o))
}

func (g *gen) add(c corpus.Case, msg []byte) {
	c.Message = "msgs/" + c.ID + ".eml"
	if c.Time == "" {
		c.Time = receipt.Format(time.RFC3339)
	}
	if c.RcptTo == nil {
		c.RcptTo = []string{"support@helpdesk.example"}
	}
	if err := os.WriteFile(filepath.Join(g.dir, c.Message), msg, 0o644); err != nil {
		log.Fatal(err)
	}
	g.cases = append(g.cases, c)
}

func yes() *bool { t := true; return &t }
func no() *bool  { f := false; return &f }

func mail(from, to, subject, id string, extra []string, body string) []byte {
	var b strings.Builder
	b.WriteString("From: " + from + "\n")
	b.WriteString("To: " + to + "\n")
	b.WriteString("Subject: " + subject + "\n")
	b.WriteString("Date: Thu, 15 Jan 2026 09:58:00 +0000\n")
	b.WriteString("Message-ID: <" + id + ">\n")
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n")
	b.WriteString(body)
	return testmail.CRLF(b.String())
}

const body = `Hello,

my order #4711 has not arrived yet. Could you please check where it is?

Thanks,
Alice
`

func (g *gen) build() {
	// The receiver and the legitimate senders.
	g.rr(
		"$ORIGIN helpdesk.example.",
		"@ 3600 IN MX 10 mx.helpdesk.example.",
		"mx 3600 IN A 192.0.2.1",
		"",
		"$ORIGIN example.com.",
		"@ 3600 IN MX 10 mail.example.com.",
		`@ 3600 IN TXT "v=spf1 mx ~all"`,
		"mail 3600 IN A 192.0.2.10",
		"mail 3600 IN AAAA 2001:db8::25",
		`mail 3600 IN TXT "v=spf1 a -all"`,
		`_dmarc 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"`,
		"$ORIGIN 2.0.192.in-addr.arpa.",
		"10 3600 IN PTR mail.example.com.",
		"$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.",
		"5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 3600 IN PTR mail.example.com.",
		"",
		"$ORIGIN example.org.",
		"@ 3600 IN MX 10 mx.example.org.",
		`@ 3600 IN TXT "v=spf1 ip4:192.0.2.16/28 -all"`,
		"mx 3600 IN A 192.0.2.20",
		`_dmarc 3600 IN TXT "v=DMARC1; p=quarantine"`,
		"$ORIGIN 2.0.192.in-addr.arpa.",
		"20 3600 IN PTR mx.example.org.",
		"",
		// SES style: custom MAIL FROM subdomain, DKIM key delegated by
		// CNAME to the provider, a second signature by the provider.
		"$ORIGIN shop.example.",
		"@ 3600 IN MX 10 inbound.shop.example.",
		"inbound 3600 IN A 192.0.2.40",
		`_dmarc 3600 IN TXT "v=DMARC1; p=quarantine; adkim=r; aspf=r"`,
		"bounce 3600 IN MX 10 feedback-smtp.amazonses.example.",
		`bounce 3600 IN TXT "v=spf1 include:amazonses.example ~all"`,
		"ses1._domainkey 3600 IN CNAME ses1.dkim.amazonses.example.",
		"$ORIGIN amazonses.example.",
		`@ 3600 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"`,
		"feedback-smtp 3600 IN A 198.51.100.2",
		"a20-1.smtp-out 3600 IN A 198.51.100.20",
		"$ORIGIN 100.51.198.in-addr.arpa.",
		"20 3600 IN PTR a20-1.smtp-out.amazonses.example.",
		"",
	)
	com := g.key("example.com-sel1", "rsa2048", "example.com", "sel1")
	org := g.key("example.org-ed1", "ed25519", "example.org", "ed1")
	ses := g.key("shop.example-ses1", "rsa2048", "ses1.dkim.amazonses.example", "x")
	prov := g.key("amazonses.example-prov", "rsa2048", "amazonses.example", "prov")
	g.rr(com.TXT(), org.TXT(), prov.TXT())
	// The delegated key lives at the CNAME target.
	g.rr("ses1.dkim.amazonses.example. 3600 IN TXT " + testmail.SplitTXT(ses.Record()))
	ses.Domain, ses.Selector = "shop.example", "ses1"

	// 1. Plain legitimate mail: mx SPF, RSA-2048 DKIM, DMARC reject.
	legit := g.sign(mail("Alice Example <alice@example.com>", "support@helpdesk.example", "Order #4711",
		"4711.1@example.com", nil, body), com, nil)
	g.add(corpus.Case{ID: "legit-rsa", IP: "192.0.2.10", HELO: "mail.example.com", MailFrom: "bounce@example.com",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"pass"}, DMARC: "pass", PTR: "pass", HELO: "pass", ARC: "none",
			Trusted: yes(), Forwarded: no(), Automated: no()}}, legit)

	// 2. The same sender over IPv6.
	g.add(corpus.Case{ID: "legit-ipv6", IP: "2001:db8::25", HELO: "mail.example.com", MailFrom: "bounce@example.com",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"pass"}, DMARC: "pass", PTR: "pass", HELO: "pass", Trusted: yes()}}, legit)

	// 3. ed25519 (RFC 8463).
	g.add(corpus.Case{ID: "legit-ed25519", IP: "192.0.2.20", HELO: "mx.example.org", MailFrom: "news@example.org",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"pass"}, DMARC: "pass", PTR: "pass", HELO: "pass", Trusted: yes()}},
		g.sign(mail("Example News <news@example.org>", "support@helpdesk.example", "Your ticket", "n1@example.org", nil, body), org, nil))

	// 4. SES style: two signatures, CNAME-delegated key, custom MAIL FROM.
	sesMsg := mail("Shop <orders@shop.example>", "support@helpdesk.example", "Your order shipped", "0100abc@email.amazonses.example", nil, body)
	sesMsg = g.sign(sesMsg, prov, nil)
	sesMsg = g.sign(sesMsg, ses, nil)
	g.add(corpus.Case{ID: "ses-two-signatures", IP: "198.51.100.20", HELO: "a20-1.smtp-out.amazonses.example",
		MailFrom: "0100abc@bounce.shop.example",
		Expect:   &corpus.Expect{SPF: "pass", DKIM: []string{"pass", "pass"}, DMARC: "pass", PTR: "pass", HELO: "pass", Trusted: yes()}}, sesMsg)

	// 5. A spoofed sender whose domain publishes no SPF, from a host with
	// no PTR and a HELO of localhost.
	g.rr("nospf.example. 3600 IN A 192.0.2.99")
	g.add(corpus.Case{ID: "spoof-no-spf", IP: "203.0.113.66", HELO: "localhost", MailFrom: "ceo@nospf.example",
		Expect: &corpus.Expect{SPF: "none", DKIM: []string{}, DMARC: "none", PTR: "none", HELO: "invalid", Trusted: no()}},
		mail("CEO <ceo@nospf.example>", "support@helpdesk.example", "Urgent wire transfer", "x1@nospf.example", nil, "Pay the invoice today.\n"))

	// 6. A forged From of a DMARC-reject domain.
	g.add(corpus.Case{ID: "spoof-dmarc-fail", IP: "203.0.113.66", HELO: "mail.example.com", MailFrom: "billing@example.com",
		Expect: &corpus.Expect{SPF: "softfail", DKIM: []string{}, DMARC: "fail", PTR: "none", HELO: "fail", Trusted: no()}},
		mail("Billing <billing@example.com>", "support@helpdesk.example", "Invoice overdue", "x2@example.com", nil, "Pay now.\n"))

	// 7. A tampered signed message from an unauthorized host.
	tampered := g.sign(mail("Example News <news@example.org>", "support@helpdesk.example", "Refund", "n2@example.org", nil, body), org, nil)
	tampered = bytes.Replace(tampered, []byte("my order #4711"), []byte("my order #9999"), 1)
	g.add(corpus.Case{ID: "tampered-dkim-spf-fail", IP: "203.0.113.66", HELO: "mx.example.org", MailFrom: "news@example.org",
		Expect: &corpus.Expect{SPF: "fail", DKIM: []string{"fail"}, DMARC: "fail", PTR: "none", HELO: "fail", Trusted: no()}}, tampered)

	// 8, 9. A mailing list that tags the subject and adds a footer
	// (breaking the author's DKIM and SPF), sealed with ARC by the list.
	g.rr(
		"$ORIGIN lists.example.net.",
		"@ 3600 IN A 203.0.113.30",
		"@ 3600 IN MX 10 lists.example.net.",
		`@ 3600 IN TXT "v=spf1 ip4:203.0.113.30 -all"`,
		"$ORIGIN 113.0.203.in-addr.arpa.",
		"30 3600 IN PTR lists.example.net.",
		"",
	)
	listKey := g.key("lists.example.net-arc1", "rsa2048", "lists.example.net", "arc1")
	g.rr(listKey.TXT())
	orig := g.sign(mail("Alice Example <alice@example.com>", "users@lists.example.net", "Release notes", "4711.2@example.com", nil, body), com, nil)
	listed := listify(orig)
	sealed := must(testmail.Seal(listed, arc.SealOptions{
		Domain: "lists.example.net", Selector: "arc1", Signer: listKey.Signer, Time: receipt.Add(-30 * time.Second),
		AuthServID:  "lists.example.net",
		AuthResults: []string{"spf=pass smtp.mailfrom=example.com", "dkim=pass header.d=example.com", "dmarc=pass header.from=example.com"},
		Headers:     []string{"From", "To", "Subject", "Date", "Message-ID", "List-Id"},
	}))
	listCase := corpus.Case{IP: "203.0.113.30", HELO: "lists.example.net", MailFrom: "users-bounces@lists.example.net",
		RcptTo: []string{"support@helpdesk.example"}}
	c := listCase
	c.ID, c.TrustedForwarders = "list-trusted-arc", []string{"lists.example.net"}
	c.Expect = &corpus.Expect{SPF: "pass", DKIM: []string{"fail"}, DMARC: "fail", ARC: "pass", PTR: "pass", HELO: "pass",
		Trusted: yes(), Forwarded: yes()}
	g.add(c, sealed)
	c = listCase
	c.ID, c.Message = "list-untrusted-arc", ""
	c.Expect = &corpus.Expect{SPF: "pass", DKIM: []string{"fail"}, DMARC: "fail", ARC: "pass", Trusted: no(), Forwarded: yes()}
	g.add(c, sealed)

	// 10. A plain forward with SRS: the author's DKIM survives.
	g.rr(
		"$ORIGIN fwd.test.",
		"@ 3600 IN MX 10 relay.fwd.test.",
		`@ 3600 IN TXT "v=spf1 a:relay.fwd.test -all"`,
		"relay 3600 IN A 203.0.113.40",
		"$ORIGIN 113.0.203.in-addr.arpa.",
		"40 3600 IN PTR relay.fwd.test.",
		"",
	)
	fwd := append([]byte("Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n\tby relay.fwd.test with ESMTPS; Thu, 15 Jan 2026 09:59:00 +0000\r\n"), legit...)
	g.add(corpus.Case{ID: "forwarded-srs", IP: "203.0.113.40", HELO: "relay.fwd.test",
		MailFrom: "SRS0=HHH=TT=example.com=bounce@fwd.test", RcptTo: []string{"support@helpdesk.example"},
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"pass"}, DMARC: "pass", PTR: "pass", HELO: "pass",
			Trusted: yes(), Forwarded: yes()}}, fwd)

	// 11. Another helpdesk's auto-reply: authentic, and automated.
	g.rr(
		"$ORIGIN vendor.example.",
		"@ 3600 IN MX 10 mail.vendor.example.",
		`@ 3600 IN TXT "v=spf1 ip4:198.51.100.60 -all"`,
		"mail 3600 IN A 198.51.100.60",
		`_dmarc 3600 IN TXT "v=DMARC1; p=none"`,
		"$ORIGIN 100.51.198.in-addr.arpa.",
		"60 3600 IN PTR mail.vendor.example.",
		"",
	)
	vendor := g.key("vendor.example-zd1", "rsa2048", "vendor.example", "zd1")
	g.rr(vendor.TXT())
	g.add(corpus.Case{ID: "automated-helpdesk", IP: "198.51.100.60", HELO: "mail.vendor.example", MailFrom: "support@vendor.example",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"pass"}, DMARC: "pass", PTR: "pass", HELO: "pass", Trusted: yes(), Automated: yes()}},
		g.sign(mail("Vendor Support <support@vendor.example>", "support@helpdesk.example", "[Request received] Order #4711", "zd-1@vendor.example",
			[]string{"Auto-Submitted: auto-replied", "X-Mailer: Zendesk Mailer", "X-Auto-Response-Suppress: All"},
			"Your request (#123) has been received and is being reviewed by our support staff.\n"), vendor, nil))

	// 12. A delivery status notification with the null reverse-path: the
	// HELO identity stands for SPF and for DMARC's SPF alignment.
	g.add(corpus.Case{ID: "dsn-null-sender", IP: "192.0.2.10", HELO: "mail.example.com", MailFrom: "",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{}, DMARC: "pass", PTR: "pass", HELO: "pass", Trusted: yes(), Automated: yes()}},
		mail("Mail Delivery System <MAILER-DAEMON@mail.example.com>", "support@helpdesk.example", "Undelivered Mail Returned to Sender",
			"dsn-1@mail.example.com", []string{"Auto-Submitted: auto-replied"}, "This is the mail system at host mail.example.com.\n"))

	// 13. A small sender on a residential line: authenticated by SPF,
	// but a generic PTR and a single-label HELO lower the trust.
	g.rr(
		"$ORIGIN smallbiz.example.",
		"@ 3600 IN MX 10 mail.smallbiz.example.",
		"mail 3600 IN A 192.0.2.77",
		`@ 3600 IN TXT "v=spf1 ip4:203.0.113.77 -all"`,
		"$ORIGIN isp.example.",
		"77-113-0-203.dyn 3600 IN A 203.0.113.77",
		"$ORIGIN 113.0.203.in-addr.arpa.",
		"77 3600 IN PTR 77-113-0-203.dyn.isp.example.",
		"",
	)
	g.add(corpus.Case{ID: "generic-ptr-bad-helo", IP: "203.0.113.77", HELO: "desktop-pc", MailFrom: "owner@smallbiz.example",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{}, DMARC: "none", PTR: "pass", HELO: "invalid", Trusted: yes()}},
		mail("Owner <owner@smallbiz.example>", "support@helpdesk.example", "Question", "q1@smallbiz.example", nil, body))

	// 14. A From domain that does not exist.
	g.add(corpus.Case{ID: "from-nxdomain", IP: "203.0.113.66", HELO: "mx.nonexistent.example", MailFrom: "info@nonexistent.example",
		Expect: &corpus.Expect{SPF: "none", DMARC: "none", PTR: "none", HELO: "none", Trusted: no()}},
		mail("Info <info@nonexistent.example>", "support@helpdesk.example", "Prize", "p1@nonexistent.example", nil, "You won.\n"))

	// 15. The DKIM key lookup fails temporarily: incomplete, not failed.
	g.rr(
		"$ORIGIN temp.example.",
		"@ 3600 IN MX 10 mail.temp.example.",
		`@ 3600 IN TXT "v=spf1 ip4:192.0.2.50 -all"`,
		"mail 3600 IN A 192.0.2.50",
		`_dmarc 3600 IN TXT "v=DMARC1; p=reject"`,
		"; servfail: sel1._domainkey.temp.example.",
		"$ORIGIN 2.0.192.in-addr.arpa.",
		"50 3600 IN PTR mail.temp.example.",
		"",
	)
	tempKey := g.key("temp.example-sel1", "rsa2048", "temp.example", "sel1")
	g.add(corpus.Case{ID: "dkim-key-temperror", IP: "192.0.2.50", HELO: "mail.temp.example", MailFrom: "ops@temp.example",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"temperror"}, DMARC: "pass", PTR: "pass", HELO: "pass", Trusted: yes()}},
		g.sign(mail("Ops <ops@temp.example>", "support@helpdesk.example", "Maintenance", "m1@temp.example", nil, body), tempKey, nil))

	// 16. A second From header prepended above a signed message.
	dup := append([]byte("From: CEO <ceo@example.com>\r\n"), g.sign(mail("Example News <news@example.org>", "support@helpdesk.example",
		"Payment", "n3@example.org", nil, body), org, nil)...)
	g.add(corpus.Case{ID: "duplicate-from", IP: "192.0.2.20", HELO: "mx.example.org", MailFrom: "news@example.org",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"pass"}, DMARC: "permerror", PTR: "pass", HELO: "pass", Trusted: no()}}, dup)

	// 17. The customer's own relay, authenticated on a connector.
	g.rr("app.example. 3600 IN A 203.0.113.5")
	g.add(corpus.Case{ID: "authenticated-relay", IP: "203.0.113.5", HELO: "[203.0.113.5]", MailFrom: "noreply@app.example",
		Authenticated: true,
		Expect:        &corpus.Expect{SPF: "none", DMARC: "none", PTR: "none", HELO: "pass", Trusted: yes()}},
		mail("App <noreply@app.example>", "support@helpdesk.example", "Nightly report", "r1@app.example", nil, "All jobs ran.\n"))

	// 18. A signature that expired before the time of receipt.
	g.add(corpus.Case{ID: "expired-signature", IP: "192.0.2.10", HELO: "mail.example.com", MailFrom: "bounce@example.com",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"permerror"}, DMARC: "pass", PTR: "pass", HELO: "pass", Trusted: yes()}},
		g.sign(mail("Alice Example <alice@example.com>", "support@helpdesk.example", "Old", "4711.3@example.com", nil, body), com,
			func(o *testmail.SignOptions) {
				o.Time = receipt.Add(-72 * time.Hour)
				o.Expire = receipt.Add(-24 * time.Hour)
			}))

	// 19. An end-of-data sequence with a bare LF inside a signed body
	// (SMTP smuggling).
	smuggled := body + "\n.\nMAIL FROM:<ceo@example.com>\nRCPT TO:<support@helpdesk.example>\nDATA\nFrom: ceo@example.com\n\nPay.\n"
	sm := mail("Alice Example <alice@example.com>", "support@helpdesk.example", "Hi", "4711.4@example.com", nil, body)
	sm = append(sm, []byte(strings.TrimPrefix(smuggled, body))...) // bare LFs kept
	g.add(corpus.Case{ID: "smtp-smuggling", IP: "192.0.2.10", HELO: "mail.example.com", MailFrom: "bounce@example.com",
		Expect: &corpus.Expect{SPF: "pass", DKIM: []string{"pass"}, DMARC: "pass", Trusted: no()}}, g.sign(sm, com, nil))
}

// listify turns a message into what a mailing list distributes: a subject
// tag, list headers, a footer.
func listify(msg []byte) []byte {
	s := string(msg)
	s = strings.Replace(s, "Subject: ", "Subject: [users] ", 1)
	s = strings.Replace(s, "\r\n\r\n", "\r\nList-Id: Users <users.lists.example.net>\r\nList-Post: <mailto:users@lists.example.net>\r\nSender: users-bounces@lists.example.net\r\n\r\n", 1)
	s += "-- \r\nusers mailing list\r\nhttps://lists.example.net/users\r\n"
	return []byte(s)
}

func (g *gen) write() {
	zone := strings.Join(g.zone, "\n") + "\n"
	hdr := "; Sample corpus DNS, as it was at the time of receipt. Written by internal/cmd/gencorpus.\n"
	if err := os.WriteFile(filepath.Join(g.dir, "zone.txt"), []byte(hdr+zone), 0o644); err != nil {
		log.Fatal(err)
	}
	var b bytes.Buffer
	for _, c := range g.cases {
		line, err := json.Marshal(c)
		if err != nil {
			log.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(g.dir, "cases.jsonl"), b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	ids := make([]string, 0, len(g.cases))
	for _, c := range g.cases {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	fmt.Printf("wrote %d cases: %s\n", len(ids), strings.Join(ids, " "))
}
