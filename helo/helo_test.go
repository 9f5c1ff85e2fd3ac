package helo_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/helo"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

const testZone = `
$ORIGIN example.org.
@        IN MX   10 mx1.example.org.
@        IN MX   20 MX2.Example.ORG.
mail     IN A    192.0.2.10
mx1      IN A    192.0.2.11
mx2      IN A    192.0.2.12
mail6    IN AAAA 2001:db8::10
both     IN A    192.0.2.20
both     IN AAAA 2001:db8::20
other    IN A    198.51.100.1
txtonly  IN TXT  "no address"
alias    IN CNAME mail
loop     IN CNAME loop
; servfail: sf
; timeout: to
; servfail: sfmx

$ORIGIN example.com.
@        IN MX   10 relay.example.com.
relay    IN A    192.0.2.30

$ORIGIN shop.test.
mail     IN A    192.0.2.40

$ORIGIN isp.example.
mail     IN A    192.0.2.50
`

func newZone(t *testing.T) *resolver.Zone {
	return resolvertest.Zone(t, testZone, 50*time.Millisecond)
}

type flags struct{ sameOrg, isMX, otherOrg bool }

func TestCheck(t *testing.T) {
	const ip4 = "192.0.2.10"
	tests := []struct {
		desc   string
		name   string
		ip     string
		sender string
		status helo.Status
		code   helo.Code
		addrs  []string
		flags  flags
	}{
		// Names.
		{desc: "resolves to ip", name: "mail.example.org", ip: ip4, status: helo.StatusPass, code: "match", addrs: []string{ip4}},
		{desc: "case and trailing dot", name: "MAIL.Example.ORG.", ip: ip4, status: helo.StatusPass, code: "match", addrs: []string{ip4}},
		{desc: "via CNAME", name: "alias.example.org", ip: ip4, status: helo.StatusPass, code: "match", addrs: []string{ip4}},
		{desc: "ipv4-mapped connecting address", name: "mail.example.org", ip: "::ffff:192.0.2.10", status: helo.StatusPass, code: "match", addrs: []string{ip4}},
		{desc: "ipv6 resolves", name: "mail6.example.org", ip: "2001:db8::10", status: helo.StatusPass, code: "match", addrs: []string{"2001:db8::10"}},
		{desc: "A and AAAA, v6 client", name: "both.example.org", ip: "2001:db8::20", status: helo.StatusPass, code: "match", addrs: []string{"2001:db8::20"}},
		{desc: "A and AAAA, v4 client", name: "both.example.org", ip: "192.0.2.20", status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.20"}},
		{desc: "A and AAAA, v6 client, no match", name: "both.example.org", ip: "2001:db8::21", status: helo.StatusFail, code: "other-ip", addrs: []string{"2001:db8::20"}},
		{desc: "only A, v6 client", name: "mail.example.org", ip: "2001:db8::10", status: helo.StatusFail, code: "other-ip", addrs: []string{ip4}},
		{desc: "resolves elsewhere", name: "other.example.org", ip: ip4, status: helo.StatusFail, code: "other-ip", addrs: []string{"198.51.100.1"}},
		{desc: "only the other family", name: "mail6.example.org", ip: ip4, status: helo.StatusFail, code: "other-ip", addrs: []string{"2001:db8::10"}},
		{desc: "NXDOMAIN", name: "nothere.example.org", ip: ip4, status: helo.StatusNone, code: "nxdomain"},
		{desc: "no address", name: "txtonly.example.org", ip: ip4, status: helo.StatusNone, code: "no-address"},
		{desc: "CNAME loop", name: "loop.example.org", ip: ip4, status: helo.StatusNone, code: "dns-permanent"},
		{desc: "servfail", name: "sf.example.org", ip: ip4, status: helo.StatusTemperror, code: "dns-temporary"},
		{desc: "timeout", name: "to.example.org", ip: ip4, status: helo.StatusTemperror, code: "dns-temporary"},
		{desc: "TLD known to the zone", name: "mail.isp.example", ip: "192.0.2.50", status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.50"}},
		{desc: "TLD known to the zone, name missing", name: "nothere.isp.example", ip: ip4, status: helo.StatusNone, code: "nxdomain"},
		{desc: "unknown TLD", name: "mail.nosuchtld", ip: ip4, status: helo.StatusInvalid, code: "unknown-tld"},
		{desc: "unknown TLD, trailing dot", name: "Mail.NoSuchTLD.", ip: ip4, status: helo.StatusInvalid, code: "unknown-tld"},
		{desc: "no connecting address", name: "mail.example.org", ip: "", status: helo.StatusNone, code: "no-ip"},

		// Address literals (RFC 5321 §4.1.3).
		{desc: "literal matches", name: "[192.0.2.10]", ip: ip4, status: helo.StatusPass, code: "literal-match", addrs: []string{ip4}},
		{desc: "literal, zero-padded", name: "[192.000.002.010]", ip: ip4, status: helo.StatusPass, code: "literal-match", addrs: []string{ip4}},
		{desc: "literal, mapped client", name: "[192.0.2.10]", ip: "::ffff:192.0.2.10", status: helo.StatusPass, code: "literal-match", addrs: []string{ip4}},
		{desc: "literal mismatch", name: "[192.0.2.11]", ip: ip4, status: helo.StatusFail, code: "literal-mismatch", addrs: []string{"192.0.2.11"}},
		{desc: "ipv6 literal", name: "[IPv6:2001:db8::10]", ip: "2001:db8::10", status: helo.StatusPass, code: "literal-match", addrs: []string{"2001:db8::10"}},
		{desc: "ipv6 literal, tag case", name: "[ipv6:2001:DB8:0::10]", ip: "2001:db8::10", status: helo.StatusPass, code: "literal-match", addrs: []string{"2001:db8::10"}},
		{desc: "ipv6 literal of mapped v4", name: "[IPv6:::ffff:192.0.2.10]", ip: ip4, status: helo.StatusPass, code: "literal-match", addrs: []string{ip4}},
		{desc: "ipv6 literal mismatch", name: "[IPv6:2001:db8::11]", ip: "2001:db8::10", status: helo.StatusFail, code: "literal-mismatch", addrs: []string{"2001:db8::11"}},
		{desc: "v4 literal, v6 client", name: "[192.0.2.10]", ip: "2001:db8::10", status: helo.StatusFail, code: "literal-mismatch", addrs: []string{ip4}},

		// Relation to the sender domain.
		{desc: "MX of the sender", name: "mx1.example.org", ip: "192.0.2.11", sender: "example.org",
			status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.11"}, flags: flags{sameOrg: true, isMX: true}},
		{desc: "MX exchange case, sender dot", name: "mx2.example.org.", ip: "192.0.2.12", sender: "Example.ORG.",
			status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.12"}, flags: flags{sameOrg: true, isMX: true}},
		{desc: "same org, not an MX", name: "mail.example.org", ip: ip4, sender: "bounce.example.org",
			status: helo.StatusPass, code: "match", addrs: []string{ip4}, flags: flags{sameOrg: true}},
		{desc: "same org under an unlisted TLD", name: "mail.shop.test", ip: "192.0.2.40", sender: "bounce.shop.test",
			status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.40"}, flags: flags{sameOrg: true}},
		{desc: "other org", name: "relay.example.com", ip: "192.0.2.30", sender: "example.org",
			status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.30"}, flags: flags{otherOrg: true}},
		{desc: "other org, failing", name: "relay.example.com", ip: ip4, sender: "example.org",
			status: helo.StatusFail, code: "other-ip", addrs: []string{"192.0.2.30"}, flags: flags{otherOrg: true}},
		{desc: "other org needs a resolving name", name: "nothere.example.com", ip: ip4, sender: "example.org",
			status: helo.StatusNone, code: "nxdomain"},
		{desc: "MX of another sender", name: "relay.example.com", ip: "192.0.2.30", sender: "example.com",
			status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.30"}, flags: flags{sameOrg: true, isMX: true}},
		{desc: "no sender, no relation", name: "relay.example.com", ip: "192.0.2.30",
			status: helo.StatusPass, code: "match", addrs: []string{"192.0.2.30"}},
		{desc: "sender MX servfail", name: "mail.example.org", ip: ip4, sender: "sfmx.example.org",
			status: helo.StatusPass, code: "match", addrs: []string{ip4}, flags: flags{sameOrg: true}},
		{desc: "literal has no relation", name: "[192.0.2.10]", ip: ip4, sender: "example.org",
			status: helo.StatusPass, code: "literal-match", addrs: []string{ip4}},
	}
	z := newZone(t)
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			res := helo.Check(context.Background(), z, tc.name, ip, &helo.Options{SenderDomain: tc.sender})
			if res.Status != tc.status || res.Code != tc.code {
				t.Errorf("Status, Code = %q, %q; want %q, %q (reason %q, err %v)", res.Status, res.Code, tc.status, tc.code, res.Reason, res.Err)
			}
			if res.Name != tc.name {
				t.Errorf("Name = %q, want %q as given", res.Name, tc.name)
			}
			var addrs []string
			for _, a := range res.Addrs {
				addrs = append(addrs, a.Unmap().String())
			}
			if !slices.Equal(addrs, tc.addrs) {
				t.Errorf("Addrs = %q, want %q", addrs, tc.addrs)
			}
			if got := (flags{res.SameOrg, res.IsMX, res.OtherOrg}); got != tc.flags {
				t.Errorf("flags = %+v, want %+v", got, tc.flags)
			}
			if res.Literal != strings.HasPrefix(tc.name, "[") {
				t.Errorf("Literal = %v", res.Literal)
			}
			if res.Reason == "" {
				t.Error("empty Reason")
			}
			switch res.Status {
			case helo.StatusTemperror:
				if !errors.Is(res.Err, helo.ErrDNS) || !resolver.IsTemporary(res.Err) {
					t.Errorf("Err = %v, want a temporary ErrDNS", res.Err)
				}
			case helo.StatusNone:
				switch res.Code {
				case helo.CodeNoIP:
					if !errors.Is(res.Err, helo.ErrNoIP) {
						t.Errorf("Err = %v, want ErrNoIP", res.Err)
					}
				case helo.CodeDNSPermanent:
					if !errors.Is(res.Err, helo.ErrDNS) || !errors.Is(res.Err, resolver.ErrPermanent) {
						t.Errorf("Err = %v, want a permanent ErrDNS", res.Err)
					}
				default:
					if res.Err != nil {
						t.Errorf("Err = %v, want nil", res.Err)
					}
				}
			default:
				if res.Err != nil {
					t.Errorf("Err = %v, want nil", res.Err)
				}
			}
		})
	}
}

func TestCheckInvalid(t *testing.T) {
	tests := []struct {
		name string
		code helo.Code
	}{
		{"", "empty"},
		{"  ", "empty"},
		{"localhost", "localhost"},
		{"LOCALHOST.", "localhost"},
		{"localhost.localdomain", "localhost"},
		{"mx.localhost", "localhost"},
		{"192.0.2.10", "bare-ip"},
		{"192.0.2.10.", "bare-ip"},
		{"192.000.002.010", "bare-ip"},
		{"2001:db8::1", "bare-ip"},
		{"IPv6:2001:db8::1", "bare-ip"},
		{"mailhost", "single-label"},
		{"mailhost.", "single-label"},
		{"xn--mller-kva", "single-label"},
		{".", "syntax"},
		{"mail..example.org", "syntax"},
		{".example.org", "syntax"},
		{"mail.example.org..", "syntax"},
		{"-mail.example.org", "syntax"},
		{"mail-.example.org", "syntax"},
		{"my_pc.example.org", "syntax"},
		{"mail.example.org\x00", "syntax"},
		{"mail\r\n.example.org", "syntax"},
		{"mail example.org", "syntax"},
		{" mail.example.org", "syntax"},
		{"m\u00e4il.example.org", "syntax"},
		{"mail@example.org", "syntax"},
		{"mail.example.123", "syntax"},
		{"1.2.3.4.5", "syntax"},
		{strings.Repeat("a", 64) + ".example.org", "syntax"},
		{strings.Repeat("abcdefghi.", 25) + "examp", "syntax"}, // 255 octets
		{"192.0.2.10]", "syntax"},
		{"host.invalid", "reserved-tld"},
		{"mac.local", "reserved-tld"},
		{"hidden.onion", "reserved-tld"},
		{"router.home.arpa", "reserved-tld"},
		{"pc.corp.internal", "reserved-tld"},
		{"[2001:db8::1]", "bad-literal"},
		{"[IPv6:192.0.2.1]", "bad-literal"},
		{"[IPv6:fe80::1%eth0]", "bad-literal"},
		{"[IPv6:]", "bad-literal"},
		{"[192.0.2.256]", "bad-literal"},
		{"[192.0.2]", "bad-literal"},
		{"[192.0.2.1.5]", "bad-literal"},
		{"[0192.0.2.1]", "bad-literal"},
		{"[]", "bad-literal"},
		{"[", "bad-literal"},
		{"[192.0.2.1", "bad-literal"},
		{"[ 192.0.2.1]", "bad-literal"},
		{"[x-tag:stuff]", "bad-literal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, ok := helo.Syntax(tc.name)
			if ok || code != tc.code {
				t.Errorf("Syntax(%q) = %q, %v; want %q, false", tc.name, code, ok, tc.code)
			}
			rec := &resolvertest.Questions{Resolver: newZone(t)}
			res := helo.Check(context.Background(), rec, tc.name, netip.MustParseAddr("192.0.2.10"), &helo.Options{SenderDomain: "example.org"})
			if res.Status != helo.StatusInvalid || res.Code != tc.code {
				t.Errorf("Check: %q %q, want invalid %q", res.Status, res.Code, tc.code)
			}
			if res.Reason == "" || res.Err != nil {
				t.Errorf("Reason %q, Err %v", res.Reason, res.Err)
			}
			if q := rec.Asked(); len(q) != 0 {
				t.Errorf("asked DNS for an invalid name: %q", q)
			}
		})
	}
}

func TestSyntaxValid(t *testing.T) {
	for _, name := range []string{
		"mail.example.org",
		"MAIL.EXAMPLE.ORG.",
		"a.b",
		"1mail.example.org",
		"mail-1.example.org",
		"xn--mller-kva.example",
		"123.example.org",
		"localhost.example.org", // a name of its own, for DNS to judge
		"mail.example",
		"mail.test",
		strings.Repeat("a", 63) + ".example.org",
		strings.Repeat("abcdefghi.", 25) + "exa", // 253 octets
		strings.Repeat("abcdefghi.", 25) + "exa.",
		"[192.0.2.1]",
		"[IPv6:2001:db8::1]",
		"[IPv6:2001:db8:0:0:0:0:0:1]",
		"[IPv6:::ffff:192.0.2.1]",
	} {
		if code, ok := helo.Syntax(name); !ok || code != "" {
			t.Errorf("Syntax(%q) = %q, %v; want ok", name, code, ok)
		}
	}
}

func TestCheckQuestions(t *testing.T) {
	const ip4, ip6 = "192.0.2.10", "2001:db8::10"
	tests := []struct {
		desc   string
		name   string
		ip     string
		sender string
		asked  []string
	}{
		{"listed TLD, v4 client: A only", "mail.example.org", ip4, "",
			[]string{"A mail.example.org."}},
		{"v6 client: AAAA only", "mail6.example.org", ip6, "",
			[]string{"AAAA mail6.example.org."}},
		{"v4 client, no A: then AAAA", "mail6.example.org", ip4, "",
			[]string{"A mail6.example.org.", "AAAA mail6.example.org."}},
		{"v6 client, no AAAA: then A", "mail.example.org", ip6, "",
			[]string{"AAAA mail.example.org.", "A mail.example.org."}},
		{"NXDOMAIN: no second family", "nothere.example.org", ip4, "",
			[]string{"A nothere.example.org."}},
		{"temporary failure: no second family", "sf.example.org", ip4, "",
			[]string{"A sf.example.org."}},
		{"sender: also MX", "mail.example.org", ip4, "Example.org.",
			[]string{"A mail.example.org.", "MX example.org."}},
		{"unlisted TLD: also its existence", "mail.isp.example", ip4, "",
			[]string{"A mail.isp.example.", "SOA example."}},
		{"invalid sender domain: no MX", "mail.example.org", ip4, "bad domain",
			[]string{"A mail.example.org."}},
		{"literal: nothing", "[192.0.2.10]", ip4, "example.org", nil},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			rec := &resolvertest.Questions{Resolver: newZone(t)}
			helo.Check(context.Background(), rec, tc.name, netip.MustParseAddr(tc.ip), &helo.Options{SenderDomain: tc.sender})
			want := slices.Clone(tc.asked)
			slices.Sort(want)
			if got := rec.Asked(); !slices.Equal(got, want) {
				t.Errorf("asked %q, want %q", got, want)
			}
		})
	}
}

func TestCheckContext(t *testing.T) {
	z := newZone(t)
	z.Timeout = time.Minute // only the context can end these questions
	ip := netip.MustParseAddr("192.0.2.10")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := helo.Check(ctx, z, "mail.example.org", ip, nil)
	if res.Status != helo.StatusTemperror || !errors.Is(res.Err, context.Canceled) {
		t.Errorf("cancelled: %q %v, want temperror wrapping context.Canceled", res.Status, res.Err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	res = helo.Check(ctx, z, "to.example.org", ip, &helo.Options{SenderDomain: "example.org"})
	if res.Status != helo.StatusTemperror || !resolver.IsTemporary(res.Err) {
		t.Errorf("deadline: %q %v, want temperror", res.Status, res.Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestString(t *testing.T) {
	res := helo.Check(context.Background(), newZone(t), "relay.example.com", netip.MustParseAddr("192.0.2.30"), &helo.Options{SenderDomain: "example.org"})
	s := res.String()
	for _, want := range []string{"helo=pass", `name="relay.example.com"`, "code=match", "other-org=example.com"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
	s = helo.Result{Status: helo.StatusInvalid, Name: "a\nb", Code: helo.CodeSyntax}.String()
	if strings.Contains(s, "\n") {
		t.Errorf("String() = %q: the client's name must be quoted", s)
	}
}

func FuzzSyntax(f *testing.F) {
	for _, s := range []string{
		"mail.example.org", "MAIL.example.org.", "localhost", "192.0.2.1", "[192.0.2.1]",
		"[IPv6:2001:db8::1]", "a..b", "-a.b", "x.invalid", "mail.123", "[x:y]", "",
	} {
		f.Add(s)
	}
	z := resolver.NewZone()
	ip := netip.MustParseAddr("192.0.2.1")
	f.Fuzz(func(t *testing.T, name string) {
		code, ok := helo.Syntax(name)
		if ok != (code == "") {
			t.Fatalf("Syntax(%q) = %q, %v", name, code, ok)
		}
		if ok && !strings.HasPrefix(name, "[") {
			// Every accepted name can be asked.
			if err := resolver.CheckName(name); err != nil {
				t.Fatalf("Syntax(%q) ok but CheckName: %v", name, err)
			}
		}
		if c2, ok2 := helo.Syntax(asciiUpper(name)); c2 != code || ok2 != ok {
			t.Fatalf("Syntax(%q) = %q but upper case %q", name, code, c2)
		}
		if !strings.HasPrefix(name, "[") && !strings.HasSuffix(name, ".") && code != helo.CodeEmpty {
			if c2, _ := helo.Syntax(name + "."); c2 != code {
				t.Fatalf("Syntax(%q) = %q but with dot %q", name, code, c2)
			}
		}
		res := helo.Check(context.Background(), z, name, ip, nil)
		if (res.Status == helo.StatusInvalid && res.Code != helo.CodeUnknownTLD) != !ok {
			t.Fatalf("Check(%q) = %q %q, Syntax ok %v", name, res.Status, res.Code, ok)
		}
	})
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
