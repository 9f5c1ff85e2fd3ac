package ptr_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/authres"

	"github.com/mailtrust/mailtrust/ptr"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

const testZone = `
$ORIGIN example.org.
mail        IN A     192.0.2.10
mail6       IN AAAA  2001:db8::10
other       IN A     192.0.2.99
noaddr      IN TXT   "no address here"
multi       IN A     192.0.2.13
mail31      IN A     192.0.2.31
classless   IN A     192.0.2.70
v6only      IN AAAA  2001:db8::60
both        IN A     192.0.2.61
both        IN AAAA  2001:db8::61
n3          IN A     192.0.2.80
dup         IN A     192.0.2.14
bad.dyn     IN A     192.0.2.81
; servfail: sf
; timeout: to

$ORIGIN isp.example.
50-2-0-192.dyn   IN A  192.0.2.50
51-2-0-192.dyn   IN A  192.0.2.51

$ORIGIN 2.0.192.in-addr.arpa.
10   IN PTR   MAIL.Example.ORG.
11   IN PTR   noaddr.example.org.
12   IN PTR   other.example.org.
13   IN PTR   other.example.org.
13   IN PTR   multi.example.org.
13   IN PTR   gone.example.org.
14   IN PTR   dup.example.org.
14   IN PTR   DUP.Example.org.
21   IN TXT   "no PTR here"
30   IN PTR   sf.example.org.
31   IN PTR   sf.example.org.
31   IN PTR   mail31.example.org.
32   IN PTR   sf.example.org.
32   IN PTR   other.example.org.
42   IN PTR   to.example.org.
43   IN CNAME 43.2.0.192.in-addr.arpa.
50   IN PTR   50-2-0-192.dyn.isp.example.
51   IN PTR   51-2-0-192.dyn.isp.example.
51   IN PTR   mail.example.org.
52   IN PTR   52-2-0-192.dyn.isp.example.
60   IN PTR   v6only.example.org.
61   IN PTR   both.example.org.
; RFC 2317 classless delegation: the PTR lives below a CNAME.
70   IN CNAME 70.64/26.2.0.192.in-addr.arpa.
70.64/26  IN PTR classless.example.org.
80   IN PTR   n1.example.org.
80   IN PTR   n2.example.org.
80   IN PTR   n3.example.org.
; servfail: 40
; timeout: 41

$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mail6.example.org.
0.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR v6only.example.org.
`

func newZone(t *testing.T) *resolver.Zone {
	return resolvertest.Zone(t, testZone, 50*time.Millisecond)
}

