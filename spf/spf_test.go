package spf

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// zoneText is the DNS of the table tests.
const zoneText = `
$ORIGIN shop.example.
@               IN TXT  "v=spf1 mx ~all"
@               IN MX   10 mx1.shop.example.
@               IN MX   20 mx2.shop.example.
mx1             IN A    192.0.2.10
mx2             IN AAAA 2001:db8::25
ip              IN TXT  "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 -all"
; Amazon SES style: a custom MAIL FROM subdomain that includes the provider.
mail            IN TXT  "v=spf1 include:amazonses.example ~all"
mail            IN MX   10 feedback-smtp.us-east-1.amazonses.example.
mail-redirect   IN TXT  "v=spf1 redirect=amazonses.example"
helo            IN TXT  "v=spf1 a -all"
helo            IN A    192.0.2.20
two             IN TXT  "v=spf1 ip4:192.0.2.1 -all"
two             IN TXT  "v=spf1 ip4:192.0.2.2 -all"
two             IN TXT  "google-site-verification=abc"
other-txt       IN TXT  "google-site-verification=abc"
other-txt       IN A    192.0.2.30
badip           IN TXT  "v=spf1 ip4:192.0.2.300 -all"
late-error      IN TXT  "v=spf1 ip4:192.0.2.1 -all foo"
badmech         IN TXT  "v=spf1 ip4:192.0.2.1 mx:shop -all"
void            IN TXT  "v=spf1 a:nx1.shop.example a:nx2.shop.example a:nx3.shop.example -all"
nodata          IN TXT  "v=spf1 mx:other-txt.shop.example a:two.shop.example a:badip.shop.example ip4:192.0.2.99 -all"
many            IN TXT  "v=spf1 a:h1.shop.example a:h2.shop.example a:h3.shop.example a:h4.shop.example a:h5.shop.example a:h6.shop.example include:l1.shop.example -all"
l1              IN TXT  "v=spf1 a:h7.shop.example a:h8.shop.example a:h9.shop.example a:h10.shop.example a:h11.shop.example -all"
h1              IN A    203.0.113.1
h2              IN A    203.0.113.2
h3              IN A    203.0.113.3
h4              IN A    203.0.113.4
h5              IN A    203.0.113.5
h6              IN A    203.0.113.6
h7              IN A    203.0.113.7
h8              IN A    203.0.113.8
h9              IN A    203.0.113.9
h10             IN A    203.0.113.10
h11             IN A    203.0.113.11
slowinc         IN TXT  "v=spf1 include:slow.shop.example -all"
; timeout: slow.shop.example.
failinc         IN TXT  "v=spf1 include:broken.shop.example -all"
; servfail: broken.shop.example.
; servfail: servfail.shop.example.
; timeout: timeout.shop.example.
slowa           IN TXT  "v=spf1 a:slow.shop.example -all"
loopa           IN TXT  "v=spf1 a:loop.shop.example -all"
loop            IN CNAME loop.shop.example.
noinc           IN TXT  "v=spf1 include:nothing.shop.example -all"
open            IN TXT  "v=spf1 +all"
open2           IN TXT  "v=spf1 ip4:192.0.2.1 all"
open3           IN TXT  "v=spf1 ?all"
open4           IN TXT  "v=spf1 redirect=open.shop.example"
closed          IN TXT  "v=spf1 ip4:192.0.2.1 -all"
$ORIGIN amazonses.example.
@               IN TXT  "v=spf1 ip4:192.0.2.128/25 ip4:198.51.100.0/24 ip6:2001:db8:5e5::/48 -all"
feedback-smtp.us-east-1 IN A 192.0.2.129
$ORIGIN example.org.
@               IN TXT  "v=spf1 ip4:192.0.2.0/24 -all"
`

