package spf

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

const adapterZone = `
$ORIGIN adapter.example.
spf             IN TXT  "v=spf1 -all"
spf             IN TXT  "some other record"
split           IN TXT  "v=spf1 " "ip4:192.0.2.1 -all"
nospf           IN TXT  "v=spf10 -all"
nospf           IN TXT  "hello"
two             IN TXT  "v=spf1 -all"
two             IN TXT  "V=SPF1 -all"
bad             IN TXT  "v=spf1 ip4:192.0.2.1 -all moo"
aonly           IN A    192.0.2.1
v6only          IN AAAA 2001:db8::1
dual            IN A    192.0.2.2
dual            IN AAAA 2001:db8::2
mapped          IN AAAA ::ffff:192.0.2.3
mapped          IN AAAA 2001:db8::3
mx              IN MX   10 Mail.Adapter.Example.
mx              IN MX   20 .
loop            IN CNAME loop.adapter.example.
*.wild          IN TXT  "v=spf1 -all"
; servfail: servfail.adapter.example.
; timeout: timeout.adapter.example.
$ORIGIN 2.0.192.in-addr.arpa.
1               IN PTR  Host.Adapter.Example.
1               IN PTR  other.adapter.example.
$ORIGIN 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.
1               IN PTR  v6.adapter.example.
`

func adapterFor(t *testing.T, client string) *adapter {
	t.Helper()
	z := resolver.NewZone()
	if err := z.ReadMasterFile(strings.NewReader(adapterZone), ".", "adapter_test"); err != nil {
		t.Fatal(err)
	}
	z.Timeout = 20 * time.Millisecond
	return newAdapter(z, addr(client).Unmap())
}

// outcome classifies an answer the way blitiri does.
type outcome int

const (
	answered  outcome = iota // records, nil error
	empty                    // no records, nil error: NODATA, a void lookup
	notFound_                // *net.DNSError with IsNotFound
	temporary                // *net.DNSError with IsTemporary
	timedOut                 // *net.DNSError with IsTimeout and IsTemporary
	permanent                // any other error
)

func classifyAnswer(n int, err error) outcome {
	if err == nil {
		if n == 0 {
			return empty
		}
		return answered
	}
	de, ok := err.(*net.DNSError) // blitiri's own test: a type assertion
	switch {
	case ok && de.IsNotFound:
		return notFound_
	case ok && de.IsTimeout && de.IsTemporary:
		return timedOut
	case ok && de.IsTemporary:
		return temporary
	}
	return permanent
}

func TestAdapterTXT(t *testing.T) {
	long := strings.Repeat("x.", 140) + "wild.adapter.example" // 300 octets
	tests := []struct {
		name string
		want outcome
		txt  []string
		err  error
	}{
		{"spf.adapter.example", answered, []string{"v=spf1 -all"}, nil},
		{"SPF.Adapter.Example.", answered, []string{"v=spf1 -all"}, nil},
		{"split.adapter.example", answered, []string{"v=spf1 ip4:192.0.2.1 -all"}, nil},
		{"nospf.adapter.example", empty, nil, nil},
		{"aonly.adapter.example", empty, nil, nil},
		{"nothing.adapter.example", notFound_, nil, nil},
		{"two.adapter.example", permanent, nil, ErrMultipleRecords},
		{"bad.adapter.example", permanent, nil, ErrSyntax},
		{"loop.adapter.example", permanent, nil, ErrPermanentDNS},
		{"servfail.adapter.example", temporary, nil, resolver.ErrTemporary},
		{"timeout.adapter.example", timedOut, nil, resolver.ErrTemporary},
		{"empty..label.example", notFound_, nil, nil},
		{"nul\x00.adapter.example", notFound_, nil, nil},
		{"", notFound_, nil, nil},
		// RFC 7208 §7.3: labels are removed on the left until it fits.
		{long, answered, []string{"v=spf1 -all"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := adapterFor(t, "192.0.2.1")
			txt, err := a.LookupTXT(context.Background(), tc.name)
			if got := classifyAnswer(len(txt), err); got != tc.want {
				t.Fatalf("outcome %d, want %d (txt %q, err %v)", got, tc.want, txt, err)
			}
			if !slices.Equal(txt, tc.txt) {
				t.Errorf("txt %q, want %q", txt, tc.txt)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("err %v does not wrap %v", err, tc.err)
			}
		})
	}
}

