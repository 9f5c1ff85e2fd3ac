package spf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

func TestExpand(t *testing.T) {
	// RFC 7208 §7.4's examples, with <sender> strong-bad@email.example.com.
	v4 := &evaluator{ip: addr("192.0.2.3"), local: "strong-bad", senderDomain: "email.example.com", helo: "Mail.Example.NET"}
	v6 := &evaluator{ip: addr("2001:db8::cb01"), local: "strong-bad", senderDomain: "email.example.com"}
	odd := &evaluator{ip: addr("192.0.2.3"), local: "~jack&jill=up-a_b3.c", senderDomain: "e8.example.com"}
	empty := &evaluator{ip: addr("192.0.2.3"), local: "a..b", senderDomain: "example.com"}
	tests := []struct {
		e      *evaluator
		spec   string
		domain string
		want   string
	}{
		{v4, "%{s}", "email.example.com", "strong-bad@email.example.com"},
		{v4, "%{o}", "email.example.com", "email.example.com"},
		{v4, "%{d}", "email.example.com", "email.example.com"},
		{v4, "%{d4}", "email.example.com", "email.example.com"},
		{v4, "%{d3}", "email.example.com", "email.example.com"},
		{v4, "%{d2}", "email.example.com", "example.com"},
		{v4, "%{d1}", "email.example.com", "com"},
		{v4, "%{dr}", "email.example.com", "com.example.email"},
		{v4, "%{d2r}", "email.example.com", "example.email"},
		{v4, "%{l}", "email.example.com", "strong-bad"},
		{v4, "%{l-}", "email.example.com", "strong.bad"},
		{v4, "%{lr}", "email.example.com", "strong-bad"},
		{v4, "%{lr-}", "email.example.com", "bad.strong"},
		{v4, "%{l1r-}", "email.example.com", "strong"},
		{v4, "%{ir}.%{v}._spf.%{d2}", "email.example.com", "3.2.0.192.in-addr._spf.example.com"},
		{v4, "%{lr-}.lp._spf.%{d2}", "email.example.com", "bad.strong.lp._spf.example.com"},
		{v4, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "email.example.com", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
		{v4, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "email.example.com", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
		{v4, "%{d2}.trusted-domains.example.net", "email.example.com", "example.com.trusted-domains.example.net"},
		{v6, "%{ir}.%{v}._spf.%{d2}", "email.example.com", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
		// The domain of the current check, not the sender's.
		{v4, "%{d}.x.example", "inc.example.org", "inc.example.org.x.example"},
		{v4, "%{h}", "email.example.com", "Mail.Example.NET"},
		{v4, "%{i}", "email.example.com", "192.0.2.3"},
		// Literal escapes (RFC 7208 §7.1).
		{v4, "a%%b%_c%-d.example", "email.example.com", "a%b c%20d.example"},
		{v4, "plain.example.com", "email.example.com", "plain.example.com"},
		// More digits than parts keeps them all; a huge count does too.
		{v4, "%{d9}", "email.example.com", "email.example.com"},
		{v4, "%{d99999999999999999999}", "email.example.com", "email.example.com"},
		// Several delimiters, and empty parts kept.
		{&evaluator{ip: addr("192.0.2.3"), local: "foo-bar+zip+quux", senderDomain: "e12.example.com"}, "%{l2r+-}", "e12.example.com", "bar.foo"},
		{empty, "%{l}", "example.com", "a..b"},
		{empty, "%{l2}", "example.com", ".b"},
		// Upper case URL-escapes everything not unreserved (RFC 3986 §2.3).
		{odd, "%{L}", "e8.example.com", "~jack%26jill%3Dup-a_b3.c"},
		{odd, "%{S}", "e8.example.com", "~jack%26jill%3Dup-a_b3.c%40e8.example.com"},
		{v4, "%{IR}.%{V}", "email.example.com", "3.2.0.192.in-addr"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			if got := tc.e.expand(tc.spec, tc.domain); got != tc.want {
				t.Errorf("expand(%q) = %q, want %q", tc.spec, got, tc.want)
			}
		})
	}
}

func TestTargetName(t *testing.T) {
	long := strings.Repeat("abcdefghi.", 30) + "example.com" // 311 octets
	tests := []struct {
		in, want string
		valid    bool
	}{
		{"Example.COM.", "example.com.", true},
		{"example.com", "example.com.", true},
		// RFC 7208 §7.3: labels removed on the left until 253 octets or less.
		{long, long[len(long)-251:] + ".", true},
		{"a b.example.com", "", false},
		{"a..example.com", "", false},
		{"nul\x00.example.com", "", false},
		{"", "", false},
		{".", "", false},
	}
	for _, tc := range tests {
		q, valid := queryName(tc.in)
		if q != tc.want || valid != tc.valid {
			t.Errorf("queryName(%q) = %q, %v; want %q, %v", tc.in, q, valid, tc.want, tc.valid)
		}
		if valid && len(q) > 254 {
			t.Errorf("queryName(%q) is %d octets", tc.in, len(q))
		}
	}
}

// evalZone holds the cases of the evaluator that the table of TestCheck
// does not reach.
const evalZone = `
$ORIGIN eval.example.
; ptr and the p macro. 192.0.2.3 names host.eval.example (validated),
; liar.eval.example (whose A is another address) and other.example.net.
@               IN TXT  "v=spf1 exists:%{p}.below.eval.example -all"
ptr             IN TXT  "v=spf1 ptr:eval.example -all"
ptrself         IN TXT  "v=spf1 ptr -all"
ptrliar         IN TXT  "v=spf1 ptr:liar.eval.example -all"
ptrother        IN TXT  "v=spf1 ptr:example.net -all"
host            IN A    192.0.2.3
host            IN TXT  "v=spf1 exists:%{p}.exact.eval.example -all"
liar            IN A    198.51.100.3
pmacro          IN TXT  "v=spf1 exists:%{p}.any.eval.example -all"
host.eval.example.exact IN A 127.0.0.2
host.eval.example.below IN A 127.0.0.2
host.eval.example.any IN A 127.0.0.2
other.example.net.any IN A 127.0.0.2
; exists asks A even for an IPv6 client.
exists          IN TXT  "v=spf1 exists:yes.eval.example -all"
yes             IN A    127.0.0.2
; CIDR lengths.
cidr            IN TXT  "v=spf1 a:net.eval.example/24//64 -all"
net             IN A    192.0.2.200
net             IN AAAA 2001:db8:7:7::1
; An IPv4-mapped AAAA is no IPv4 address.
mapped          IN TXT  "v=spf1 a -all"
mapped          IN AAAA ::ffff:192.0.2.3
; ip6 does not match an IPv4 client, even in mapped form.
ip6mapped       IN TXT  "v=spf1 ip6:::ffff:192.0.2.3 -all"
; mx: a null MX, more than ten MX.
nullmx          IN TXT  "v=spf1 mx -all"
nullmx          IN MX   0 .
manymx          IN TXT  "v=spf1 mx -all"
manymx          IN MX   1 m1.eval.example.
manymx          IN MX   2 m2.eval.example.
manymx          IN MX   3 m3.eval.example.
manymx          IN MX   4 m4.eval.example.
manymx          IN MX   5 m5.eval.example.
manymx          IN MX   6 m6.eval.example.
manymx          IN MX   7 m7.eval.example.
manymx          IN MX   8 m8.eval.example.
manymx          IN MX   9 m9.eval.example.
manymx          IN MX   10 m10.eval.example.
manymx          IN MX   11 host.eval.example.
mxtemp          IN TXT  "v=spf1 mx -all"
mxtemp          IN MX   10 broken.eval.example.
; include and redirect.
loop            IN TXT  "v=spf1 include:loop.eval.example -all"
redirnone       IN TXT  "v=spf1 redirect=nothing.eval.example"
redirall        IN TXT  "v=spf1 -all redirect=open.eval.example"
open            IN TXT  "v=spf1 +all"
redirinc        IN TXT  "v=spf1 redirect=inc.eval.example"
inc             IN TXT  "v=spf1 include:ptr.eval.example ~all"
inctemp         IN TXT  "v=spf1 include:broken.eval.example -all"
incperm         IN TXT  "v=spf1 include:two.eval.example -all"
two             IN TXT  "v=spf1 -all"
two             IN TXT  "v=spf1 +all"
incmacro        IN TXT  "v=spf1 include:%{l}.eval.example -all"
; a macro letter that does not exist.
badmacro        IN TXT  "v=spf1 a:%{x}.example.com -all"
; exp= is checked, never followed.
exp             IN TXT  "v=spf1 -all exp=explain.%{d}"
; the HELO identity and its macro.
helo            IN TXT  "v=spf1 a:%{h} -all"
helo            IN A    192.0.2.3
; a redirect counts as a lookup.
redir10         IN TXT  "v=spf1 a:x1.eval.example a:x2.eval.example a:x3.eval.example a:x4.eval.example a:x5.eval.example a:x6.eval.example a:x7.eval.example a:x8.eval.example a:x9.eval.example redirect=open.eval.example"
x1              IN A    203.0.113.1
x2              IN A    203.0.113.2
x3              IN A    203.0.113.3
x4              IN A    203.0.113.4
x5              IN A    203.0.113.5
x6              IN A    203.0.113.6
x7              IN A    203.0.113.7
x8              IN A    203.0.113.8
x9              IN A    203.0.113.9
; a ptr whose PTR question fails counts as no match.
; servfail: broken.eval.example.
; servfail: 4.2.0.192.in-addr.arpa.
$ORIGIN 2.0.192.in-addr.arpa.
3               IN PTR  liar.eval.example.
3               IN PTR  other.example.net.
3               IN PTR  Host.Eval.Example.
; eleven names, the validated one last: only the first ten count.
5               IN PTR  n1.eval.example.
5               IN PTR  n2.eval.example.
5               IN PTR  n3.eval.example.
5               IN PTR  n4.eval.example.
5               IN PTR  n5.eval.example.
5               IN PTR  n6.eval.example.
5               IN PTR  n7.eval.example.
5               IN PTR  n8.eval.example.
5               IN PTR  n9.eval.example.
5               IN PTR  n10.eval.example.
5               IN PTR  n11.eval.example.
$ORIGIN eval.example.
n11             IN A    192.0.2.5
$ORIGIN example.net.
other           IN A    192.0.2.3
`

func TestEvaluate(t *testing.T) {
	z := resolvertest.Zone(t, evalZone, 50*time.Millisecond)
	tests := []struct {
		name     string
		ip       string
		helo     string
		mailFrom string
		opts     *Options
		status   Status
		path     []Step // nil: not compared
		err      error
	}{
		// ptr (RFC 7208 §5.5).
		{name: "ptr validated", ip: "192.0.2.3", mailFrom: "a@ptr.eval.example", status: StatusPass,
			path: []Step{{"ptr.eval.example", "ptr:eval.example"}}},
		{name: "ptr names not below the domain", ip: "192.0.2.3", mailFrom: "a@ptrself.eval.example", status: StatusFail},
		{name: "ptr name not validated", ip: "192.0.2.3", mailFrom: "a@ptrliar.eval.example", status: StatusFail},
		{name: "ptr other domain validated", ip: "192.0.2.3", mailFrom: "a@ptrother.eval.example", status: StatusPass},
		{name: "ptr no names", ip: "192.0.2.9", mailFrom: "a@ptr.eval.example", status: StatusFail},
		{name: "ptr question fails: no match", ip: "192.0.2.4", mailFrom: "a@ptr.eval.example", status: StatusFail},
		{name: "ptr only first ten names", ip: "192.0.2.5", mailFrom: "a@ptr.eval.example", status: StatusFail},
		// p macro (RFC 7208 §7.3).
		{name: "p macro: the domain itself first", ip: "192.0.2.3", mailFrom: "a@host.eval.example", status: StatusPass},
		{name: "p macro: then a name below it", ip: "192.0.2.3", mailFrom: "a@eval.example", status: StatusPass},
		{name: "p macro: then any validated name", ip: "192.0.2.3", mailFrom: "a@pmacro.eval.example", status: StatusPass},
		{name: "p macro unknown", ip: "192.0.2.9", mailFrom: "a@pmacro.eval.example", status: StatusFail},
		// exists (RFC 7208 §5.7).
		{name: "exists v4", ip: "192.0.2.9", mailFrom: "a@exists.eval.example", status: StatusPass},
		{name: "exists asks A for v6", ip: "2001:db8::9", mailFrom: "a@exists.eval.example", status: StatusPass},
		// CIDR (RFC 7208 §5.6).
		{name: "a/24 in", ip: "192.0.2.1", mailFrom: "a@cidr.eval.example", status: StatusPass},
		{name: "a/24 out", ip: "192.0.3.1", mailFrom: "a@cidr.eval.example", status: StatusFail},
		{name: "a//64 in", ip: "2001:db8:7:7:ffff::1", mailFrom: "a@cidr.eval.example", status: StatusPass},
		{name: "a//64 out", ip: "2001:db8:7:8::1", mailFrom: "a@cidr.eval.example", status: StatusFail},
		{name: "mapped client uses /24", ip: "::ffff:192.0.2.77", mailFrom: "a@cidr.eval.example", status: StatusPass},
		// IPv4-mapped IPv6.
		{name: "mapped AAAA is no A", ip: "192.0.2.3", mailFrom: "a@mapped.eval.example", status: StatusFail},
		{name: "ip6 never matches v4", ip: "192.0.2.3", mailFrom: "a@ip6mapped.eval.example", status: StatusFail},
		{name: "ip6 never matches mapped v4", ip: "::ffff:192.0.2.3", mailFrom: "a@ip6mapped.eval.example", status: StatusFail},
		// mx (RFC 7208 §5.4, §4.6.4).
		{name: "null MX", ip: "192.0.2.3", mailFrom: "a@nullmx.eval.example", status: StatusFail},
		{name: "more than ten MX", ip: "192.0.2.3", mailFrom: "a@manymx.eval.example", status: StatusPermerror, err: ErrTooManyMX},
		{name: "MX host servfail", ip: "192.0.2.3", mailFrom: "a@mxtemp.eval.example", status: StatusTemperror, err: ErrTemporary},
		// include and redirect (RFC 7208 §5.2, §6.1).
		{name: "include loop", ip: "192.0.2.3", mailFrom: "a@loop.eval.example", status: StatusPermerror, err: ErrLookupLimit},
		{name: "include loop, raised limit", ip: "192.0.2.3", mailFrom: "a@loop.eval.example", opts: &Options{MaxLookups: 1 << 20},
			status: StatusPermerror, err: ErrLookupLimit},
		{name: "redirect to none", ip: "192.0.2.3", mailFrom: "a@redirnone.eval.example", status: StatusPermerror, err: ErrNoRecord},
		{name: "redirect ignored with all", ip: "192.0.2.3", mailFrom: "a@redirall.eval.example", status: StatusFail,
			path: []Step{{"redirall.eval.example", "-all"}}},
		{name: "redirect then include", ip: "192.0.2.3", mailFrom: "a@redirinc.eval.example", status: StatusPass,
			path: []Step{{"redirinc.eval.example", "redirect=inc.eval.example"}, {"inc.eval.example", "include:ptr.eval.example"}, {"ptr.eval.example", "ptr:eval.example"}}},
		{name: "include temperror", ip: "192.0.2.3", mailFrom: "a@inctemp.eval.example", status: StatusTemperror, err: ErrTemporary},
		{name: "include permerror", ip: "192.0.2.3", mailFrom: "a@incperm.eval.example", status: StatusPermerror, err: ErrMultipleRecords},
		{name: "include of an invalid expansion", ip: "192.0.2.3", mailFrom: `"a b"@incmacro.eval.example`, status: StatusPermerror, err: ErrNoRecord},
		{name: "include of a valid expansion", ip: "192.0.2.3", mailFrom: "ptr@incmacro.eval.example", status: StatusPass,
			path: []Step{{"incmacro.eval.example", "include:%{l}.eval.example"}, {"ptr.eval.example", "ptr:eval.example"}}},
		{name: "redirect counts as a lookup", ip: "192.0.2.3", mailFrom: "a@redir10.eval.example", status: StatusPass},
		{name: "redirect over the limit", ip: "192.0.2.3", mailFrom: "a@redir10.eval.example", opts: &Options{MaxLookups: 9},
			status: StatusPermerror, err: ErrLookupLimit},
		// A bad macro is a syntax error of the record (RFC 7208 §7.1).
		{name: "bad macro is ErrMacro", ip: "192.0.2.3", mailFrom: "a@badmacro.eval.example", status: StatusPermerror, err: ErrMacro},
		{name: "bad macro is ErrSyntax", ip: "192.0.2.3", mailFrom: "a@badmacro.eval.example", status: StatusPermerror, err: ErrSyntax},
		// exp= does not change the result.
		{name: "exp ignored", ip: "192.0.2.3", mailFrom: "a@exp.eval.example", status: StatusFail,
			path: []Step{{"exp.eval.example", "-all"}}},
		// The HELO identity: %{h} and postmaster@HELO.
		{name: "helo macro", ip: "192.0.2.3", helo: "helo.eval.example", mailFrom: "<>", status: StatusPass},
		{name: "helo macro, other client", ip: "192.0.2.4", helo: "helo.eval.example", mailFrom: "", status: StatusFail},
		{name: "h macro in mail from", ip: "192.0.2.3", helo: "helo.eval.example", mailFrom: "x@helo.eval.example", status: StatusPass},
		{name: "h macro of a bad helo", ip: "192.0.2.3", helo: "bad helo", mailFrom: "x@helo.eval.example", status: StatusFail},
	}
	cache := &RecordCache{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			helo := tc.helo
			if helo == "" {
				helo = "mail.example.org"
			}
			for _, cached := range []bool{false, true} {
				opts := tc.opts
				if cached {
					o := Options{}
					if opts != nil {
						o = *opts
					}
					o.Records = cache
					opts = &o
				}
				res := Check(context.Background(), z, addr(tc.ip), helo, tc.mailFrom, opts)
				if res.Status != tc.status {
					t.Fatalf("cached %v: status %s, want %s (reason %q, err %v)", cached, res.Status, tc.status, res.Reason, res.Err)
				}
				if tc.path != nil && !slices.Equal(res.Path, tc.path) {
					t.Errorf("cached %v: path %v, want %v", cached, res.Path, tc.path)
				}
				if tc.err != nil && !errors.Is(res.Err, tc.err) {
					t.Errorf("cached %v: err %v, want it to wrap %v", cached, res.Err, tc.err)
				}
				checkInvariants(t, res)
			}
		})
	}
}

