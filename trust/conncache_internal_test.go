package trust

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
)

func TestConnCacheExpiryAndBound(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	c := newConnCache(2)
	k := func(i int) connKey { return connKey{ip: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})} }
	c.put(k(1), &connResults{expires: now.Add(time.Minute)}, now)
	require.NotNil(t, c.get(k(1), now.Add(59*time.Second)), "fresh")
	require.Nil(t, c.get(k(1), now.Add(time.Minute)), "expired at its TTL")
	for i := range 5 {
		c.put(k(i), &connResults{expires: now.Add(time.Hour)}, now)
	}
	require.LessOrEqual(t, len(c.m), 2, "bounded")
	require.NotNil(t, c.get(k(4), now), "the newest is kept")
	require.Nil(t, newConnCache(-1), "negative keeps none")
	require.Nil(t, newConnCache(-1).get(k(1), now))
	require.Equal(t, DefaultConnCache, newConnCache(0).max, "zero is the default size")
}

func TestMemoExpiry(t *testing.T) {
	z := resolvertest.Zone(t, `
$ORIGIN example.com.
a      300  IN A   192.0.2.1
b      60   IN A   192.0.2.2
c      0    IN A   192.0.2.3
long   9999 IN A   192.0.2.4
; servfail: sf
`, 20*time.Millisecond)
	start := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	tests := []struct {
		desc  string
		names []string
		ok    bool
		want  time.Duration
	}{
		{"smallest TTL", []string{"a", "b"}, true, time.Minute},
		{"capped", []string{"long"}, true, maxConnAge},
		{"no question: the cap", nil, true, maxConnAge},
		{"NXDOMAIN is an answer", []string{"a", "nothere"}, true, 0}, // its TTL is the SOA minimum
		{"zero TTL: not kept", []string{"a", "c"}, false, 0},
		{"a failed question: not kept", []string{"a", "sf"}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m := resolver.NewMemo(z, 0)
			for _, n := range tc.names {
				_, _ = m.Lookup(ctx, n+".example.com.", dns.TypeA)
			}
			exp, ok := memoExpiry(ctx, m, start)
			require.Equal(t, tc.ok, ok)
			if ok && tc.want > 0 {
				require.Equal(t, start.Add(tc.want), exp)
			}
			if ok {
				require.True(t, exp.After(start) && !exp.After(start.Add(maxConnAge)))
			}
		})
	}
	m := resolver.NewMemo(z, 1)
	_, _ = m.Lookup(ctx, "a.example.com.", dns.TypeA)
	_, _ = m.Lookup(ctx, "b.example.com.", dns.TypeA)
	_, ok := memoExpiry(ctx, m, start)
	require.False(t, ok, "budget spent: not kept")
}
