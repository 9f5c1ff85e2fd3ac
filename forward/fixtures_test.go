package forward

import (
	"strings"
	"time"

	"github.com/miekg/dns"
)

const baseMsg = `From: Alice <alice@origin.example>
To: team@lists.example
Subject: Quarterly numbers
Date: Thu, 15 Jan 2026 09:00:00 +0000
Message-ID: <q1@origin.example>
MIME-Version: 1.0
Content-Type: text/plain

Hello team,
the numbers are in.
`

var (
	sealTime = time.Date(2026, time.January, 15, 9, 5, 0, 0, time.UTC)
	recvTime = time.Date(2026, time.January, 15, 10, 0, 0, 0, time.UTC)
)

func txtRR(name, val string) dns.RR {
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}}
	for len(val) > 255 {
		rr.Txt = append(rr.Txt, val[:255])
		val = val[255:]
	}
	rr.Txt = append(rr.Txt, val)
	return rr
}

// flipSig changes the first character of b=, breaking the signature.
func flipSig(raw string) string {
	i := strings.Index(raw, "b=")
	j := i + 2
	c := raw[j]
	r := byte('A')
	if c == 'A' {
		r = 'B'
	}
	return raw[:j] + string(r) + raw[j+1:]
}