func TestCheck(t *testing.T) {
	z := newZone(t)
	tests := []struct {
		name      string
		ip        string
		opts      *ptr.Options
		status    ptr.Status
		names     []string
		confirmed []string
		generic   string // GenericReason; "" means not generic
		related   string // RelatedDomain; "" means not related
		temporary bool   // Err wraps resolver.ErrTemporary
	}{
		{name: "ipv4 pass", ip: "192.0.2.10", status: ptr.StatusPass,
			names: []string{"mail.example.org."}, confirmed: []string{"mail.example.org."}},
		{name: "ipv4-mapped", ip: "::ffff:192.0.2.10", status: ptr.StatusPass,
			names: []string{"mail.example.org."}, confirmed: []string{"mail.example.org."}},
		{name: "ipv6 nibble pass", ip: "2001:db8::10", status: ptr.StatusPass,
			names: []string{"mail6.example.org."}, confirmed: []string{"mail6.example.org."}},
		{name: "NXDOMAIN none", ip: "192.0.2.20", status: ptr.StatusNone},
		{name: "NODATA none", ip: "192.0.2.21", status: ptr.StatusNone},
		{name: "ipv6 no PTR", ip: "2001:db8::99", status: ptr.StatusNone},
		{name: "PTR name without A", ip: "192.0.2.11", status: ptr.StatusFail,
			names: []string{"noaddr.example.org."}},
		{name: "PTR name with other A", ip: "192.0.2.12", status: ptr.StatusFail,
			names: []string{"other.example.org."}},
		{name: "one of several confirms", ip: "192.0.2.13", status: ptr.StatusPass,
			names:     []string{"other.example.org.", "multi.example.org.", "gone.example.org."},
			confirmed: []string{"multi.example.org."}},
		{name: "one name in two spellings", ip: "192.0.2.14", status: ptr.StatusPass,
			names: []string{"dup.example.org."}, confirmed: []string{"dup.example.org."}},
		{name: "RFC 2317 via CNAME", ip: "192.0.2.70", status: ptr.StatusPass,
			names: []string{"classless.example.org."}, confirmed: []string{"classless.example.org."}},
		{name: "v4 address, name has only AAAA", ip: "192.0.2.60", status: ptr.StatusFail,
			names: []string{"v6only.example.org."}},
		{name: "v6 address, name has only A", ip: "2001:db8::60", status: ptr.StatusPass,
			names: []string{"v6only.example.org."}, confirmed: []string{"v6only.example.org."}},
		{name: "PTR servfail", ip: "192.0.2.40", status: ptr.StatusTemperror, temporary: true},
		{name: "PTR timeout", ip: "192.0.2.41", status: ptr.StatusTemperror, temporary: true},
		{name: "forward servfail only name", ip: "192.0.2.30", status: ptr.StatusTemperror, temporary: true,
			names: []string{"sf.example.org."}},
		{name: "forward servfail, other confirms", ip: "192.0.2.31", status: ptr.StatusPass,
			names:     []string{"sf.example.org.", "mail31.example.org."},
			confirmed: []string{"mail31.example.org."}},
		{name: "forward servfail, other mismatches: never fail", ip: "192.0.2.32",
			status: ptr.StatusTemperror, temporary: true,
			names: []string{"sf.example.org.", "other.example.org."}},
		{name: "forward timeout", ip: "192.0.2.42", status: ptr.StatusTemperror, temporary: true,
			names: []string{"to.example.org."}},
		{name: "CNAME loop at reverse name", ip: "192.0.2.43", status: ptr.StatusPermerror},
		{name: "generic confirmed", ip: "192.0.2.50", status: ptr.StatusPass,
			names:     []string{"50-2-0-192.dyn.isp.example."},
			confirmed: []string{"50-2-0-192.dyn.isp.example."}, generic: "embeds-ip"},
		{name: "generic confirms, proper name does not", ip: "192.0.2.51", status: ptr.StatusPass,
			names:     []string{"51-2-0-192.dyn.isp.example.", "mail.example.org."},
			confirmed: []string{"51-2-0-192.dyn.isp.example."}, generic: "embeds-ip"},
		{name: "generic unconfirmed", ip: "192.0.2.52", status: ptr.StatusFail,
			names: []string{"52-2-0-192.dyn.isp.example."}, generic: "embeds-ip"},
		{name: "related to MAIL FROM domain", ip: "192.0.2.10", status: ptr.StatusPass,
			opts:  &ptr.Options{SenderDomains: []string{"", "Bounce.Example.ORG."}},
			names: []string{"mail.example.org."}, confirmed: []string{"mail.example.org."},
			related: "example.org"},
		{name: "not related", ip: "192.0.2.10", status: ptr.StatusPass,
			opts:  &ptr.Options{SenderDomains: []string{"example.com", "example.net"}},
			names: []string{"mail.example.org."}, confirmed: []string{"mail.example.org."}},
		{name: "unconfirmed name is never related", ip: "192.0.2.12", status: ptr.StatusFail,
			opts:  &ptr.Options{SenderDomains: []string{"example.org"}},
			names: []string{"other.example.org."}},
		{name: "MaxNames bounds the names confirmed", ip: "192.0.2.80", status: ptr.StatusFail,
			opts:  &ptr.Options{MaxNames: 2},
			names: []string{"n1.example.org.", "n2.example.org.", "n3.example.org."}},
		{name: "MaxNames reaches the confirming name", ip: "192.0.2.80", status: ptr.StatusPass,
			opts:      &ptr.Options{MaxNames: 3},
			names:     []string{"n1.example.org.", "n2.example.org.", "n3.example.org."},
			confirmed: []string{"n3.example.org."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			res := ptr.Check(context.Background(), z, ip, tc.opts)
			if res.Status != tc.status {
				t.Errorf("Status = %q, want %q (reason %q, err %v)", res.Status, tc.status, res.Reason, res.Err)
			}
			if res.IP != ip.Unmap() {
				t.Errorf("IP = %v, want %v", res.IP, ip.Unmap())
			}
			if !slices.Equal(res.Names, tc.names) {
				t.Errorf("Names = %q, want %q", res.Names, tc.names)
			}
			if !slices.Equal(res.Confirmed, tc.confirmed) {
				t.Errorf("Confirmed = %q, want %q", res.Confirmed, tc.confirmed)
			}
			if res.Generic != (tc.generic != "") || res.GenericReason != tc.generic {
				t.Errorf("Generic = %v %q, want %q", res.Generic, res.GenericReason, tc.generic)
			}
			if res.Related != (tc.related != "") || res.RelatedDomain != tc.related {
				t.Errorf("Related = %v %q, want %q", res.Related, res.RelatedDomain, tc.related)
			}
			if res.Reason == "" {
				t.Error("empty Reason")
			}
			switch res.Status {
			case ptr.StatusTemperror, ptr.StatusPermerror:
				if !errors.Is(res.Err, ptr.ErrDNS) {
					t.Errorf("Err = %v, want it to wrap ErrDNS", res.Err)
				}
				if resolver.IsTemporary(res.Err) != tc.temporary {
					t.Errorf("IsTemporary(%v) = %v, want %v", res.Err, !tc.temporary, tc.temporary)
				}
			default:
				if res.Err != nil {
					t.Errorf("Err = %v, want nil", res.Err)
				}
			}
		})
	}
}

