package forward_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/forward"
	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
)

// A list seals a message it forwards; the receiver validates the chain and,
// trusting the list, recovers the authentication the list recorded.
func ExampleRescue() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	zone := resolver.NewZone()
	zone.Add(&dns.TXT{Hdr: dns.RR_Header{Name: "arc._domainkey.lists.example.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300},
		Txt: []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}})

	msg := "From: Alice <alice@origin.example>\r\nTo: team@lists.example\r\nSubject: [team] Hello\r\n\r\nHello team.\r\n"
	br := bufio.NewReader(strings.NewReader(msg))
	h, _ := message.ReadHeader(br, message.Limits{})
	set, err := arc.Seal(h, br, arc.SealOptions{
		Domain: "lists.example", Selector: "arc", Signer: priv, AuthServID: "lists.example",
		AuthResults: []string{"spf=pass smtp.mailfrom=origin.example", "dkim=pass header.d=origin.example", "dmarc=pass header.from=origin.example"},
		Time:        time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sealed := append(set, msg...)

	res, _ := arc.Verify(context.Background(), zone, bytes.NewReader(sealed),
		&arc.Options{Time: time.Date(2026, 1, 15, 9, 1, 0, 0, time.UTC)})
	fmt.Println("arc:", res.Status)

	h2, _ := message.ReadHeader(bufio.NewReader(bytes.NewReader(sealed)), message.Limits{})
	orig, _ := forward.Rescue(h2, message.ParseFrom(h2), res, forward.Conn{}, forward.Trust{Forwarders: []string{"lists.example"}})
	fmt.Printf("via %s, i=%d, dmarc=%s for %s\n", orig.Via, orig.Instance, orig.DMARC, orig.FromDomain)
	// Output:
	// arc: pass
	// via arc, i=1, dmarc=pass for origin.example
}

func ExampleDetect() {
	msg := "From: Alice <alice@origin.example>\r\nTo: team@lists.example\r\nList-Id: Team <team.lists.example>\r\nSubject: [team] Hello\r\n\r\nHello.\r\n"
	h, _ := message.ReadHeader(bufio.NewReader(strings.NewReader(msg)), message.Limits{})
	fw := forward.Detect(forward.DetectInput{Header: h, From: message.ParseFrom(h), MailFrom: "team-bounces@lists.example", Rcpt: []string{"bob@receiver.example"}})
	fmt.Println(fw.Forwarded, fw.Forwarder)
	for _, s := range fw.Signals {
		fmt.Println(s.Code)
	}
	// Output:
	// true team.lists.example
	// list.list-id
	// list.subject-tag
	// rcpt.not-in-to-cc
}
