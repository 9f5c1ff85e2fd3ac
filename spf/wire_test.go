package spf

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// TestIPv6AddressFailure: for an IPv6 client, a temporary failure of the
// AAAA question is a temperror even when A answered (RFC 7208 §5: A
// records cannot match it, so a no-match would be a guess, and ~all would
// turn the failure into softfail); a failure of A alone does not hide the
// AAAA records, and changes nothing for a, mx and ptr.
func TestIPv6AddressFailure(t *testing.T) {
	const zoneText = `
$ORIGIN v6fail.example.
@     IN TXT  "v=spf1 mx ~all"
@     IN MX   10 mail.v6fail.example.
mail  IN A    192.0.2.25
mail  IN AAAA 2001:db8::25
`
	cases := []struct {
		name   string
		fail   uint16 // the question at mail.v6fail.example. answered SERVFAIL
		client string
		want   Status
	}{
		{"no failure", 0, "2001:db8::25", StatusPass},
		{"AAAA fails", dns.TypeAAAA, "2001:db8::25", StatusTemperror},
		{"AAAA fails, other client", dns.TypeAAAA, "2001:db8::99", StatusTemperror},
		{"A fails", dns.TypeA, "2001:db8::25", StatusPass},
		{"A fails, other client", dns.TypeA, "2001:db8::99", StatusSoftfail},
		{"AAAA fails, IPv4 client", dns.TypeAAAA, "192.0.2.25", StatusPass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z := resolver.NewZone()
			if err := z.ReadMasterFile(strings.NewReader(zoneText), ".", "v6fail"); err != nil {
				t.Fatal(err)
			}
			srv := resolvertest.Start(t, z)
			srv.Inject(func(q resolver.Question, _ string) resolvertest.Injection {
				return resolvertest.Injection{Servfail: q.Name == "mail.v6fail.example." && q.Type == tc.fail}
			})
			r := Check(context.Background(), resolvertest.Client(t, srv), addr(tc.client), "mail.v6fail.example", "a@v6fail.example", nil)
			if r.Status != tc.want {
				t.Errorf("status %s, want %s (%s)", r.Status, tc.want, r.Reason)
			}
		})
	}
}