func TestCheckGenericNeedsAllNames(t *testing.T) {
	z := resolvertest.Zone(t, `
$ORIGIN example.org.
mail                 IN A  192.0.2.90
$ORIGIN isp.example.
90-2-0-192.dyn       IN A  192.0.2.90
$ORIGIN 2.0.192.in-addr.arpa.
90   IN PTR 90-2-0-192.dyn.isp.example.
90   IN PTR mail.example.org.
`, time.Second)
	res := ptr.Check(context.Background(), z, netip.MustParseAddr("192.0.2.90"), nil)
	if res.Status != ptr.StatusPass || len(res.Confirmed) != 2 {
		t.Fatalf("Status %q Confirmed %q, want pass with two names", res.Status, res.Confirmed)
	}
	// A confirmed non-generic name shows an operator configured a server.
	if res.Generic || res.GenericReason != "" {
		t.Errorf("Generic = %v %q, want false", res.Generic, res.GenericReason)
	}
}

func TestCheckInvalidIP(t *testing.T) {
	res := ptr.Check(context.Background(), newZone(t), netip.Addr{}, nil)
	if res.Status != ptr.StatusPermerror || !errors.Is(res.Err, ptr.ErrInvalidIP) || res.Names != nil {
		t.Errorf("got %q %v %q, want permerror, ErrInvalidIP, no names", res.Status, res.Err, res.Names)
	}
}

func TestCheckAsksOnlyNeededQuestions(t *testing.T) {
	tests := []struct {
		name  string
		ip    string
		opts  *ptr.Options
		asked []string
	}{
		{name: "ipv4 asks A only", ip: "192.0.2.61",
			asked: []string{"PTR 61.2.0.192.in-addr.arpa.", "A both.example.org."}},
		{name: "ipv6 asks AAAA only", ip: "2001:db8::10",
			asked: []string{"PTR " + resolver.ReverseName(netip.MustParseAddr("2001:db8::10")), "AAAA mail6.example.org."}},
		{name: "MaxNames bounds the questions", ip: "192.0.2.80", opts: &ptr.Options{MaxNames: 2},
			asked: []string{"PTR 80.2.0.192.in-addr.arpa.", "A n1.example.org.", "A n2.example.org."}},
		{name: "no PTR, no forward question", ip: "192.0.2.20",
			asked: []string{"PTR 20.2.0.192.in-addr.arpa."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &resolvertest.Questions{Resolver: newZone(t)}
			ptr.Check(context.Background(), rec, netip.MustParseAddr(tc.ip), tc.opts)
			got := rec.Asked()
			want := slices.Clone(tc.asked)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("asked %q, want %q", got, want)
			}
		})
	}
}