func testZone(t *testing.T) *resolver.Zone {
	return resolvertest.Zone(t, zoneText, 50*time.Millisecond)
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestCheck(t *testing.T) {
	z := testZone(t)
	tests := []struct {
		name      string
		ip        string
		helo      string
		mailFrom  string
		opts      *Options
		status    Status
		mechanism string
		path      []Step
		err       error // wrapped by Result.Err, or nil for none
	}{
		// v=spf1 mx ~all
		{name: "mx pass v4", ip: "192.0.2.10", mailFrom: "a@shop.example", status: StatusPass, mechanism: "mx",
			path: []Step{{"shop.example", "mx"}}},
		{name: "mx pass v6", ip: "2001:db8::25", mailFrom: "a@shop.example", status: StatusPass, mechanism: "mx"},
		{name: "mx softfail", ip: "192.0.2.11", mailFrom: "a@shop.example", status: StatusSoftfail, mechanism: "~all"},
		// ip4 / ip6
		{name: "ip4 pass", ip: "198.51.100.200", mailFrom: "a@ip.shop.example", status: StatusPass, mechanism: "ip4:198.51.100.0/24"},
		{name: "ip4-mapped client is IPv4", ip: "::ffff:198.51.100.200", mailFrom: "a@ip.shop.example", status: StatusPass, mechanism: "ip4:198.51.100.0/24"},
		{name: "ip6 pass", ip: "2001:db8:1:2::3", mailFrom: "a@ip.shop.example", status: StatusPass, mechanism: "ip6:2001:db8:1::/48"},
		{name: "ip4 fail", ip: "198.51.101.1", mailFrom: "a@ip.shop.example", status: StatusFail, mechanism: "-all"},
		// Amazon SES style custom MAIL FROM domain.
		{name: "ses include pass", ip: "198.51.100.7", mailFrom: "0100018c-bounce@mail.shop.example", status: StatusPass,
			mechanism: "include:amazonses.example",
			path:      []Step{{"mail.shop.example", "include:amazonses.example"}, {"amazonses.example", "ip4:198.51.100.0/24"}}},
		{name: "ses include no match falls to ~all", ip: "203.0.113.9", mailFrom: "b@mail.shop.example", status: StatusSoftfail, mechanism: "~all",
			path: []Step{{"mail.shop.example", "~all"}}},
		{name: "ses redirect", ip: "192.0.2.200", mailFrom: "b@mail-redirect.shop.example", status: StatusPass,
			mechanism: "redirect=amazonses.example",
			path:      []Step{{"mail-redirect.shop.example", "redirect=amazonses.example"}, {"amazonses.example", "ip4:192.0.2.128/25"}}},
		{name: "ses redirect fail", ip: "192.0.2.1", mailFrom: "b@mail-redirect.shop.example", status: StatusFail,
			mechanism: "redirect=amazonses.example",
			path:      []Step{{"mail-redirect.shop.example", "redirect=amazonses.example"}, {"amazonses.example", "-all"}}},
		// Null reverse-path: the HELO identity.
		{name: "null path helo pass", ip: "192.0.2.20", helo: "helo.shop.example", mailFrom: "", status: StatusPass, mechanism: "a"},
		{name: "null path <> helo fail", ip: "192.0.2.21", helo: "HELO.shop.example.", mailFrom: "<>", status: StatusFail, mechanism: "-all"},
		{name: "null path helo literal", ip: "192.0.2.20", helo: "[192.0.2.20]", mailFrom: "", status: StatusNone},
		// No record.
		{name: "no spf record", ip: "192.0.2.30", mailFrom: "a@other-txt.shop.example", status: StatusNone},
		{name: "nxdomain", ip: "192.0.2.30", mailFrom: "a@nowhere.shop.example", status: StatusNone},
		// permerror.
		{name: "two records", ip: "192.0.2.1", mailFrom: "a@two.shop.example", status: StatusPermerror, err: ErrMultipleRecords},
		{name: "bad ip4", ip: "192.0.2.1", mailFrom: "a@badip.shop.example", status: StatusPermerror, err: ErrSyntax},
		{name: "syntax error after a match", ip: "192.0.2.1", mailFrom: "a@late-error.shop.example", status: StatusPermerror, err: ErrSyntax},
		{name: "single-label domain-spec", ip: "192.0.2.1", mailFrom: "a@badmech.shop.example", status: StatusPermerror, err: ErrSyntax},
		{name: "include without record", ip: "192.0.2.1", mailFrom: "a@noinc.shop.example", status: StatusPermerror, err: ErrNoRecord},
		{name: "cname loop at the record", ip: "192.0.2.1", mailFrom: "a@loop.shop.example", status: StatusPermerror, err: ErrPermanentDNS},
		// RFC 7208 §4.6.4 limits.
		{name: "void lookup limit", ip: "192.0.2.1", mailFrom: "a@void.shop.example", status: StatusPermerror, err: ErrVoidLookupLimit},
		{name: "void lookup limit raised", ip: "192.0.2.1", mailFrom: "a@void.shop.example", opts: &Options{MaxVoidLookups: 3},
			status: StatusFail, mechanism: "-all"},
		{name: "nodata counts as void", ip: "192.0.2.1", mailFrom: "a@nodata.shop.example", status: StatusPermerror, err: ErrVoidLookupLimit},
		{name: "lookup limit", ip: "192.0.2.1", mailFrom: "a@many.shop.example", status: StatusPermerror, err: ErrLookupLimit},
		{name: "lookup limit not reached by a match", ip: "203.0.113.6", mailFrom: "a@many.shop.example", status: StatusPass, mechanism: "a:h6.shop.example"},
		{name: "lookup limit lowered", ip: "203.0.113.6", mailFrom: "a@many.shop.example", opts: &Options{MaxLookups: 5}, status: StatusPermerror, err: ErrLookupLimit},
		{name: "lookup limit raised", ip: "192.0.2.1", mailFrom: "a@many.shop.example", opts: &Options{MaxLookups: 12}, status: StatusFail, mechanism: "-all"},
		// temperror, never fail.
		{name: "servfail at the record", ip: "192.0.2.1", mailFrom: "a@servfail.shop.example", status: StatusTemperror, err: resolver.ErrTemporary},
		{name: "timeout at the record", ip: "192.0.2.1", mailFrom: "a@timeout.shop.example", status: StatusTemperror, err: resolver.ErrTemporary},
		{name: "timeout in include", ip: "192.0.2.1", mailFrom: "a@slowinc.shop.example", status: StatusTemperror, err: ErrTemporary},
		{name: "servfail in include", ip: "192.0.2.1", mailFrom: "a@failinc.shop.example", status: StatusTemperror, err: ErrTemporary},
		{name: "timeout in a", ip: "192.0.2.1", mailFrom: "a@slowa.shop.example", status: StatusTemperror, err: ErrTemporary},
		{name: "cname loop in a", ip: "192.0.2.1", mailFrom: "a@loopa.shop.example", status: StatusTemperror, err: ErrPermanentDNS},
		// Malformed MAIL FROM domains: none, before any DNS.
		{name: "empty label", ip: "192.0.2.1", mailFrom: "a@shop..example", status: StatusNone},
		{name: "NUL not truncated", ip: "192.0.2.1", mailFrom: "a@example.org\x00.evil.test", status: StatusNone},
		{name: "control octet", ip: "192.0.2.1", mailFrom: "a@example.org\r\nX: y", status: StatusNone},
		{name: "space", ip: "192.0.2.1", mailFrom: "a@example .org", status: StatusNone},
		{name: "long label", ip: "192.0.2.1", mailFrom: "a@" + strings.Repeat("x", 64) + ".example.org", status: StatusNone},
		{name: "single label", ip: "192.0.2.1", mailFrom: "a@localhost", status: StatusNone},
		{name: "address literal", ip: "192.0.2.1", mailFrom: "a@[192.0.2.1]", status: StatusNone},
		{name: "bare IP", ip: "192.0.2.1", mailFrom: "a@192.0.2.1", status: StatusNone},
		{name: "non-ASCII", ip: "192.0.2.1", mailFrom: "a@exämple.org", status: StatusNone},
		{name: "kelvin sign not folded to k", ip: "192.0.2.1", mailFrom: "a@\u212Aexample.org", status: StatusNone},
		{name: "empty domain", ip: "192.0.2.1", mailFrom: "a@", status: StatusNone},
		// Reverse-path forms.
		{name: "angle brackets, case, trailing dot", ip: "192.0.2.5", mailFrom: "<User@Example.ORG.>", status: StatusPass, mechanism: "ip4:192.0.2.0/24"},
		{name: "source route", ip: "192.0.2.5", mailFrom: "<@relay.example.net:user@example.org>", status: StatusPass},
		{name: "no local-part", ip: "192.0.2.5", mailFrom: "@example.org", status: StatusPass},
		{name: "quoted local-part with @", ip: "192.0.2.5", mailFrom: `"a@b"@example.org`, status: StatusPass},
		// Invalid client.
		{name: "no client IP", mailFrom: "a@example.org", status: StatusPermerror, err: ErrInvalidIP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ip netip.Addr
			if tc.ip != "" {
				ip = addr(tc.ip)
			}
			res := Check(context.Background(), z, ip, tc.helo, tc.mailFrom, tc.opts)
			if res.Status != tc.status {
				t.Fatalf("status %s, want %s (reason %q, err %v)", res.Status, tc.status, res.Reason, res.Err)
			}
			switch {
			case tc.mechanism != "":
				if res.Mechanism != tc.mechanism {
					t.Errorf("mechanism %q, want %q", res.Mechanism, tc.mechanism)
				}
			case tc.status != StatusPass && tc.status != StatusFail:
				if res.Mechanism != "" {
					t.Errorf("mechanism %q, want none", res.Mechanism)
				}
			}
			if tc.path != nil && !slices.Equal(res.Path, tc.path) {
				t.Errorf("path %v, want %v", res.Path, tc.path)
			}
			if tc.err != nil && !errors.Is(res.Err, tc.err) {
				t.Errorf("err %v, want it to wrap %v", res.Err, tc.err)
			}
			if res.Reason == "" {
				t.Error("empty reason")
			}
			checkInvariants(t, res)
		})
	}
}

