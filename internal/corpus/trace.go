package corpus

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// TraceReceiver lists the receiver hosts that Trace writes as: its MX and
// its mailbox server, in the form received.ParseReceiver reads.
const TraceReceiver = "mx.helpdesk.example,imap.helpdesk.example"

// Trace returns the trace fields the receiver of the sample corpus would
// have written on top of c's message (RFC 5321 §4.4), as Postfix at the
// MX and an LMTP delivery after it write them: Return-Path,
// X-Original-To, and two Received fields; lines end in CRLF. ptr is the
// client's PTR name as the MX resolved it ("" for none). The session facts
// read back from them are c's.
func Trace(c Case, ptr string) (string, error) {
	ip, at, err := c.Parsed()
	if err != nil {
		return "", err
	}
	if c.HELO == "" {
		return "", fmt.Errorf("corpus: case %s: no HELO to write in a from-clause", c.ID)
	}
	if at.IsZero() {
		at = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	}
	lit := "[" + ip.String() + "]"
	if ip.Is6() {
		lit = "[IPv6:" + ip.String() + "]"
	}
	if ptr == "" {
		ptr = "unknown"
	}
	h := fnv.New32a()
	h.Write([]byte(c.ID))
	id := fmt.Sprintf("%08X", h.Sum32())
	with := "ESMTPS"
	if c.Authenticated {
		with = "ESMTPSA" // RFC 3848 §2
	}
	date := at.UTC().Format("Mon, 2 Jan 2006 15:04:05 -0700")
	later := at.UTC().Add(time.Second).Format("Mon, 2 Jan 2006 15:04:05 -0700")
	rcpt0 := ""
	if len(c.RcptTo) > 0 {
		rcpt0 = " for <" + c.RcptTo[0] + ">"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", c.MailFrom)
	for _, r := range c.RcptTo {
		fmt.Fprintf(&b, "X-Original-To: %s\r\n", r)
	}
	fmt.Fprintf(&b, "Received: from mx.helpdesk.example\r\n\tby imap.helpdesk.example with LMTP id L%s%s; %s\r\n", id, rcpt0, later)
	fmt.Fprintf(&b, "Received: from %s (%s %s)\r\n\tby mx.helpdesk.example (Postfix) with %s id %s%s;\r\n\t%s\r\n", c.HELO, ptr, lit, with, id, rcpt0, date)
	return b.String(), nil
}
