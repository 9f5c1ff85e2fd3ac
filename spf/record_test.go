package spf

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		record string
		ok     bool
	}{
		{"v=spf1", true},
		{"V=SPF1 -ALL", true},
		{"v=spf1 mx ~all", true},
		{"v=spf1  a   -all ", true},
		{"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ip6:::ffff:192.0.2.1 -all", true},
		{"v=spf1 a/24//64 mx:example.org/0 a:example.org//128 -all", true},
		{"v=spf1 a:foo:bar/baz.example.com", true},
		{"v=spf1 include:_spf.example.org ?all", true},
		{"v=spf1 include:%{d2}.example.org exists:%{i}.%{l1r-+}.%{d}. -all", true},
		{"v=spf1 redirect=%{d}.d.spf.example.com.", true},
		{"v=spf1 exists:%{ir}.%{v}._spf.%{d} -all", true},
		{"v=spf1 a:foo.example.xn--zckzah -all", true},
		{"v=spf1 a:foo.1-2 -all", true},
		{"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", true},
		{"v=spf1 default=+ foo=%{c}%{r}%{t}", true},
		{"v=spf1 exp=explain.example.org -all", true},
		{"v=spf1 ptr ptr:example.org -all", true},

		{"v=spf10 -all", false},
		{"v=spf1 -all moo", false},                    // error after the match
		{"v=spf1 ip4:192.0.2.300", false},             // bad address
		{"v=spf1 ip4:192.0.2.01", false},              // leading zero
		{"v=spf1 ip4:192.0.2.0/33", false},            // range
		{"v=spf1 ip4:192.0.2.0/032", false},           // leading zero in length
		{"v=spf1 ip4:1.2.3.4:8080", false},            // port
		{"v=spf1 ip4:2001:db8::1", false},             // family
		{"v=spf1 ip6:192.0.2.1", false},               // family
		{"v=spf1 ip6:2001:db8::/129", false},          // range
		{"v=spf1 ip6:fe80::1%eth0", false},            // zone
		{"v=spf1 a/33", false},                        // range
		{"v=spf1 a//129", false},                      // range
		{"v=spf1 a/24/64", false},                     // ip6 length needs //
		{"v=spf1 a:", false},                          // empty domain-spec
		{"v=spf1 mx:/24", false},                      // empty domain-spec
		{"v=spf1 a:museum", false},                    // only a toplabel
		{"v=spf1 a:museum.", false},                   // only a toplabel
		{"v=spf1 a:111.222.33.44", false},             // numeric toplabel
		{"v=spf1 a:example.-com", false},              // dash first
		{"v=spf1 a:example.com-", false},              // dash last
		{"v=spf1 a:example.com:8080", false},          // ":" in toplabel
		{"v=spf1 include:example.com/24", false},      // no CIDR on include
		{"v=spf1 ptr/0", false},                       // no CIDR on ptr
		{"v=spf1 all:x", false},                       // all takes nothing
		{"v=spf1 -all:foobar", false},                 // likewise
		{"v=spf1 include", false},                     // needs a domain-spec
		{"v=spf1 exists", false},                      // needs a domain-spec
		{"v=spf1 redirect:example.org", false},        // a modifier written as a mechanism
		{"v=spf1 moo.cow/far_out=man:dog/cat", false}, // not a modifier name
		{"v=spf1 1up=foo", false},                     // names start with a letter
		{"v=spf1 =all", false},                        // no name
		{"v=spf1 foo=%abc", false},                    // bad macro in an unknown modifier
		{"v=spf1 exp=", false},                        // empty exp
		{"v=spf1 exp=-all", false},                    // exp without a domain-spec
		{"v=spf1 redirect=", false},                   // empty redirect
		{"v=spf1 redirect=a.example redirect=b.example", false},
		{"v=spf1 exp=a.example exp=b.example", false},
		{"v=spf1 exp=%{r}.example.com -all", false},    // r only in explanation text
		{"v=spf1 a:%{c}.example.com", false},           // c likewise
		{"v=spf1 a:%{d0}.example.com", false},          // zero digits
		{"v=spf1 a:%{x}.example.com", false},           // unknown letter
		{"v=spf1 a:%{d.example.com", false},            // unterminated
		{"v=spf1 a:%{d}%", false},                      // lone percent
		{"v=spf1 a:%{d*}.example.com", false},          // bad delimiter
		{"v=spf1 a:foo.example.com\x00", false},        // NUL
		{"v=spf1 a:ctrl.example.com\rptr -all", false}, // CR
		{"v=spf1 ip4:192.0.2.5\n include:x.example", false},
		{"v=spf1\ta -all", false},                          // tab separator
		{"v=spf1 a:\u00efgarbage.example.net -all", false}, // non-ASCII
		{"v=spf1 unknown-mech", false},
	}
	for _, tc := range tests {
		t.Run(tc.record, func(t *testing.T) {
			rec, err := parseRecord(tc.record)
			if (err == nil) != tc.ok {
				t.Fatalf("parseRecord = %v, want ok %v", err, tc.ok)
			}
			if rec != nil && rec.raw != tc.record {
				t.Errorf("raw %q", rec.raw)
			}
		})
	}
}

