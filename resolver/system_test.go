package resolver_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

// systemOver returns a System whose Go resolver talks to srv only.
func systemOver(srv *resolvertest.Server) *resolver.System {
	return &resolver.System{
		TTL: 30,
		Resolver: &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, srv.Addr())
			},
		},
	}
}

// TestSystemOverServer exercises System for real: the Go resolver, told to
// dial the loopback test server.
func TestSystemOverServer(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	s := systemOver(srv)
	ctx := context.Background()

	txt, ans, err := resolver.TXT(ctx, s, "split.example.org.")
	require.NoError(t, err)
	assert.Equal(t, []string{"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEF"}, txt)
	assert.Equal(t, uint32(30), ans.TTL, "the fixed TTL")

	ips, ans, err := resolver.Addrs(ctx, s, "alias.example.org.", dns.TypeA)
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.10")}, ips)
	assert.Empty(t, ans.CNAMEs, "System does not see the chain")
	ips, _, err = resolver.Addrs(ctx, s, "mail.example.org.", dns.TypeAAAA)
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("2001:db8::10")}, ips)

	mx, _, err := resolver.MX(ctx, s, "example.org.")
	require.NoError(t, err)
	require.Len(t, mx, 1)
	assert.Equal(t, "mail.example.org.", mx[0].Mx)

	names, _, err := resolver.PTR(ctx, s, netip.MustParseAddr("192.0.2.10"))
	require.NoError(t, err)
	assert.Equal(t, []string{"mail.example.org."}, names)

	ans, err = s.Lookup(ctx, "alias.example.org.", dns.TypeCNAME)
	require.NoError(t, err)
	require.Len(t, ans.Records, 1)
	assert.Equal(t, "mail.example.org.", ans.Records[0].(*dns.CNAME).Target)

	// NXDOMAIN; NODATA where the name has addresses; NXDOMAIN (the
	// documented limit) where it has none.
	cases := []struct {
		name  string
		qtype uint16
		nx    bool
	}{
		{"nope.example.org.", dns.TypeTXT, true},
		{"nope.example.org.", dns.TypeA, true},
		{"mail.example.org.", dns.TypeTXT, false},
		{"mail.example.org.", dns.TypeMX, false},
		{"a.b.example.", dns.TypeAAAA, false},
		{"example.org.", dns.TypeA, true}, // exists, but without addresses
	}
	for _, tc := range cases {
		ans, err := s.Lookup(ctx, tc.name, tc.qtype)
		require.NoError(t, err, tc.name)
		assert.True(t, ans.Empty(), tc.name)
		assert.Equal(t, tc.nx, ans.NXDomain(), "%s %s", tc.name, resolver.TypeString(tc.qtype))
	}

	_, err = s.Lookup(ctx, "example.org.", dns.TypeSOA)
	assert.True(t, errors.Is(err, resolver.ErrPermanent), "unsupported type: %v", err)
	_, err = s.Lookup(ctx, "mail.example.org.", dns.TypePTR)
	assert.True(t, errors.Is(err, resolver.ErrPermanent), "PTR of a non-reverse name: %v", err)
}

// TestSystemFaults: SERVFAIL, REFUSED and silence are temporary through
// the Go resolver too.
func TestSystemFaults(t *testing.T) {
	srv := resolvertest.Start(t, testZone(t))
	srv.Servfail("servfail.example.org.")
	srv.Refused("refused.example.org.")
	srv.Drop("drop.example.org.")
	s := systemOver(srv)
	for _, name := range []string{"servfail.example.org.", "refused.example.org.", "drop.example.org."} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := s.Lookup(ctx, name, dns.TypeTXT)
		cancel()
		assert.True(t, errors.Is(err, resolver.ErrTemporary), "%s: %v", name, err)
	}
}

func TestDefault(t *testing.T) {
	a, b := resolver.Default(), resolver.Default()
	require.NotSame(t, a, b, "no shared state")
	_, ok := a.Resolver.(*resolver.System)
	assert.True(t, ok)
	// Invalid names fail before any question is sent.
	_, err := a.Lookup(context.Background(), "bad name.example.", dns.TypeA)
	assert.True(t, errors.Is(err, resolver.ErrPermanent))
}