func TestCheckFields(t *testing.T) {
	z := testZone(t)
	ctx := context.Background()
	tests := []struct {
		name                   string
		helo, mailFrom         string
		identity               Identity
		domain, sender, record string
	}{
		{"mail from", "helo.shop.example", "<Bounce@Mail.Shop.Example.>", IdentityMailFrom, "mail.shop.example",
			"Bounce@mail.shop.example", "v=spf1 include:amazonses.example ~all"},
		{"no local-part", "helo.shop.example", "@ip.shop.example", IdentityMailFrom, "ip.shop.example",
			"postmaster@ip.shop.example", "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 -all"},
		{"bare domain", "helo.shop.example", "ip.shop.example", IdentityMailFrom, "ip.shop.example",
			"postmaster@ip.shop.example", "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 -all"},
		{"null path", "Helo.Shop.Example", "<>", IdentityHelo, "helo.shop.example",
			"postmaster@helo.shop.example", "v=spf1 a -all"},
		{"no record", "helo.shop.example", "x@other-txt.shop.example", IdentityMailFrom, "other-txt.shop.example",
			"x@other-txt.shop.example", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Check(ctx, z, addr("192.0.2.99"), tc.helo, tc.mailFrom, nil)
			if res.Identity != tc.identity || res.Domain != tc.domain || res.Sender != tc.sender || res.Record != tc.record {
				t.Errorf("got identity %q domain %q sender %q record %q\nwant identity %q domain %q sender %q record %q",
					res.Identity, res.Domain, res.Sender, res.Record, tc.identity, tc.domain, tc.sender, tc.record)
			}
		})
	}
}