func TestParseTerms(t *testing.T) {
	rec, err := parseRecord("v=spf1 +a -MX:Example.org/24 ~include:_spf.example.org ?all ip4:192.0.2.1 Redirect=x.example exp=e.example foo=bar")
	if err != nil {
		t.Fatal(err)
	}
	want := []term{
		{raw: "+a", qual: '+', name: "a", cidr4: 32, cidr6: 128},
		{raw: "-MX:Example.org/24", qual: '-', name: "mx", value: "Example.org", cidr4: 24, cidr6: 128, query: "example.org."},
		{raw: "~include:_spf.example.org", qual: '~', name: "include", value: "_spf.example.org", query: "_spf.example.org."},
		{raw: "?all", qual: '?', name: "all"},
		{raw: "ip4:192.0.2.1", qual: '+', name: "ip4", value: "192.0.2.1", net: netip.MustParsePrefix("192.0.2.1/32")},
		{raw: "Redirect=x.example", name: "redirect", value: "x.example", modifier: true, query: "x.example."},
		{raw: "exp=e.example", name: "exp", value: "e.example", modifier: true},
		{raw: "foo=bar", name: "foo", value: "bar", modifier: true},
	}
	if !slices.Equal(rec.terms, want) {
		t.Errorf("terms\n%+v\nwant\n%+v", rec.terms, want)
	}
	if a := rec.all(); a == nil || a.raw != "?all" {
		t.Errorf("all() = %+v", a)
	}
	if r := rec.modifier("redirect"); r == nil || r.value != "x.example" {
		t.Errorf("modifier(redirect) = %+v", r)
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"v=spf1 mx ~all", "v=spf1 a/24//64 -all", "v=spf1 include:%{d2}.example.org -all",
		"v=spf1 redirect=%{d}.d.spf.example.com.", "v=spf1 ip6:::ffff:1.2.3.4/128", "v=spf1 foo=%{c}",
		"v=spf1 a:%{d", "v=spf1 a:foo:bar/baz.example.com", "v=spf1 exp=%{r}.x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := parseRecord(s)
		if err != nil {
			return
		}
		// Round trip: the terms, re-joined by single spaces, parse to the
		// same terms.
		var raws []string
		for _, tm := range rec.terms {
			raws = append(raws, tm.raw)
		}
		again, err := parseRecord(strings.Join(append([]string{"v=spf1"}, raws...), " "))
		if err != nil {
			t.Fatalf("%q parsed, its terms %q do not: %v", s, raws, err)
		}
		if !slices.Equal(again.terms, rec.terms) {
			t.Fatalf("%q: terms changed on re-parse", s)
		}
		for _, tm := range rec.terms {
			if !tm.modifier && strings.IndexByte("+-~?", tm.qual) < 0 {
				t.Fatalf("%q: term %q has qualifier %q", s, tm.raw, tm.qual)
			}
		}
	})
}

// FuzzCheck evaluates arbitrary records, reverse-paths and HELO names: no
// panic, no hang, and always one of the seven results.
func FuzzCheck(f *testing.F) {
	f.Add("v=spf1 a mx include:inc.fuzz.example -all", "user@fuzz.example", "helo.fuzz.example")
	f.Add("v=spf1 exists:%{l}.%{h}.%{i}.fuzz.example ?all", "a\x00b@fuzz.example", "x\x00y")
	f.Add("v=spf1 redirect=%{d}.fuzz.example", "@fuzz.example", "")
	f.Add("v=spf1 ptr:%{d} a:%{o} -all", "<>", "fuzz.example")
	f.Add("v=spf1 exists:%{p}.%{L2r-+}.%{S}.%{d9r} mx/24//64 ~all", "a-b+c@fuzz.example", "helo.fuzz.example")
	f.Add("v=spf1 ptr exp=%{d}.x redirect=inc.fuzz.example", "x@fuzz.example", "Helo.Fuzz.Example.")
	f.Add("v=spf1 a:slow.fuzz.example include:%{l}.fuzz.example", "inc@fuzz.example", "h")
	cache := &RecordCache{Size: 64}
	f.Fuzz(func(t *testing.T, record, mailFrom, helo string) {
		z := resolver.NewZone()
		hdr := func(name string, typ uint16) dns.RR_Header {
			return dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: 60}
		}
		z.Add(&dns.TXT{Hdr: hdr("fuzz.example.", dns.TypeTXT), Txt: []string{record}})
		z.Add(&dns.TXT{Hdr: hdr("inc.fuzz.example.", dns.TypeTXT), Txt: []string{"v=spf1 include:fuzz.example"}})
		z.Add(&dns.A{Hdr: hdr("helo.fuzz.example.", dns.TypeA), A: []byte{192, 0, 2, 1}})
		z.Add(&dns.MX{Hdr: hdr("fuzz.example.", dns.TypeMX), Preference: 10, Mx: "helo.fuzz.example."})
		z.Add(&dns.PTR{Hdr: hdr("1.2.0.192.in-addr.arpa.", dns.TypePTR), Ptr: "helo.fuzz.example."})
		z.SetFault("slow.fuzz.example.", resolver.FaultTimeout)
		z.Timeout = 1
		res := Check(context.Background(), z, netip.MustParseAddr("192.0.2.1"), helo, mailFrom, nil)
		switch res.Status {
		case StatusNone, StatusNeutral, StatusPass, StatusFail, StatusSoftfail, StatusTemperror, StatusPermerror:
		default:
			t.Fatalf("status %q", res.Status)
		}
		if (res.Status == StatusTemperror || res.Status == StatusPermerror) != (res.Err != nil) {
			t.Fatalf("status %s with err %v", res.Status, res.Err)
		}
		if res.Status == StatusTemperror && !errors.Is(res.Err, ErrTemporary) {
			t.Fatalf("temperror cause %v", res.Err)
		}
		_ = res.AuthResult()
		// Parsed records from a cache give the same result.
		if c := Check(context.Background(), z, netip.MustParseAddr("192.0.2.1"), helo, mailFrom, &Options{Records: cache}); c.Status != res.Status || c.Mechanism != res.Mechanism {
			t.Fatalf("with a RecordCache %s %q, without %s %q", c.Status, c.Mechanism, res.Status, res.Mechanism)
		}
	})
}