func TestRecordCache(t *testing.T) {
	c := &RecordCache{Size: 3}
	a1, err := c.parse("v=spf1 a -all")
	if err != nil {
		t.Fatal(err)
	}
	if a2, _ := c.parse("v=spf1 a -all"); a2 != a1 {
		t.Error("the same text parsed twice")
	}
	_, err1 := c.parse("v=spf1 moo")
	_, err2 := c.parse("v=spf1 moo")
	if err1 == nil || err1 != err2 {
		t.Errorf("errors %v, %v: want one cached error", err1, err2)
	}
	for i := range 10 {
		if _, err := c.parse(fmt.Sprintf("v=spf1 ip4:192.0.2.%d -all", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n != 3 {
		t.Errorf("Len = %d, want the Size 3", n)
	}
	var nilCache *RecordCache
	if r, err := nilCache.parse("v=spf1 -all"); err != nil || r == nil || nilCache.Len() != 0 {
		t.Errorf("nil cache: %v, %v", r, err)
	}

	// Shared by concurrent checks.
	z := testZone(t)
	shared := &RecordCache{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ip, want := "198.51.100.7", StatusPass
			if i%2 == 1 {
				ip, want = "203.0.113.9", StatusSoftfail
			}
			res := Check(context.Background(), z, addr(ip), "helo.shop.example", "a@mail.shop.example", &Options{Records: shared})
			if res.Status != want {
				t.Errorf("goroutine %d: %s, want %s", i, res.Status, want)
			}
		})
	}
	wg.Wait()
	if n := shared.Len(); n != 2 {
		t.Errorf("Len = %d, want the 2 records of the chain", n)
	}
}
