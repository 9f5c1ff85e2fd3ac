package smtptrust_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	netsmtp "net/smtp"
	"os"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mailtrust/mailtrust/inbound"
	"github.com/mailtrust/mailtrust/received"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/smtptrust"
	"github.com/mailtrust/mailtrust/trust"
)

// inbox is the delivery code of a Go SMTP server. Its sessions implement
// smtptrust.Deliverer, so they get the verdict with the message.
type inbox struct{}

func (inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return inboxSession{}, nil }

type inboxSession struct{}

func (inboxSession) Reset()                               {}
func (inboxSession) Logout() error                        { return nil }
func (inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (inboxSession) Data(r io.Reader) error               { return nil } // not called: Deliver is
func (inboxSession) Deliver(v *trust.Verdict, r io.Reader) error {
	fmt.Println("delivered, verdict", v.Level)
	top := bufio.NewScanner(r)
	for i := 0; i < 2 && top.Scan(); i++ {
		fmt.Println(" ", top.Text()) // the two fields mailtrust put on top
	}
	io.Copy(io.Discard, r)
	return nil
}

// A Go SMTP server behind the receiver's front MTA: every message is
// judged before the inbox sees it, by the outside client that the front
// MTA's Received field names (the front MTA, here on loopback, is among the
// receiver's hosts, so it is not judged itself); untrusted mail is refused
// with 550, and the inbox gets the verdict and the message with its
// Authentication-Results on top. DNS comes from the sample corpus's zone,
// and the clock is the corpus's time of receipt.
func Example() {
	zone, err := resolver.LoadZone("../testdata/corpus/zone.txt")
	if err != nil {
		panic(err)
	}
	// The receiver's own hosts: its front MTA, for the adapter not to judge
	// it, and for the Evaluator to read the hop before it from the trace.
	own, err := received.ParseReceiver("127.0.0.0/8,mx1.helpdesk.example")
	if err != nil {
		panic(err)
	}
	be := smtptrust.New(inbox{}, &smtptrust.Options{
		Evaluator: trust.New(&trust.Options{Resolver: zone, AuthServID: "mx.helpdesk.example", Receiver: own}),
		Policy:    inbound.Policy{Reject: trust.Untrusted, TempfailIncomplete: true},
		Receiver:  own,
		Now:       func() time.Time { return time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) },
	})
	srv := smtp.NewServer(be)
	srv.Domain = "mx2.helpdesk.example"
	srv.MaxMessageBytes = 10 << 20 // the adapter holds each message once
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	send := func(file, hop, from string) {
		msg, err := os.ReadFile("../testdata/corpus/msgs/" + file)
		if err != nil {
			panic(err)
		}
		msg = append([]byte("Received: from "+hop+"\r\n\tby mx1.helpdesk.example; Thu, 15 Jan 2026 09:59:59 +0000\r\n"), msg...)
		err = netsmtp.SendMail(ln.Addr().String(), nil, from, []string{"support@helpdesk.example"}, msg)
		fmt.Println(file, "sent:", err)
	}
	send("legit-rsa.eml", "mail.example.com (mail.example.com [192.0.2.10])", "bounce@example.com")
	send("spoof-no-spf.eml", "localhost (unknown [203.0.113.66])", "ceo@nospf.example")
	// Output:
	// delivered, verdict trusted
	//   Authentication-Results: mx.helpdesk.example; spf=pass reason="192.0.2.10 matched mx in example.com's record" smtp.mailfrom=bounce@example.com; dkim=pass header.a=rsa-sha256 header.b=rPW76Cfx header.d=example.com header.i=@example.com header.s=sel1; dmarc=pass reason="aligned DKIM d=example.com" header.from=example.com; arc=none; iprev=pass reason="mail.example.com. resolves to 192.0.2.10" policy.iprev=192.0.2.10
	//   X-Mailtrust-Verdict: trusted score=-5.5 reasons=dmarc.pass,spf.pass,ptr.pass,ptr.related,helo.mx,helo.pass
	// legit-rsa.eml sent: <nil>
	// spoof-no-spf.eml sent: 550 "5.7.1 message refused: untrusted sender (auth.none, auth.from-unaligned, helo.invalid)"
}
