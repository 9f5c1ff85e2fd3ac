package mailtrust_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"
	"time"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/trust"
)

// The examples answer DNS from the sample corpus's zone file and judge each
// message at its time of receipt, so their output never changes.
var receipt = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func evaluate(opts *trust.Options, conn trust.Conn, file string) *trust.Verdict {
	zone, err := resolver.LoadZone("testdata/corpus/zone.txt")
	if err != nil {
		log.Fatal(err)
	}
	opts.Resolver = zone
	msg, err := os.Open(file)
	if err != nil {
		log.Fatal(err)
	}
	defer msg.Close()
	conn.Time = receipt
	v, err := trust.New(opts).Evaluate(context.Background(), conn, msg)
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func show(v *trust.Verdict) {
	fmt.Println("verdict:", v.Level)
	fmt.Println("spf:", v.SPF.Status, v.SPF.Domain)
	for _, d := range v.DKIM {
		fmt.Println("dkim:", d.Status, d.Domain)
	}
	fmt.Println("dmarc:", v.DMARC.Status, v.DMARC.Policy)
	for _, r := range v.Reasons {
		fmt.Printf("  %+.2f %s\n", r.Weight, r.Code)
	}
}

// A legitimate message sent through an Amazon SES-style provider: a custom
// MAIL FROM subdomain authorized by include:, the domain's DKIM key
// delegated by CNAME to the provider, and a second signature by the
// provider itself.
func Example() {
	v := evaluate(&trust.Options{}, trust.Conn{
		IP:       netip.MustParseAddr("198.51.100.20"),
		HELO:     "a20-1.smtp-out.amazonses.example",
		MailFrom: "0100abc@bounce.shop.example",
		RcptTo:   []string{"support@helpdesk.example"},
	}, "testdata/corpus/msgs/ses-two-signatures.eml")
	show(v)
	// Output:
	// verdict: trusted
	// spf: pass bounce.shop.example
	// dkim: pass shop.example
	// dkim: pass amazonses.example
	// dmarc: pass quarantine
	//   -3.00 dmarc.pass
	//   -1.00 spf.pass
	//   -0.50 dkim.pass
	//   +0.50 helo.other-org
	//   -0.50 ptr.pass
	//   -0.25 helo.pass
}

// A forged From of a domain that publishes DMARC p=reject, sent from a
// host with no PTR that claims the domain's mail server in its HELO.
func Example_spoof() {
	v := evaluate(&trust.Options{}, trust.Conn{
		IP:       netip.MustParseAddr("203.0.113.66"),
		HELO:     "mail.example.com",
		MailFrom: "billing@example.com",
		RcptTo:   []string{"support@helpdesk.example"},
	}, "testdata/corpus/msgs/spoof-dmarc-fail.eml")
	show(v)
	// Output:
	// verdict: untrusted
	// spf: softfail example.com
	// dmarc: fail reject
	//   +6.50 dmarc.fail
	//   +3.00 conn.claims-other-org
	//   +1.50 ptr.none
	//   +1.50 spf.softfail
	//   +0.50 helo.fail
}

// A mailing list tags the subject and adds a footer, breaking the author's
// DKIM signature, and seals the message with ARC. The receiver trusts the
// list as a forwarder, so the original DMARC pass recorded by the list
// stands, and the override is reported.
func Example_forwardedList() {
	v := evaluate(&trust.Options{TrustedForwarders: []string{"lists.example.net"}}, trust.Conn{
		IP:       netip.MustParseAddr("203.0.113.30"),
		HELO:     "lists.example.net",
		MailFrom: "users-bounces@lists.example.net",
		RcptTo:   []string{"support@helpdesk.example"},
	}, "testdata/corpus/msgs/list-trusted-arc.eml")
	show(v)
	fmt.Println("arc:", v.ARC.Status, "forwarded:", v.Forward.Forwarded)
	// Output:
	// verdict: trusted
	// spf: pass lists.example.net
	// dkim: fail example.com
	// dmarc: fail reject
	//   -3.00 dmarc.pass
	//   -1.00 arc.trusted-forwarder
	//   -0.50 ptr.pass
	//   -0.50 ptr.related
	//   -0.25 helo.mx
	//   -0.25 helo.pass
	//   +0.00 dmarc.fail-forwarded
	//   +0.00 forward.detected
	// arc: pass forwarded: true
}
