package forward

import (
	"bufio"
	"bytes"
	"net/netip"
	"testing"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/automated"
	"github.com/mailtrust/mailtrust/internal/testmail"
	"github.com/mailtrust/mailtrust/message"
)

// FuzzHeaderSignals: Detect, DetectAutomated and Rescue read any header
// without panicking.
func FuzzHeaderSignals(f *testing.F) {
	f.Add([]byte(testmail.PersonMessage), "SRS0=a=b=c=d@e.example")
	f.Add([]byte("List-Id: <\r\nSubject: [\r\nReceived: for for for by by\r\nAuthentication-Results: ; ; ;\r\n\r\n"), "")
	f.Add([]byte("From: ,,,<@>\r\nReply-To: \"\r\nContent-Type: multipart/report; x\r\nAuthentication-Results: lists.example (; dmarc=pass\r\n\r\n"), "<>")
	f.Fuzz(func(t *testing.T, raw []byte, mailFrom string) {
		h, _ := message.ReadHeader(bufio.NewReader(bytes.NewReader(raw)), message.Limits{})
		if h == nil {
			return
		}
		Detect(DetectInput{Header: h, From: message.ParseFrom(h), MailFrom: mailFrom, Rcpt: []string{mailFrom, "x@y.example"}, SPFStatus: "fail",
			DKIM: []DKIMOutcome{{Domain: "y.example", Status: "pass", BodyHashMismatch: true}}})
		automated.Detect(h, message.ParseFrom(h), mailFrom, &automated.Options{Partners: []string{"@y.example", mailFrom}})
		Rescue(h, message.ParseFrom(h), arc.Result{Status: arc.Pass, Sets: []arc.Set{{Instance: 1, SealDomain: "lists.example", AMSHeaders: []string{"from"}}}},
			Conn{IP: netip.MustParseAddr("192.0.2.1"), HELO: mailFrom, HELOPass: true}, Trust{Forwarders: []string{"lists.example", ""}})
	})
}