func TestCheckContext(t *testing.T) {
	z := newZone(t)
	z.Timeout = time.Minute // only the context can end these questions

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		res := ptr.Check(ctx, z, netip.MustParseAddr("192.0.2.10"), nil)
		if res.Status != ptr.StatusTemperror || !errors.Is(res.Err, context.Canceled) {
			t.Errorf("got %q %v, want temperror wrapping context.Canceled", res.Status, res.Err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
	})
	for _, ip := range []string{"192.0.2.41", "192.0.2.42"} { // PTR, then forward timeout
		t.Run("deadline "+ip, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			res := ptr.Check(ctx, z, netip.MustParseAddr(ip), nil)
			if res.Status != ptr.StatusTemperror || !resolver.IsTemporary(res.Err) {
				t.Errorf("got %q %v, want temperror", res.Status, res.Err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestAuthResult(t *testing.T) {
	z := newZone(t)
	tests := []struct {
		ip     string
		value  authres.ResultValue
		header string
	}{
		{"192.0.2.10", authres.ResultPass, "mx.example.net; iprev=pass reason=\"mail.example.org. resolves to 192.0.2.10\" policy.iprev=192.0.2.10"},
		{"192.0.2.12", authres.ResultFail, ""},
		// RFC 8601 §2.7.3: no PTR data is permerror.
		{"192.0.2.20", authres.ResultPermError, ""},
		{"192.0.2.40", authres.ResultTempError, ""},
		{"2001:db8::10", authres.ResultPass, ""},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			res := ptr.Check(context.Background(), z, netip.MustParseAddr(tc.ip), nil)
			ar := res.AuthResult()
			header := authres.Format("mx.example.net", []authres.Result{ar})
			if tc.header != "" && header != tc.header {
				t.Errorf("header\n%s\nwant\n%s", header, tc.header)
			}
			// The header reads back as the same iprev result.
			id, parsed, err := authres.Parse(header)
			if err != nil || id != "mx.example.net" || len(parsed) != 1 {
				t.Fatalf("Parse(%q) = %q, %v, %v", header, id, parsed, err)
			}
			ip, ok := parsed[0].(*authres.IPRevResult)
			if !ok {
				t.Fatalf("parsed %T, want *authres.IPRevResult", parsed[0])
			}
			if ip.Value != tc.value {
				t.Errorf("iprev=%s, want %s", ip.Value, tc.value)
			}
			// An IPv6 address is a quoted pvalue (":" is a tspecial,
			// RFC 8601 §2.2); the parser keeps the quotes.
			if got := strings.Trim(ip.IP, `"`); got != tc.ip {
				t.Errorf("policy.iprev=%s, want %s", ip.IP, tc.ip)
			}
		})
	}
	var zero ptr.Result
	if v := zero.AuthResult().(*authres.IPRevResult).Value; v != authres.ResultPermError {
		t.Errorf("zero Result: iprev=%s, want permerror", v)
	}
}

func TestString(t *testing.T) {
	z := newZone(t)
	res := ptr.Check(context.Background(), z, netip.MustParseAddr("192.0.2.50"), &ptr.Options{SenderDomains: []string{"isp.example"}})
	s := res.String()
	for _, want := range []string{"iprev=pass", "ip=192.0.2.50", "confirmed=50-2-0-192.dyn.isp.example.", "generic=embeds-ip", "related=isp.example"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
}