func TestCheckHELO(t *testing.T) {
	z := testZone(t)
	tests := []struct {
		helo   string
		ip     string
		status Status
	}{
		{"helo.shop.example", "192.0.2.20", StatusPass},
		{"helo.shop.example.", "192.0.2.21", StatusFail},
		{"HELO.SHOP.EXAMPLE", "192.0.2.20", StatusPass},
		{"[192.0.2.20]", "192.0.2.20", StatusNone},
		{"[IPv6:2001:db8::1]", "2001:db8::1", StatusNone},
		{"192.0.2.20", "192.0.2.20", StatusNone},
		{"localhost", "192.0.2.20", StatusNone},
		{"", "192.0.2.20", StatusNone},
		{"helo..shop.example", "192.0.2.20", StatusNone},
		{"other-txt.shop.example", "192.0.2.30", StatusNone},
		{"timeout.shop.example", "192.0.2.30", StatusTemperror},
	}
	for _, tc := range tests {
		t.Run(tc.helo, func(t *testing.T) {
			res := CheckHELO(context.Background(), z, addr(tc.ip), tc.helo, nil)
			if res.Status != tc.status {
				t.Fatalf("status %s, want %s (%s)", res.Status, tc.status, res.Reason)
			}
			if res.Identity != IdentityHelo {
				t.Errorf("identity %q", res.Identity)
			}
			checkInvariants(t, res)
		})
	}
}

func TestPermissive(t *testing.T) {
	z := testZone(t)
	tests := []struct {
		domain     string
		permissive bool
		status     Status
	}{
		{"open.shop.example", true, StatusPass},
		{"open2.shop.example", true, StatusPass},    // "all" without qualifier is +all
		{"open3.shop.example", true, StatusNeutral}, // ?all
		{"open4.shop.example", true, StatusPass},    // redirect= to a +all record
		{"closed.shop.example", false, StatusFail},
		{"shop.example", false, StatusSoftfail},
		{"mail-redirect.shop.example", false, StatusFail},
		{"other-txt.shop.example", false, StatusNone},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			res := Check(context.Background(), z, addr("203.0.113.50"), "helo.shop.example", "x@"+tc.domain, nil)
			if res.Status != tc.status || res.Permissive != tc.permissive {
				t.Errorf("status %s permissive %v, want %s %v", res.Status, res.Permissive, tc.status, tc.permissive)
			}
		})
	}
}

