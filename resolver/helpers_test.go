package resolver_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
)

// testZoneText is the DNS most tests share: a zone with an SOA
// (example.org.), one without (example.), reverse data, aliases, a
// wildcard, a loop and faults.
const testZoneText = `
$ORIGIN example.org.
@               3600 IN SOA  ns.example.org. hostmaster.example.org. 1 7200 3600 1209600 300
@               3600 IN TXT  "v=spf1 ip4:192.0.2.0/24 -all"
@               3600 IN MX   10 mail.example.org.
mail            3600 IN A    192.0.2.10
mail            3600 IN AAAA 2001:db8::10
split            600 IN TXT  "v=DKIM1; k=rsa; " "p=MIIBIjAN" "BgkqhkiG9w0BAQEF"
alias            300 IN CNAME mail.example.org.
alias2           120 IN CNAME alias
dangling         300 IN CNAME nowhere.example.org.
*.wild           900 IN TXT  "wildcard"
loop1                IN CNAME loop2
loop2                IN CNAME loop1
tobroken         300 IN CNAME broken
; servfail: broken
; timeout: slow
$ORIGIN 2.0.192.in-addr.arpa.
10              3600 IN PTR  mail.example.org.
$ORIGIN example.
a.b              300 IN A    192.0.2.1
other            300 IN CNAME mail.example.org.
`

// testZone parses testZoneText; timeout faults wait timeout.
func testZone(t testing.TB) *resolver.Zone {
	t.Helper()
	z := resolver.NewZone()
	require.NoError(t, z.ReadMasterFile(strings.NewReader(testZoneText), ".", "test"))
	return z
}

// describe renders an answer canonically (records sorted) so that answers
// from different resolvers can be compared as strings.
func describe(a *resolver.Answer) string {
	if a == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s rcode=%s ttl=%d\n", a.Name, resolver.TypeString(a.Type), dns.RcodeToString[a.Rcode], a.TTL)
	for _, c := range a.CNAMEs {
		fmt.Fprintf(&b, "cname %s\n", c)
	}
	var recs []string
	for _, rr := range a.Records {
		recs = append(recs, rr.String())
	}
	slices.Sort(recs)
	for _, r := range recs {
		fmt.Fprintf(&b, "rr %s\n", r)
	}
	if a.SOA != nil {
		fmt.Fprintf(&b, "soa %s minttl=%d\n", a.SOA.Hdr.Name, a.SOA.Minttl)
	}
	return b.String()
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	require.NoError(t, err)
	return rr
}