func TestAdapterIPAddr(t *testing.T) {
	tests := []struct {
		client, name string
		want         outcome
		ips          []string
	}{
		// An IPv4 client asks A only (RFC 7208 §5.3).
		{"192.0.2.9", "aonly.adapter.example", answered, []string{"192.0.2.1"}},
		{"192.0.2.9", "v6only.adapter.example", empty, nil},
		{"192.0.2.9", "dual.adapter.example", answered, []string{"192.0.2.2"}},
		{"::ffff:192.0.2.9", "dual.adapter.example", answered, []string{"192.0.2.2"}},
		{"192.0.2.9", "nothing.adapter.example", notFound_, nil},
		{"192.0.2.9", "servfail.adapter.example", temporary, nil},
		{"192.0.2.9", "timeout.adapter.example", timedOut, nil},
		{"192.0.2.9", "bad name", notFound_, nil},
		// An IPv6 client asks both; mapped AAAA records are dropped.
		{"2001:db8::9", "dual.adapter.example", answered, []string{"192.0.2.2", "2001:db8::2"}},
		{"2001:db8::9", "aonly.adapter.example", answered, []string{"192.0.2.1"}},
		{"2001:db8::9", "mapped.adapter.example", answered, []string{"2001:db8::3"}},
		{"2001:db8::9", "spf.adapter.example", empty, nil},
		{"2001:db8::9", "nothing.adapter.example", notFound_, nil},
		{"2001:db8::9", "servfail.adapter.example", temporary, nil},
	}
	for _, tc := range tests {
		t.Run(tc.client+" "+tc.name, func(t *testing.T) {
			a := adapterFor(t, tc.client)
			ips, err := a.LookupIPAddr(context.Background(), tc.name)
			if got := classifyAnswer(len(ips), err); got != tc.want {
				t.Fatalf("outcome %d, want %d (ips %v, err %v)", got, tc.want, ips, err)
			}
			var got []string
			for _, ip := range ips {
				got = append(got, ip.IP.String())
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.ips) {
				t.Errorf("ips %v, want %v", got, tc.ips)
			}
		})
	}
}

func TestAdapterMXAndPTR(t *testing.T) {
	a := adapterFor(t, "192.0.2.1")
	ctx := context.Background()

	mxs, err := a.LookupMX(ctx, "mx.adapter.example")
	if err != nil || len(mxs) != 2 || mxs[0].Host != "mail.adapter.example." || mxs[0].Pref != 10 || mxs[1].Host != "." {
		t.Errorf("LookupMX = %+v, %v", mxs, err)
	}
	if mxs, err := a.LookupMX(ctx, "aonly.adapter.example"); classifyAnswer(len(mxs), err) != empty {
		t.Errorf("LookupMX NODATA = %v, %v", mxs, err)
	}
	if mxs, err := a.LookupMX(ctx, "nothing.adapter.example"); classifyAnswer(len(mxs), err) != notFound_ {
		t.Errorf("LookupMX NXDOMAIN = %v, %v", mxs, err)
	}
	if mxs, err := a.LookupMX(ctx, "servfail.adapter.example"); classifyAnswer(len(mxs), err) != temporary {
		t.Errorf("LookupMX SERVFAIL = %v, %v", mxs, err)
	}

	names, err := a.LookupAddr(ctx, "192.0.2.1")
	if err != nil || !slices.Equal(names, []string{"host.adapter.example.", "other.adapter.example."}) {
		t.Errorf("LookupAddr v4 = %q, %v", names, err)
	}
	names, err = a.LookupAddr(ctx, "2001:db8::1")
	if err != nil || !slices.Equal(names, []string{"v6.adapter.example."}) {
		t.Errorf("LookupAddr v6 = %q, %v", names, err)
	}
	if names, err := a.LookupAddr(ctx, "192.0.2.2"); classifyAnswer(len(names), err) != notFound_ {
		t.Errorf("LookupAddr NXDOMAIN = %q, %v", names, err)
	}
	if names, err := a.LookupAddr(ctx, "not an address"); classifyAnswer(len(names), err) != notFound_ {
		t.Errorf("LookupAddr garbage = %q, %v", names, err)
	}
}

func TestAdapterContext(t *testing.T) {
	a := adapterFor(t, "192.0.2.1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	txt, err := a.LookupTXT(ctx, "spf.adapter.example")
	if got := classifyAnswer(len(txt), err); got != timedOut {
		t.Fatalf("outcome %d, want timedOut (err %v)", got, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, resolver.ErrTemporary) {
		t.Errorf("err %v does not wrap the deadline and resolver.ErrTemporary", err)
	}
}

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