func TestContextCancelled(t *testing.T) {
	z := testZone(t)
	z.Timeout = time.Minute // only the context can end the wait

	t.Run("deadline during a lookup", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		res := Check(ctx, z, addr("192.0.2.1"), "helo.shop.example", "a@slowinc.shop.example", nil)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
		if res.Status != StatusTemperror {
			t.Fatalf("status %s, want temperror (%s)", res.Status, res.Reason)
		}
		if !errors.Is(res.Err, context.DeadlineExceeded) || !errors.Is(res.Err, ErrTemporary) {
			t.Errorf("err %v does not wrap the deadline and ErrTemporary", res.Err)
		}
	})
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := Check(ctx, z, addr("192.0.2.10"), "helo.shop.example", "a@shop.example", nil)
		if res.Status != StatusTemperror || !errors.Is(res.Err, context.Canceled) {
			t.Errorf("status %s err %v, want temperror wrapping context.Canceled", res.Status, res.Err)
		}
	})
	t.Run("cancelled during a lookup", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		start := time.Now()
		res := Check(ctx, z, addr("192.0.2.1"), "helo.shop.example", "a@timeout.shop.example", nil)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
		if res.Status != StatusTemperror || !errors.Is(res.Err, context.Canceled) {
			t.Errorf("status %s err %v, want temperror wrapping context.Canceled", res.Status, res.Err)
		}
	})
}

func TestAuthResult(t *testing.T) {
	z := testZone(t)
	ctx := context.Background()
	tests := []struct {
		name string
		res  Result
		want []string // substrings of the formatted field
		not  []string
	}{
		{"mailfrom pass", Check(ctx, z, addr("192.0.2.10"), "helo.shop.example", "bounce@shop.example", nil),
			[]string{"spf=pass", "smtp.mailfrom=bounce@shop.example"}, []string{"smtp.helo"}},
		{"helo fail", Check(ctx, z, addr("192.0.2.21"), "helo.shop.example", "", nil),
			[]string{"spf=fail", "smtp.helo=helo.shop.example"}, []string{"smtp.mailfrom"}},
		{"none, hostile input", Check(ctx, z, addr("192.0.2.21"), "helo.shop.example", "a@x\r\nInjected: yes", nil),
			[]string{"spf=none", "reason="}, []string{"\r", "\n", "smtp.mailfrom"}},
		{"temperror", Check(ctx, z, addr("192.0.2.1"), "helo.shop.example", "a@servfail.shop.example", nil),
			[]string{"spf=temperror", "reason="}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ar := tc.res.AuthResult()
			spf, ok := ar.(*authres.SPFResult)
			if !ok {
				t.Fatalf("AuthResult is %T", ar)
			}
			if string(spf.Value) != string(tc.res.Status) {
				t.Errorf("value %q, want %q", spf.Value, tc.res.Status)
			}
			field := authres.Format("mx.shop.example", []authres.Result{ar})
			for _, w := range tc.want {
				if !strings.Contains(field, w) {
					t.Errorf("%q lacks %q", field, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(field, n) {
					t.Errorf("%q contains %q", field, n)
				}
			}
			// The field must parse back to the same result.
			_, parsed, err := authres.Parse(field)
			if err != nil {
				t.Fatalf("Parse(%q): %v", field, err)
			}
			if len(parsed) != 1 {
				t.Fatalf("Parse(%q): %d results", field, len(parsed))
			}
			back, ok := parsed[0].(*authres.SPFResult)
			// authres.Parse splits at spaces, even in quoted strings: the
			// reason does not survive it, the rest must.
			if !ok || back.Value != spf.Value || back.From != spf.From || back.Helo != spf.Helo {
				t.Errorf("round trip: %+v, want %+v", parsed[0], spf)
			}
		})
	}
}

// TestConcurrent runs checks side by side on one Zone: an evaluator and
// its counters belong to one check.
func TestConcurrent(t *testing.T) {
	z := testZone(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip, want := "192.0.2.10", StatusPass
			if i%2 == 1 {
				ip, want = "203.0.113.1", StatusSoftfail
			}
			res := Check(context.Background(), z, addr(ip), "helo.shop.example", "a@mail.shop.example", nil)
			if i%2 == 0 {
				res = Check(context.Background(), z, addr(ip), "helo.shop.example", "a@shop.example", nil)
			}
			if res.Status != want {
				t.Errorf("goroutine %d: %s, want %s", i, res.Status, want)
			}
		}()
	}
	wg.Wait()
}
