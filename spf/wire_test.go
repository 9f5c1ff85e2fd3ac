package spf

import (
	"context"
	"errors"
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

// TestRecordLookupRcodes: the lookup of an SPF record, the checked
// domain's or an include or redirect target's, that the server answers
// with an rcode other than NOERROR and NXDOMAIN, or not at all, is
// temperror (RFC 7208 §4.4), whatever the resolver calls the failure; a
// question the evaluation's DNS budget refuses is permerror (spf.go
// budgetFailure), at a record as in a mechanism.
func TestRecordLookupRcodes(t *testing.T) {
	const zoneText = `
$ORIGIN rcode.example.
@       IN TXT "v=spf1 ip4:192.0.2.1 -all"
inc     IN TXT "v=spf1 include:target.rcode.example -all"
red     IN TXT "v=spf1 redirect=target.rcode.example"
mech    IN TXT "v=spf1 a:host.rcode.example -all"
target  IN TXT "v=spf1 ip4:192.0.2.1 -all"
host    IN A   192.0.2.1
`
	const (
		drop   = -1 // no reply at all: the client times out
		budget = -2 // no fault; the Memo allows one question only
	)
	cases := []struct {
		name     string
		mailFrom string
		at       string // the name the fault applies to
		fault    int    // an rcode, drop or budget; 0 for none
		want     Status
		err      error
	}{
		{"top, no fault", "a@rcode.example", "", 0, StatusPass, nil},
		{"top, SERVFAIL", "a@rcode.example", "rcode.example", dns.RcodeServerFailure, StatusTemperror, ErrTemporary},
		{"top, REFUSED", "a@rcode.example", "rcode.example", dns.RcodeRefused, StatusTemperror, ErrTemporary},
		{"top, FORMERR", "a@rcode.example", "rcode.example", dns.RcodeFormatError, StatusTemperror, ErrTemporary},
		{"top, NOTIMP", "a@rcode.example", "rcode.example", dns.RcodeNotImplemented, StatusTemperror, ErrTemporary},
		{"top, YXDOMAIN", "a@rcode.example", "rcode.example", dns.RcodeYXDomain, StatusTemperror, ErrTemporary},
		{"top, timeout", "a@rcode.example", "rcode.example", drop, StatusTemperror, ErrTemporary},
		{"top, NXDOMAIN is none", "a@nowhere.rcode.example", "", 0, StatusNone, nil},
		{"include, no fault", "a@inc.rcode.example", "", 0, StatusPass, nil},
		{"include, SERVFAIL", "a@inc.rcode.example", "target.rcode.example", dns.RcodeServerFailure, StatusTemperror, ErrTemporary},
		{"include, REFUSED", "a@inc.rcode.example", "target.rcode.example", dns.RcodeRefused, StatusTemperror, ErrTemporary},
		{"include, FORMERR", "a@inc.rcode.example", "target.rcode.example", dns.RcodeFormatError, StatusTemperror, ErrTemporary},
		{"include, NOTIMP", "a@inc.rcode.example", "target.rcode.example", dns.RcodeNotImplemented, StatusTemperror, ErrTemporary},
		{"include, timeout", "a@inc.rcode.example", "target.rcode.example", drop, StatusTemperror, ErrTemporary},
		{"include, budget", "a@inc.rcode.example", "", budget, StatusPermerror, ErrPermanentDNS},
		{"redirect, no fault", "a@red.rcode.example", "", 0, StatusPass, nil},
		{"redirect, SERVFAIL", "a@red.rcode.example", "target.rcode.example", dns.RcodeServerFailure, StatusTemperror, ErrTemporary},
		{"redirect, REFUSED", "a@red.rcode.example", "target.rcode.example", dns.RcodeRefused, StatusTemperror, ErrTemporary},
		{"redirect, FORMERR", "a@red.rcode.example", "target.rcode.example", dns.RcodeFormatError, StatusTemperror, ErrTemporary},
		{"redirect, NOTIMP", "a@red.rcode.example", "target.rcode.example", dns.RcodeNotImplemented, StatusTemperror, ErrTemporary},
		{"redirect, timeout", "a@red.rcode.example", "target.rcode.example", drop, StatusTemperror, ErrTemporary},
		{"redirect, budget", "a@red.rcode.example", "", budget, StatusPermerror, ErrPermanentDNS},
		{"a mechanism, SERVFAIL", "a@mech.rcode.example", "host.rcode.example", dns.RcodeServerFailure, StatusTemperror, ErrTemporary},
		{"a mechanism, budget", "a@mech.rcode.example", "", budget, StatusPermerror, ErrPermanentDNS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := resolvertest.Start(t, resolvertest.Zone(t, zoneText, 0))
			var r resolver.Resolver = resolvertest.Client(t, srv)
			switch {
			case tc.fault == drop:
				srv.Drop(tc.at)
			case tc.fault == budget:
				r = resolver.NewMemo(r, 1)
			case tc.fault != 0:
				srv.Rcode(tc.at, tc.fault)
			}
			res := Check(context.Background(), r, addr("192.0.2.1"), "mail.rcode.example", tc.mailFrom, nil)
			if res.Status != tc.want {
				t.Fatalf("status %s, want %s (%s)", res.Status, tc.want, res.Reason)
			}
			if tc.err != nil && !errors.Is(res.Err, tc.err) {
				t.Errorf("err %v, want %v", res.Err, tc.err)
			}
			switch {
			case tc.fault == budget && (!resolver.IsBudget(res.Err) || errors.Is(res.Err, ErrTemporary)):
				t.Errorf("err %v: not the budget's permanent refusal", res.Err)
			case tc.want == StatusTemperror && !strings.HasPrefix(res.Reason, "temporary DNS failure: "):
				t.Errorf("reason %q", res.Reason)
			}
		})
	}
}
